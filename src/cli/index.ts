import { Command } from "commander";
import { VERSION } from "../server/version.js";
import { adminCommand } from "./admin.js";
import { artifactsCommand } from "./artifacts.js";
import { auditCommand } from "./audit.js";
import { experimentsCommand } from "./experiments.js";
import { gcCommand } from "./gc.js";
import { importCommand } from "./import.js";
import { deployCommand, deploymentsCommand } from "./deploy.js";
import { modelsCommand } from "./models.js";
import { quickstartCommand } from "./quickstart.js";
import { runsCommand } from "./runs.js";
import { serveCommand } from "./serve.js";
import { serverCommand } from "./server.js";

const program = new Command("keel")
  .description("Keel: self-hosted production ML platform (MLflow-compatible tracking server and more)")
  .version(VERSION)
  .addCommand(serverCommand())
  .addCommand(quickstartCommand())
  .addCommand(serveCommand())
  .addCommand(gcCommand())
  .addCommand(adminCommand())
  .addCommand(auditCommand())
  .addCommand(experimentsCommand())
  .addCommand(runsCommand())
  .addCommand(modelsCommand())
  .addCommand(deployCommand())
  .addCommand(deploymentsCommand())
  .addCommand(artifactsCommand())
  .addCommand(importCommand());

program.parseAsync(process.argv).catch((err: unknown) => {
  console.error(`keel: ${(err as Error).message}`);
  process.exit(1);
});

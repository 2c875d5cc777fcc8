import { Command } from "commander";
import { VERSION } from "../server/version.js";
import { adminCommand } from "./admin.js";
import { auditCommand } from "./audit.js";
import { gcCommand } from "./gc.js";
import { serverCommand } from "./server.js";

const program = new Command("keel")
  .description("Keel: self-hosted production ML platform (MLflow-compatible tracking server and more)")
  .version(VERSION)
  .addCommand(serverCommand())
  .addCommand(gcCommand())
  .addCommand(adminCommand())
  .addCommand(auditCommand());

program.parseAsync(process.argv).catch((err: unknown) => {
  console.error(`keel: ${(err as Error).message}`);
  process.exit(1);
});

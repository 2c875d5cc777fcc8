import { Command, Option } from "commander";
import { dataOption, intArg } from "./options.js";

/**
 * `keel quickstart`: starts `keel server` in process, then trains, logs, registers, deploys and scores a
 * model through it (src/quickstart/demo.ts), prints where to look and keeps serving until Ctrl-C.
 */
export function quickstartCommand(): Command {
  return new Command("quickstart")
    .description(
      "Start a Keel server, train a logistic regression on Fisher's Iris in TypeScript, log the run, register it (iris-classifier@champion), deploy it (iris), score a flower over OIP and /invocations, then keep serving",
    )
    .addOption(new Option("--host <host>", "address to listen on (loopback only: the quickstart server has no auth)").env("KEEL_HOST").default("127.0.0.1"))
    .addOption(new Option("--port <port>", "port to listen on (0: any free port)").env("KEEL_PORT").default(5000).argParser(intArg("--port", 0, 65535)))
    .addOption(dataOption())
    .addOption(new Option("--log-level <level>", "server request log level").choices(["fatal", "error", "warn", "info", "debug", "silent"]).env("KEEL_LOG_LEVEL").default("warn"))
    .option("--no-serve", "exit after the demo instead of serving until Ctrl-C (for tests and CI)")
    .action(async (o) => {
      const { runQuickstart } = await import("../quickstart/cli.js");
      await runQuickstart({ host: o.host, port: o.port, dataDir: o.data, logLevel: o.logLevel, serve: o.serve !== false });
    });
}

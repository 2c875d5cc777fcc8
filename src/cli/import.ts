import { resolve } from "node:path";
import { Command, Option } from "commander";
import { KeelClient, resolveServerUrl } from "../sdk/index.js";
import { sha256 } from "./files.js";
import { type ImportSummary, MlflowImporter } from "./mlflow-import.js";
import { action, checkUrl, clientFor, formatBytes, jsonOption, printJson, UsageError } from "./remote.js";

const normal = (url: string) => url.replace(/\/+$/, "");

function printSummary(s: ImportSummary): void {
  const lines = [
    `experiments: ${s.experiments.created} created, ${s.experiments.reused} existing used${s.experiments.skipped ? `, ${s.experiments.skipped} skipped` : ""}`,
    `runs: ${s.runs.imported} imported, ${s.runs.already_imported} already imported${s.runs.redone ? `, ${s.runs.redone} interrupted import(s) redone` : ""}${s.runs.failed ? `, ${s.runs.failed} failed` : ""}`,
    `metric points: ${s.metric_points}`,
    `artifacts: ${s.artifacts.files} file(s), ${formatBytes(s.artifacts.bytes)}`,
    `registered models: ${s.models.imported} imported (${s.model_versions} version(s)), ${s.models.already_imported} already imported${s.models.redone ? `, ${s.models.redone} redone` : ""}${s.models.skipped ? `, ${s.models.skipped} skipped` : ""}${s.models.failed ? `, ${s.models.failed} failed` : ""}`,
    `state file: ${s.state_file}`,
  ];
  console.log(lines.join("\n"));
}

/** `keel import mlflow --from URL`: an MLflow tracking server's experiments, runs, artifacts and models into Keel. */
export function importCommand(): Command {
  const cmd = new Command("import").description("Import from other tracking servers");
  cmd
    .command("mlflow")
    .description(
      "Copy experiments, runs (params, full metric histories, tags, inputs), artifacts and registered models (versions, stages, tags, aliases) " +
        "from a running MLflow tracking server into Keel through MLflow's REST API. Resumable: run it again to continue or to pick up new runs.",
    )
    .requiredOption("--from <url>", "the MLflow tracking server to read (artifacts need `mlflow server --serve-artifacts`)")
    .option("--to <url>", "the Keel server to write (else KEEL_SERVER_URL, else MLFLOW_TRACKING_URI, else http://127.0.0.1:5000)")
    .addOption(new Option("--server-url <url>", "same as --to").hideHelp())
    .option("--experiments <names>", "comma-separated experiment names to import (default: every active experiment)")
    .option("--state-file <path>", "where progress is recorded (default: ./.keel-import-<hash of from and to>.jsonl)")
    .addOption(new Option("--from-token <token>", "bearer token for the source").env("KEEL_IMPORT_FROM_TOKEN"))
    .addOption(new Option("--from-username <user>", "basic-auth user for the source").env("KEEL_IMPORT_FROM_USERNAME"))
    .addOption(new Option("--from-password <password>", "basic-auth password for the source").env("KEEL_IMPORT_FROM_PASSWORD"))
    .option("--no-progress", "no progress bars")
    .addOption(jsonOption())
    .action(
      action(
        "import mlflow",
        async (o: {
          from: string;
          to?: string;
          serverUrl?: string;
          experiments?: string;
          stateFile?: string;
          fromToken?: string;
          fromUsername?: string;
          fromPassword?: string;
          progress: boolean;
          json: boolean;
        }) => {
          checkUrl(o.from, "--from");
          const from = normal(o.from);
          const to = normal(resolveServerUrl(o.to ?? o.serverUrl));
          if (from === to) throw new UsageError(`--from and --to both name ${from}: import into another server.`);
          const source = new KeelClient({
            url: from,
            ...(o.fromToken ? { token: o.fromToken } : o.fromUsername ? { username: o.fromUsername, password: o.fromPassword ?? "" } : {}),
          });
          const target = clientFor(to);
          const experiments = o.experiments
            ?.split(",")
            .map((s) => s.trim())
            .filter(Boolean);
          const statePath = resolve(o.stateFile ?? `.keel-import-${sha256(`${from}\n${to}`).slice(0, 12)}.jsonl`);
          const importer = new MlflowImporter({ source, target, from, to, experiments, statePath, progress: o.progress, log: (l) => console.error(l) });
          const summary = await importer.run();
          if (o.json) printJson(summary);
          else printSummary(summary);
          if (summary.errors.length) {
            console.error(`keel import mlflow: finished with ${summary.errors.length} error(s); run the same command again to retry what failed.`);
            process.exitCode = 1;
          }
        },
      ),
    );
  return cmd;
}

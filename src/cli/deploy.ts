import { readFileSync } from "node:fs";
import { Command, InvalidArgumentError, Option } from "commander";
import type { Deployment, DeploymentSpecInput } from "../sdk/index.js";
import { intArg } from "./options.js";
import { action, clientFor, formatTime, printJson, printTable, type RemoteOptions, remote, UsageError } from "./remote.js";

interface DeployOptions extends RemoteOptions {
  spec?: string;
  model?: string;
  alias?: string;
  modelVersion?: number;
  maxBatchSize?: number;
  maxQueueDelayMs?: number;
  maxQueueSize?: number;
  timeoutMs?: number;
  predictionLog?: boolean;
  predictionLogSampleRate?: number;
}

function variantRows(d: Deployment) {
  return d.variants.map((v) => [
    v.name,
    v.model,
    v.alias ? `@${v.alias}` : "",
    v.version ?? "",
    v.shadow ? "shadow" : String(v.weight),
    v.ready ? "ready" : v.error ? `error: ${v.error.slice(0, 80)}` : "loading",
    v.queue_depth,
  ]);
}

function printDeployment(d: Deployment): void {
  process.stdout.write(`deployment ${d.name} (updated ${formatTime(d.last_updated_time)})\n`);
  printTable(["VARIANT", "MODEL", "ALIAS", "VERSION", "WEIGHT", "STATE", "QUEUED"], variantRows(d), "(no variants)");
}

/** The spec from --spec (a JSON file, or - for stdin) or from the flags for a one-variant deployment. */
function specFrom(name: string, o: DeployOptions): DeploymentSpecInput {
  if (o.spec) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(o.spec === "-" ? 0 : o.spec, "utf8"));
    } catch (err) {
      throw new UsageError(`--spec ${o.spec}: ${(err as Error).message}`);
    }
    return { ...(parsed as DeploymentSpecInput), name };
  }
  if (!o.model) throw new UsageError("give --model (with --alias or --model-version), or a whole spec with --spec file.json.");
  if ((o.alias === undefined) === (o.modelVersion === undefined)) throw new UsageError("give exactly one of --alias or --model-version.");
  const spec: DeploymentSpecInput = {
    name,
    variants: [{ name: o.alias ?? `v${o.modelVersion}`, model: o.model, ...(o.alias ? { alias: o.alias } : { version: o.modelVersion }) }],
  };
  if (o.maxBatchSize !== undefined || o.maxQueueDelayMs !== undefined) spec.batching = { max_batch_size: o.maxBatchSize, max_queue_delay_ms: o.maxQueueDelayMs };
  if (o.maxQueueSize !== undefined || o.timeoutMs !== undefined) spec.queue = { max_size: o.maxQueueSize, timeout_ms: o.timeoutMs };
  if (o.predictionLog === false || o.predictionLogSampleRate !== undefined) {
    spec.prediction_log = { enabled: o.predictionLog !== false, ...(o.predictionLogSampleRate !== undefined ? { sample_rate: o.predictionLogSampleRate } : {}) };
  }
  return spec;
}

/** `keel deploy <name> …` (create or replace) and `keel deployments list|get|delete`. */
export function deployCommand(): Command {
  return remote(
    new Command("deploy")
      .description("Serve a registered model from keel server: create the deployment, or replace its spec if it exists (no dropped requests)")
      .argument("<name>", "deployment name (also its model name over the Open Inference Protocol)"),
  )
    .option("--spec <file>", "the whole deployment spec as JSON (variants, weights, shadow, sticky, batching, queue, cache, features, prediction_log, runtime); - reads stdin")
    .option("--model <name>", "registered model to serve (one variant)")
    .option("--alias <alias>", "follow this alias (e.g. champion)")
    .addOption(new Option("--model-version <n>", "pin this version (instead of --alias)").argParser(intArg("--model-version", 1, 2 ** 31 - 1)))
    .addOption(new Option("--max-batch-size <n>", "rows per batch").argParser(intArg("--max-batch-size", 1, 65536)))
    .addOption(new Option("--max-queue-delay-ms <ms>", "how long a request may wait for company").argParser(intArg("--max-queue-delay-ms", 0, 10000)))
    .addOption(new Option("--max-queue-size <n>", "requests waiting before 429").argParser(intArg("--max-queue-size", 1, 1_000_000)))
    .addOption(new Option("--timeout-ms <ms>", "default deadline of a queued request").argParser(intArg("--timeout-ms", 1, 600_000)))
    .option("--no-prediction-log", "do not log this deployment's predictions (monitoring reads the log)")
    .addOption(
      new Option("--prediction-log-sample-rate <r>", "log this share of predictions, 0 to 1 (default 1)").argParser((v) => {
        const r = Number(v);
        if (v.trim() === "" || !(r >= 0 && r <= 1)) throw new InvalidArgumentError(`--prediction-log-sample-rate must be a number from 0 to 1; got '${v}'.`);
        return r;
      }),
    )
    .action(
      action("deploy", async (o: DeployOptions, name) => {
        const client = clientFor(o.serverUrl);
        const spec = specFrom(name, o);
        const d = (await client.findDeployment(name)) ? await client.replaceDeployment(spec) : await client.createDeployment(spec);
        if (o.json) printJson(d);
        else {
          printDeployment(d);
          process.stdout.write(`\nOpen Inference Protocol: POST /v2/models/${encodeURIComponent(name)}/infer\nMLflow scoring:          POST /api/keel/v1/deployments/${encodeURIComponent(name)}/invocations\n`);
        }
      }),
    );
}

export function deploymentsCommand(): Command {
  const cmd = new Command("deployments").description("List, show and delete deployments on a Keel server");
  remote(cmd.command("list").description("List deployments and what each variant serves")).action(
    action("deployments list", async (o: RemoteOptions) => {
      const list = await clientFor(o.serverUrl).listDeployments();
      if (o.json) printJson(list);
      else
        printTable(
          ["NAME", "VARIANTS", "UPDATED"],
          list.map((d) => [d.name, d.variants.map((v) => `${v.name}=${v.model}${v.version ? `/v${v.version}` : ""}${v.ready ? "" : " (not ready)"}`).join(", "), formatTime(d.last_updated_time)]),
          "(no deployments)",
        );
    }),
  );
  remote(cmd.command("get").description("Show a deployment's variants, versions, readiness and queues").argument("<name>")).action(
    action("deployments get", async (o: RemoteOptions, name) => {
      const d = await clientFor(o.serverUrl).getDeployment(name);
      if (o.json) printJson(d);
      else printDeployment(d);
    }),
  );
  remote(cmd.command("delete").description("Stop serving and delete a deployment").argument("<name>")).action(
    action("deployments delete", async (o: RemoteOptions, name) => {
      await clientFor(o.serverUrl).deleteDeployment(name);
      if (o.json) printJson({ deleted: name });
      else console.log(`Deleted deployment '${name}'.`);
    }),
  );
  return cmd;
}

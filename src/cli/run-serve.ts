import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { isLoopback } from "../server/config.js";
import { type LocalModel, localModel } from "../serving/local-model.js";
import { ModelLoadError, ModelRuntime } from "../serving/runtime.js";
import { buildServeApp } from "../serving/serve-app.js";
import { gracefulStop } from "./graceful-stop.js";
import { clientFor, describeError } from "./remote.js";
import { parseModelsUri, type RegisteredServing, serveRegistered } from "./serve-registered.js";
import type { ServeConfig } from "./serve.js";

function fail(message: string, code = 2): never {
  console.error(`keel serve: ${message}`);
  process.exit(code);
}

export async function runServe(cfg: ServeConfig): Promise<void> {
  if (!isLoopback(cfg.host) && !cfg.tokenFile && !cfg.insecureNoAuth) {
    fail(
      `Refusing to listen on ${cfg.host} without authentication: anyone who can reach this address could use the model. Pass --token-file <file> (clients then send 'Authorization: Bearer <token>'), bind to 127.0.0.1, or pass --insecure-no-auth (KEEL_INSECURE_NO_AUTH=1) if a trusted network or proxy guards it.`,
    );
  }
  let token: string | undefined;
  if (cfg.tokenFile) {
    try {
      token = readFileSync(cfg.tokenFile, "utf8").trim();
    } catch (err) {
      fail(`cannot read --token-file ${cfg.tokenFile}: ${(err as Error).message}`);
    }
    if (!token || /\s/.test(token)) fail(`--token-file ${cfg.tokenFile} must hold one token (no spaces); it is ${token ? "not one word" : "empty"}.`);
  }
  const registered = cfg.model.startsWith("models:/") ? parseModelsUri(cfg.model) : undefined;
  if (cfg.model.startsWith("models:/") && !registered) fail(`'${cfg.model}' is not a registered model URI: use models:/<name>@<alias> or models:/<name>/<version>.`);
  const name = cfg.name ?? (registered ? registered.name : basename(cfg.model).replace(/\.onnx$/i, ""));
  if (!name || name.includes("/") || name.length > 256) fail(`the model name '${name}' cannot be used in /v2/models/<name>: pick one with --name.`);

  let runtime: ModelRuntime | undefined;
  let remote: RegisteredServing | undefined;
  const runtimeOptions = { intraOpThreads: cfg.intraOpThreads, interOpThreads: cfg.interOpThreads, workerThread: cfg.workerThread };
  const inputPolicy = { allowNonFinite: !cfg.rejectNonFinite };
  try {
    if (registered) {
      // A registered model comes from a Keel server (KEEL_SERVER_URL / MLFLOW_TRACKING_URI, credentials from the usual variables).
      remote = await serveRegistered(clientFor(cfg.serverUrl), registered, name, runtimeOptions, inputPolicy, cfg.batching);
    } else {
      runtime = await ModelRuntime.load({ path: cfg.model }, runtimeOptions);
    }
  } catch (err) {
    fail(err instanceof ModelLoadError ? err.message : `cannot load ${cfg.model}: ${describeError(err)}`);
  }
  const local = runtime ? localModel(runtime, { name, inputPolicy, batching: cfg.batching }) : undefined;
  const model = remote ? remote.model : (local as LocalModel);
  const app = await buildServeApp({ model, token, logger: { level: cfg.logLevel }, maxBodyBytes: cfg.maxBodyBytes });
  if (runtime?.warmup && !runtime.warmup.ok) app.log.warn({ model: name, error: runtime.warmup.error }, "warm-up run failed; the model is served anyway");
  if (runtime?.skippedOutputs.length) app.log.warn({ model: name, outputs: runtime.skippedOutputs }, "outputs that are not tensors are not served");

  gracefulStop(app, cfg.shutdownTimeoutMs, async () => {
    await local?.close();
    await remote?.stop();
  });
  try {
    const address = await app.listen({ host: cfg.host, port: cfg.port });
    remote?.follow(app.log);
    const spec = (s: { name: string; datatype: string; shape: number[] }) => `${s.name}: ${s.datatype}[${s.shape.join(",")}]`;
    app.log.info(
      {
        address,
        model: name,
        ...(remote ? { registered: cfg.model, version: remote.version() } : {}),
        inputs: model.metadata().inputs.map(spec),
        outputs: model.metadata().outputs.map(spec),
        warmup_ms: runtime?.warmup?.ms,
        auth: token !== undefined,
      },
      "keel serve listening",
    );
    if (process.stdout.isTTY) {
      console.log(
        `\n  Serving '${name}' at ${address}\n  Open Inference Protocol: ${address}/v2/models/${encodeURIComponent(name)}/infer\n  MLflow scoring: ${address}/invocations\n`,
      );
    }
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    await local?.close();
    await remote?.stop();
    fail(`cannot listen on ${cfg.host}:${cfg.port}: ${e.code === "EADDRINUSE" ? "the port is in use (pick another with --port)" : e.message}`, 1);
  }
}

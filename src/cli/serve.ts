import { Command, Option } from "commander";
import { envFlag } from "../server/config.js";
import type { BatchingSettings } from "../serving/batched-runtime.js";
import { intArg } from "./options.js";

export interface ServeConfig {
  model: string;
  name?: string;
  host: string;
  port: number;
  intraOpThreads?: number;
  interOpThreads?: number;
  workerThread: boolean;
  tokenFile?: string;
  insecureNoAuth: boolean;
  rejectNonFinite: boolean;
  maxBodyBytes: number;
  logLevel: string;
  shutdownTimeoutMs: number;
  /** Dynamic batching; maxBatchSize 1 and no delay: each request runs alone. */
  batching: BatchingSettings;
  /** Where models:/… come from (else KEEL_SERVER_URL, MLFLOW_TRACKING_URI, http://127.0.0.1:5000). */
  serverUrl?: string;
}

export function serveCommand(): Command {
  return new Command("serve")
    .description(
      "Serve one ONNX model file: Open Inference Protocol v2 (KServe/Triton) under /v2, MLflow scoring at /invocations (/ping, /health, /version); no database",
    )
    .argument("<model>", "a .onnx file, or a registered model on a Keel server: models:/<name>@<alias> (follows the alias) or models:/<name>/<version>")
    .addOption(new Option("--server-url <url>", "the Keel server models:/… come from (credentials: KEEL_TOKEN or MLFLOW_TRACKING_TOKEN)").env("KEEL_SERVER_URL"))
    .addOption(new Option("--name <name>", "model name in /v2/models/<name> (default: the file name without .onnx)").env("KEEL_SERVE_NAME"))
    .addOption(new Option("--host <host>", "address to listen on").env("KEEL_SERVE_HOST").default("127.0.0.1"))
    .addOption(new Option("--port <port>", "port to listen on").env("KEEL_SERVE_PORT").default(8080).argParser(intArg("--port", 0, 65535)))
    .addOption(
      new Option("--intra-op-threads <n>", "threads one inference may use (0: onnxruntime's default, one per core)")
        .env("KEEL_INTRA_OP_THREADS")
        .argParser(intArg("--intra-op-threads", 0, 1024)),
    )
    .addOption(
      new Option("--inter-op-threads <n>", "threads running independent parts of the graph in parallel (0: sequential)")
        .env("KEEL_INTER_OP_THREADS")
        .argParser(intArg("--inter-op-threads", 0, 1024)),
    )
    .addOption(
      new Option("--worker-thread", "run the model on a thread of its own, so HTTP work overlaps with inference (for models that take milliseconds per batch)")
        .env("KEEL_WORKER_THREAD")
        .default(false),
    )
    .addOption(
      new Option("--max-batch-size <rows>", "dynamic batching: rows (dim 0) per onnxruntime run; 1 turns batching off")
        .env("KEEL_MAX_BATCH_SIZE")
        .default(64)
        .argParser(intArg("--max-batch-size", 1, 65536)),
    )
    .addOption(
      new Option("--max-queue-delay-ms <ms>", "dynamic batching: how long the oldest queued request waits for company")
        .env("KEEL_MAX_QUEUE_DELAY_MS")
        .default(2)
        .argParser(intArg("--max-queue-delay-ms", 0, 10000)),
    )
    .addOption(
      new Option("--max-queue-size <n>", "requests waiting for the model; one more is answered 429 with Retry-After")
        .env("KEEL_MAX_QUEUE_SIZE")
        .default(1024)
        .argParser(intArg("--max-queue-size", 1, 1000000)),
    )
    .addOption(
      new Option("--queue-timeout-ms <ms>", "a queued request's deadline when it sends no Keel-Timeout-Ms header; past it: 503, never run")
        .env("KEEL_QUEUE_TIMEOUT_MS")
        .default(10000)
        .argParser(intArg("--queue-timeout-ms", 1, 600000)),
    )
    .addOption(new Option("--token-file <file>", "require 'Authorization: Bearer <token>' on every route but health checks; the file holds the token").env("KEEL_SERVE_TOKEN_FILE"))
    .addOption(new Option("--insecure-no-auth", "allow a non-loopback --host without --token-file (env: KEEL_INSECURE_NO_AUTH=1)").default(false))
    .addOption(new Option("--reject-non-finite", "answer 400 to NaN or Infinity in floating-point inputs (default: passed to the model)").default(false))
    .addOption(
      new Option("--max-body-size <bytes>", "largest request body; larger ones get 413")
        .env("KEEL_SERVE_MAX_BODY_SIZE")
        .default(64 * 1024 * 1024)
        .argParser(intArg("--max-body-size", 1024, 2 ** 31 - 1)),
    )
    .addOption(new Option("--log-level <level>", "request log level").choices(["fatal", "error", "warn", "info", "debug", "silent"]).env("KEEL_LOG_LEVEL").default("info"))
    .addOption(
      new Option("--shutdown-timeout <ms>", "on SIGTERM/SIGINT, how long to let in-flight requests finish")
        .env("KEEL_SHUTDOWN_TIMEOUT_MS")
        .default(15000)
        .argParser(intArg("--shutdown-timeout", 0, 600000)),
    )
    .action(async (model: string, o) => {
      const cfg: ServeConfig = {
        model,
        serverUrl: o.serverUrl,
        name: o.name,
        host: o.host,
        port: o.port,
        intraOpThreads: o.intraOpThreads,
        interOpThreads: o.interOpThreads,
        workerThread: o.workerThread === true,
        tokenFile: o.tokenFile,
        batching: {
          maxBatchSize: o.maxBatchSize,
          maxQueueDelayMs: o.maxBatchSize > 1 ? o.maxQueueDelayMs : 0,
          preferredBatchSizes: [],
          maxQueueSize: o.maxQueueSize,
          defaultTimeoutMs: o.queueTimeoutMs,
        },
        insecureNoAuth: o.insecureNoAuth === true || envFlag(process.env.KEEL_INSECURE_NO_AUTH),
        rejectNonFinite: o.rejectNonFinite === true,
        maxBodyBytes: o.maxBodySize,
        logLevel: o.logLevel,
        shutdownTimeoutMs: o.shutdownTimeout,
      };
      // Loaded on demand: `keel --help` and the tracking server never load onnxruntime.
      const { runServe } = await import("./run-serve.js");
      await runServe(cfg);
    });
}

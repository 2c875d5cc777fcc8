import { Command, Option } from "commander";
import { envFlag, type ServerConfig } from "../server/config.js";
import { artifactsOption, dataOption, databaseUrlOption, durabilityOption, intArg, s3EndpointOption } from "./options.js";

export function serverCommand(): Command {
  return new Command("server")
    .description("Run the Keel server: MLflow-compatible tracking API, Keel API (/api/keel/v1, docs at /docs), /health, /metrics")
    .addOption(new Option("--host <host>", "address to listen on").env("KEEL_HOST").default("127.0.0.1"))
    .addOption(new Option("--port <port>", "port to listen on").env("KEEL_PORT").default(5000).argParser(intArg("--port", 0, 65535)))
    .addOption(dataOption())
    .addOption(databaseUrlOption())
    .addOption(durabilityOption())
    .addOption(artifactsOption())
    .addOption(s3EndpointOption())
    .addOption(new Option("--log-level <level>", "request log level").choices(["fatal", "error", "warn", "info", "debug", "silent"]).env("KEEL_LOG_LEVEL").default("info"))
    .addOption(new Option("--pool-size <n>", "Postgres connection pool size").env("KEEL_DB_POOL_SIZE").default(10).argParser(intArg("--pool-size", 1, 1000)))
    .addOption(
      new Option("--shutdown-timeout <ms>", "on SIGTERM/SIGINT, how long to let in-flight requests finish")
        .env("KEEL_SHUTDOWN_TIMEOUT_MS")
        .default(15000)
        .argParser(intArg("--shutdown-timeout", 0, 600000)),
    )
    // Not commander's .env(): it would treat KEEL_INSECURE_NO_AUTH=0 as "on". Only 1/true/yes opt in.
    .addOption(new Option("--insecure-no-auth", "allow listening on a non-loopback address without authentication (env: KEEL_INSECURE_NO_AUTH=1)").default(false))
    .addOption(
      new Option("--auth", "require sign-in (API tokens, or username/password) on every route; the first start creates 'admin' (password from KEEL_ADMIN_PASSWORD, else printed once) (env: KEEL_AUTH=1)").default(
        false,
      ),
    )
    .addOption(
      new Option("--default-permission <level>", "with --auth: what users get on experiments and models nobody granted them anything on (creators get MANAGE)")
        .choices(["READ", "EDIT", "MANAGE", "NO_PERMISSIONS"])
        .env("KEEL_DEFAULT_PERMISSION")
        .default("READ"),
    )
    .addOption(new Option("--tls-cert <file>", "serve HTTPS with this PEM certificate (with --tls-key)").env("KEEL_TLS_CERT"))
    .addOption(new Option("--tls-key <file>", "PEM private key for --tls-cert").env("KEEL_TLS_KEY"))
    .addOption(
      new Option("--redis-url <url>", "Redis for instant cross-replica event notifications (registry feed, webhooks); optional, the database is polled anyway").env(
        "KEEL_REDIS_URL",
      ),
    )
    .addOption(
      new Option("--prediction-log-retention-hours <h>", "how long deployments' predictions are kept in the prediction log")
        .env("KEEL_PREDICTION_LOG_RETENTION_HOURS")
        .default(168)
        .argParser(intArg("--prediction-log-retention-hours", 1, 24 * 366 * 10)),
    )
    .addOption(
      new Option("--prediction-log-max-rows <n>", "at most this many predictions are kept (the oldest are deleted first)")
        .env("KEEL_PREDICTION_LOG_MAX_ROWS")
        .default(10_000_000)
        .argParser(intArg("--prediction-log-max-rows", 1000, 2 ** 31 - 1)),
    )
    .action(async (o) => {
      const cfg: ServerConfig = {
        host: o.host,
        port: o.port,
        dataDir: o.data,
        databaseUrl: o.databaseUrl,
        artifacts: o.artifacts,
        s3Endpoint: o.s3Endpoint,
        durability: o.durability,
        logLevel: o.logLevel,
        poolSize: o.poolSize,
        shutdownTimeoutMs: o.shutdownTimeout,
        insecureNoAuth: o.insecureNoAuth === true || envFlag(process.env.KEEL_INSECURE_NO_AUTH),
        auth: o.auth === true || envFlag(process.env.KEEL_AUTH),
        defaultPermission: o.defaultPermission,
        tlsCert: o.tlsCert,
        tlsKey: o.tlsKey,
        redisUrl: o.redisUrl,
        predictionLogRetentionHours: o.predictionLogRetentionHours,
        predictionLogMaxRows: o.predictionLogMaxRows,
      };
      // Loaded on demand so `keel --help` and maintenance commands don't pay for the whole server.
      const { runServer } = await import("./run-server.js");
      await runServer(cfg);
    });
}

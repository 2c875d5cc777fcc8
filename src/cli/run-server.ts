import { DEFAULT_RETENTION } from "../deployments/manager.js";
import { readFileSync } from "node:fs";
import { openArtifactStore } from "../artifacts/open.js";
import { ensureFirstAdmin } from "../governance/index.js";
import { openDatabase } from "../db/database.js";
import { buildApp } from "../server/app.js";
import { checkBindSafety, type ServerConfig } from "../server/config.js";
import { gracefulStop } from "./graceful-stop.js";

/** A started server: listening at `address`; `stop` drains in-flight requests, closes the database and exits the process. */
export interface StartedServer {
  app: Awaited<ReturnType<typeof buildApp>>["app"];
  database: Awaited<ReturnType<typeof openDatabase>>;
  address: string;
  stop: (signal: string) => Promise<void>;
}

export async function runServer(cfg: ServerConfig): Promise<void> {
  const { address } = await startServer(cfg);
  if (process.stdout.isTTY) {
    console.log(
      `\n  Keel is serving at ${address}\n  Web UI: ${address}/\n  MLflow clients: export MLFLOW_TRACKING_URI=${address}${cfg.auth ? " (and MLFLOW_TRACKING_TOKEN=<token>)" : ""}\n  API docs: ${address}/docs\n`,
    );
  }
}

/**
 * What `keel server` does (and `keel quickstart` reuses): open the database and artifact store, build the app,
 * stop gracefully on SIGTERM/SIGINT, listen. Problems a user can fix are printed, prefixed with `who`, and
 * exit the process (2: configuration, 1: cannot listen).
 */
export async function startServer(cfg: ServerConfig, who = "keel server"): Promise<StartedServer> {
  const unsafe = checkBindSafety(cfg);
  if (unsafe) {
    console.error(`${who}: ${unsafe}`);
    process.exit(2);
  }
  const database = await openDatabase({ databaseUrl: cfg.databaseUrl, dataDir: cfg.dataDir, durability: cfg.durability, poolSize: cfg.poolSize });
  let artifacts: Awaited<ReturnType<typeof openArtifactStore>>;
  try {
    artifacts = await openArtifactStore(cfg);
  } catch (err) {
    console.error(`${who}: cannot open the artifact store: ${(err as Error).message}`);
    await database.close();
    process.exit(2);
  }
  let https: { cert: Buffer; key: Buffer } | undefined;
  if (cfg.tlsCert || cfg.tlsKey) {
    if (!cfg.tlsCert || !cfg.tlsKey) {
      console.error("keel server: HTTPS needs both --tls-cert and --tls-key.");
      await database.close();
      process.exit(2);
    }
    try {
      https = { cert: readFileSync(cfg.tlsCert), key: readFileSync(cfg.tlsKey) };
    } catch (err) {
      console.error(`${who}: cannot read the TLS certificate or key: ${(err as Error).message}`);
      await database.close();
      process.exit(2);
    }
  }
  const { app, governance } = await buildApp({
    database,
    artifacts,
    logger: { level: cfg.logLevel },
    auth: { enabled: cfg.auth, defaultPermission: cfg.defaultPermission },
    https,
    redisUrl: cfg.redisUrl,
    predictionLog: {
      maxAgeMs: (cfg.predictionLogRetentionHours ?? DEFAULT_RETENTION.maxAgeMs / 3_600_000) * 3_600_000,
      maxRows: cfg.predictionLogMaxRows ?? DEFAULT_RETENTION.maxRows,
    },
  }).catch(async (err: Error) => {
    console.error(`${who}: ${err.message}`);
    await database.close();
    process.exit(2);
  });
  if (cfg.auth) {
    const created = await ensureFirstAdmin(database, governance, process.env.KEEL_ADMIN_PASSWORD);
    if (created?.generatedPassword) {
      // Printed once, to the terminal or log of whoever started the server; it is stored only as a scrypt hash.
      console.log(`\n  Auth is on. Created user '${created.username}' with password: ${created.generatedPassword}\n  Sign in with it, then create API tokens (keel admin create-token, or POST /api/keel/v1/tokens).\n`);
    } else if (created) {
      app.log.info({ user: created.username }, "auth is on: created the first admin with the password from KEEL_ADMIN_PASSWORD");
    }
  }
  const stop = gracefulStop(app, cfg.shutdownTimeoutMs, () => database.close());
  try {
    const address = await app.listen({ host: cfg.host, port: cfg.port });
    app.log.info({ address, database: database.describe(), artifacts: artifacts.describe() }, "keel server listening");
    return { app, database, address, stop };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    console.error(`${who}: cannot listen on ${cfg.host}:${cfg.port}: ${e.code === "EADDRINUSE" ? "the port is in use (pick another with --port)" : e.message}`);
    await database.close();
    process.exit(1);
  }
}

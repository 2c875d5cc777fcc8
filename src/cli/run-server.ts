import { openArtifactStore } from "../artifacts/open.js";
import { openDatabase } from "../db/database.js";
import { buildApp } from "../server/app.js";
import { checkBindSafety, type ServerConfig } from "../server/config.js";

export async function runServer(cfg: ServerConfig): Promise<void> {
  const unsafe = checkBindSafety(cfg);
  if (unsafe) {
    console.error(`keel server: ${unsafe}`);
    process.exit(2);
  }
  const database = await openDatabase({ databaseUrl: cfg.databaseUrl, dataDir: cfg.dataDir, durability: cfg.durability, poolSize: cfg.poolSize });
  let artifacts: Awaited<ReturnType<typeof openArtifactStore>>;
  try {
    artifacts = await openArtifactStore(cfg);
  } catch (err) {
    console.error(`keel server: cannot open the artifact store: ${(err as Error).message}`);
    await database.close();
    process.exit(2);
  }
  const { app } = await buildApp({ database, artifacts, logger: { level: cfg.logLevel } });
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, "shutting down: draining in-flight requests");
    const force = setTimeout(() => {
      app.log.warn("shutdown timeout reached; exiting with requests still in flight");
      process.exit(1);
    }, cfg.shutdownTimeoutMs);
    force.unref();
    await app.close();
    await database.close();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
  try {
    const address = await app.listen({ host: cfg.host, port: cfg.port });
    app.log.info({ address, database: database.describe(), artifacts: artifacts.describe() }, "keel server listening");
    if (process.stdout.isTTY) {
      console.log(`\n  Keel is serving at ${address}\n  MLflow clients: export MLFLOW_TRACKING_URI=${address}\n  API docs: ${address}/docs\n`);
    }
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    console.error(`keel server: cannot listen on ${cfg.host}:${cfg.port}: ${e.code === "EADDRINUSE" ? "the port is in use (pick another with --port)" : e.message}`);
    await database.close();
    process.exit(1);
  }
}

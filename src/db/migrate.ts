import { type Migration, Migrator } from "kysely";
import type { Database } from "./database.js";
import { migration001 } from "./migrations/001-tracking.js";
import { migration002 } from "./migrations/002-pg-value-prefix-index.js";
import { migration003 } from "./migrations/003-registry.js";
import { migration004 } from "./migrations/004-governance.js";
import { migration005 } from "./migrations/005-model-signatures.js";
import { migration006 } from "./migrations/006-webhooks.js";
import { migration007 } from "./migrations/007-deployments.js";
import { migration008 } from "./migrations/008-metric-tiers.js";
import { migration009 } from "./migrations/009-experiment-keys.js";

/**
 * Runs at every start, so it must be idempotent and safe when several processes start at once.
 * Postgres: Kysely's adapter holds a session advisory lock while it migrates, so replicas take turns.
 * SQLite: Kysely runs migrations outside any transaction there, so two processes opening a fresh file
 * would both create the tables. The whole run goes inside one BEGIN IMMEDIATE instead: the write lock
 * is taken first (waiting out the busy timeout), the others see the finished schema, and a failed
 * migration leaves nothing half-applied.
 */
export async function migrateToLatest(database: Database): Promise<void> {
  const migrations: Record<string, Migration> = {
    "001-tracking": migration001(database.kind),
    "002-pg-value-prefix-index": migration002(database.kind),
    "003-registry": migration003(database.kind),
    "004-governance": migration004(database.kind),
    "005-model-signatures": migration005(database.kind),
    "006-webhooks": migration006(database.kind),
    "007-deployments": migration007(database.kind),
    "008-metric-tiers": migration008(database.kind),
    "009-experiment-keys": migration009(database.kind),
  };
  const migrator = new Migrator({
    db: database.db,
    provider: { getMigrations: async () => migrations },
    migrationTableName: "keel_migration",
    migrationLockTableName: "keel_migration_lock",
  });
  const raw = database.sqlite;
  // Nothing else uses the connection while the database is being opened, so the raw handle is safe here.
  raw?.exec("BEGIN IMMEDIATE");
  let result: Awaited<ReturnType<Migrator["migrateToLatest"]>>;
  try {
    result = await migrator.migrateToLatest();
  } catch (err) {
    if (raw?.inTransaction) raw.exec("ROLLBACK");
    throw err;
  }
  if (result.error) {
    if (raw?.inTransaction) raw.exec("ROLLBACK");
    throw result.error instanceof Error ? result.error : new Error(String(result.error));
  }
  if (raw?.inTransaction) raw.exec("COMMIT");
}

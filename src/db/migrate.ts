import { type Migration, Migrator } from "kysely";
import type { Database } from "./database.js";
import { migration001 } from "./migrations/001-tracking.js";

/**
 * Runs at every start. Kysely's Postgres adapter holds a session advisory lock while it migrates, so
 * replicas starting together take turns; on SQLite the single writer lock does the same job.
 */
export async function migrateToLatest(database: Database): Promise<void> {
  const migrations: Record<string, Migration> = {
    "001-tracking": migration001(database.kind),
  };
  const migrator = new Migrator({
    db: database.db,
    provider: { getMigrations: async () => migrations },
    migrationTableName: "keel_migration",
    migrationLockTableName: "keel_migration_lock",
  });
  const { error } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
}

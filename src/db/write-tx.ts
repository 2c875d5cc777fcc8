import type SQLite from "better-sqlite3";
import type { Kysely, Transaction } from "kysely";
import type { Database } from "./database.js";
import type { DB } from "./types.js";

/**
 * Work that must commit or roll back with every write: the audit chain appends its record here, so a
 * change and its audit record are one transaction. Hooks decide for themselves whether they have
 * anything to add (the audit hook looks at the request it runs in).
 */
export interface CommitHook {
  /** SQLite: runs synchronously on the raw connection while the write transaction is still open. */
  sqlite(raw: SQLite.Database): void;
  /** Postgres: runs on the transaction's connection before COMMIT. */
  postgres(tx: Kysely<DB>): Promise<void>;
}

/** Every write goes through here (or `runCommitHooksSync` inside a raw SQLite transaction). */
export function writeTx<T>(database: Database, fn: (tx: Transaction<DB>) => Promise<T>): Promise<T> {
  return database.db.transaction().execute(async (tx) => {
    const out = await fn(tx);
    await runCommitHooks(database, tx);
    return out;
  });
}

async function runCommitHooks(database: Database, tx: Kysely<DB>): Promise<void> {
  for (const hook of database.commitHooks) {
    // On SQLite the transaction holds the one connection, so the raw handle is inside the same transaction.
    if (database.sqlite) hook.sqlite(database.sqlite);
    else await hook.postgres(tx);
  }
}

/** For hot paths that run their own `raw.transaction(...)` on SQLite. */
export function runCommitHooksSync(database: Database, raw: SQLite.Database): void {
  for (const hook of database.commitHooks) hook.sqlite(raw);
}

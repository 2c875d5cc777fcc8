/**
 * The experiment key catalog (table experiment_keys, migration 009): every metric, param and tag key an
 * experiment's runs have logged, recorded in the transaction that logs them. `GET /experiments/keys` reads
 * it instead of a distinct over every run's rows.
 *
 * It only grows while the experiment lives: a deleted tag, or a run purged by gc, leaves its key listed (the
 * listing is for suggestions; a key no run has left matches nothing). Deleting the experiment removes them.
 */
import type SQLite from "better-sqlite3";
import { type Kysely, sql } from "kysely";
import { chunk, type Dialect } from "../db/dialect.js";
import type { DB, ExperimentKeysTable } from "../db/types.js";
import type { KeySets } from "./store.js";

export type KeyKind = ExperimentKeysTable["kind"];

/** Most keys of one kind listed. */
export const MAX_KEYS = 10_000;

/**
 * A batch's distinct keys, sorted by kind then key: Postgres writers then take the catalog's row locks in
 * one order, so two batches of one experiment never wait on each other in a cycle.
 */
export function batchKeys(metrics: Iterable<{ key: string }>, params: Iterable<{ key: string }>, tags: Iterable<{ key: string }>): [KeyKind, string][] {
  const out: [KeyKind, string][] = [];
  for (const [kind, items] of [
    ["metric", metrics],
    ["param", params],
    ["tag", tags],
  ] as const) {
    const keys = new Set<string>();
    for (const i of items) keys.add(i.key);
    for (const k of [...keys].sort()) out.push([kind, k]);
  }
  return out;
}

/**
 * Records keys for the experiment of run `runId` (written earlier in the same transaction, or before), in
 * one statement per chunk that finds the experiment itself.
 */
export async function recordKeys(tx: Kysely<DB>, dialect: Dialect, runId: string, keys: [KeyKind, string][]): Promise<void> {
  // VALUES names its columns column1, column2 on both databases.
  for (const part of chunk(keys, 2, dialect.maxParams - 1)) {
    await sql`insert into experiment_keys (experiment_id, kind, key)
      select r.experiment_id, v.column1, v.column2 from runs r, (values ${sql.join(part.map(([kind, key]) => sql`(${kind}, ${key})`))}) as v
      where r.run_uuid = ${runId} on conflict do nothing`.execute(tx);
  }
}

/** The SQLite ingest path's statement (store-sqlite-fast.ts): one key for a run's experiment. */
export function recordKeySqlite(raw: SQLite.Database): SQLite.Statement<[KeyKind, string, string]> {
  return raw.prepare("insert into experiment_keys (experiment_id, kind, key) select experiment_id, ?, ? from runs where run_uuid = ? on conflict do nothing");
}

/** The keys of these experiments, each kind sorted by the database's collation (as the rows' own keys were). */
export async function listKeys(db: Kysely<DB>, experimentIds: number[]): Promise<KeySets> {
  const of = async (kind: KeyKind) => {
    const rows = await db
      .selectFrom("experiment_keys")
      .select("key")
      .distinct()
      .where("experiment_id", "in", experimentIds)
      .where("kind", "=", kind)
      .orderBy("key")
      .limit(MAX_KEYS)
      .execute();
    return rows.map((r) => r.key);
  };
  const [metrics, params, tags] = await Promise.all([of("metric"), of("param"), of("tag")]);
  return { metrics, params, tags };
}

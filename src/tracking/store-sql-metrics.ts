import { type Kysely, sql } from "kysely";
import type { Database } from "../db/database.js";
import { chunk, type Dialect } from "../db/dialect.js";
import type { DB } from "../db/types.js";
import { dedupeParams, latestPerKey, paramChanged, toMetricRow } from "./metric-batch.js";
import type { KeyValue, Metric } from "./schema.js";
import type { HistoryQuery, MetricSeries, MetricWithRun, SearchPage } from "./store.js";
import { RUN_NAME_TAG, upsertKeyValues } from "./store-sql.js";

/** log-batch through Kysely (Postgres, and the reference for the SQLite fast path). Runs inside a transaction. */
export async function logBatchKysely(
  tx: Kysely<DB>,
  dialect: Dialect,
  runId: string,
  metrics: Metric[],
  params: KeyValue[],
  tags: KeyValue[],
): Promise<void> {
  const uniqueParams = dedupeParams(runId, params);
  if (uniqueParams.length) {
    await tx
      .insertInto("params")
      .values(uniqueParams.map((p) => ({ run_uuid: runId, key: p.key, value: p.value })))
      .onConflict((oc) => oc.doNothing())
      .execute();
    // Read back after the insert: a concurrent writer's value wins the race and ours is then a change.
    const stored = await tx
      .selectFrom("params")
      .select(["key", "value"])
      .where("run_uuid", "=", runId)
      .where(
        "key",
        "in",
        uniqueParams.map((p) => p.key),
      )
      .execute();
    const byKey = new Map(stored.map((r) => [r.key, r.value]));
    for (const p of uniqueParams) {
      const existing = byKey.get(p.key);
      if (existing !== undefined && existing !== p.value) throw paramChanged(runId, p.key, existing, p.value);
    }
  }
  if (tags.length) {
    await upsertKeyValues(tx, "tags", runId, tags, dialect);
    const rename = tags.filter((t) => t.key === RUN_NAME_TAG).pop();
    if (rename) await tx.updateTable("runs").set({ name: rename.value }).where("run_uuid", "=", runId).execute();
  }
  if (!metrics.length) return;
  const rows = metrics.map((m) => ({ run_uuid: runId, ...toMetricRow(m) }));
  for (const part of chunk(rows, 6, dialect.maxParams)) {
    await tx.insertInto("metrics").values(part).onConflict((oc) => oc.doNothing()).execute();
  }
  const latest = latestPerKey(rows).map((r) => ({ run_uuid: runId, ...r }));
  for (const part of chunk(latest, 6, dialect.maxParams)) {
    await tx
      .insertInto("latest_metrics")
      .values(part)
      .onConflict((oc) =>
        oc
          .columns(["run_uuid", "key"])
          .doUpdateSet({
            step: (eb) => eb.ref("excluded.step"),
            timestamp: (eb) => eb.ref("excluded.timestamp"),
            value: (eb) => eb.ref("excluded.value"),
            is_nan: (eb) => eb.ref("excluded.is_nan"),
          })
          .where(
            sql<boolean>`excluded.step > latest_metrics.step
              or (excluded.step = latest_metrics.step and excluded.timestamp > latest_metrics.timestamp)
              or (excluded.step = latest_metrics.step and excluded.timestamp = latest_metrics.timestamp
                  and (excluded.is_nan > latest_metrics.is_nan or (excluded.is_nan = latest_metrics.is_nan and excluded.value > latest_metrics.value)))`,
          ),
      )
      .execute();
  }
}

/** Metric history for one key over one or more runs, ordered by run, step, timestamp. */
export async function metricHistory(database: Database, q: HistoryQuery): Promise<SearchPage<MetricWithRun>> {
  if (!q.runIds.length) return { items: [] };
  let query = database.db
    .selectFrom("metrics")
    .select(["run_uuid", "key", "step", "timestamp", "value", "is_nan"])
    .where("run_uuid", "in", q.runIds)
    .where("key", "=", q.key);
  if (q.startStep !== undefined) query = query.where("step", ">=", q.startStep);
  if (q.endStep !== undefined) query = query.where("step", "<=", q.endStep);
  const rows = await query
    .orderBy("run_uuid")
    .orderBy("step")
    .orderBy("timestamp")
    .orderBy("is_nan")
    .orderBy("value")
    .limit(q.limit + 1)
    .offset(q.offset)
    .execute();
  const more = rows.length > q.limit;
  if (more) rows.pop();
  const items = rows.map(
    (r): MetricWithRun => ({ key: r.key, value: r.is_nan ? Number.NaN : r.value, timestamp: r.timestamp, step: r.step, run_id: r.run_uuid }),
  );
  return { items, nextOffset: more ? q.offset + q.limit : undefined };
}

/** Reads a history straight into typed arrays: a million points without a million objects on SQLite. */
export async function metricSeries(database: Database, runId: string, key: string): Promise<MetricSeries> {
  if (database.kind === "sqlite") {
    return database.withSqlite((raw) => {
      const count = raw.prepare("select count(*) from metrics where run_uuid = ? and key = ?").pluck().get(runId, key) as number;
      const out = { step: new Float64Array(count), timestamp: new Float64Array(count), value: new Float64Array(count) };
      const stmt = raw.prepare("select step, timestamp, value, is_nan from metrics where run_uuid = ? and key = ? order by step, timestamp, is_nan, value").raw();
      let i = 0;
      for (const row of stmt.iterate(runId, key) as Iterable<[number, number, number, number]>) {
        if (i >= count) break;
        out.step[i] = row[0];
        out.timestamp[i] = row[1];
        out.value[i] = row[3] ? Number.NaN : row[2];
        i++;
      }
      return i === count ? out : { step: out.step.subarray(0, i), timestamp: out.timestamp.subarray(0, i), value: out.value.subarray(0, i) };
    });
  }
  const rows = await database.db
    .selectFrom("metrics")
    .select(["step", "timestamp", "value", "is_nan"])
    .where("run_uuid", "=", runId)
    .where("key", "=", key)
    .orderBy("step")
    .orderBy("timestamp")
    .orderBy("is_nan")
    .orderBy("value")
    .execute();
  const out = { step: new Float64Array(rows.length), timestamp: new Float64Array(rows.length), value: new Float64Array(rows.length) };
  rows.forEach((r, i) => {
    out.step[i] = r.step;
    out.timestamp[i] = r.timestamp;
    out.value[i] = r.is_nan ? Number.NaN : r.value;
  });
  return out;
}

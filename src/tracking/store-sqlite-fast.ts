import type SQLite from "better-sqlite3";
import { batchKeys, type KeyKind, recordKeySqlite } from "./experiment-keys.js";
import type { KeyValue, Metric } from "./schema.js";
import { byKey, dedupeParams, latestPerKey, type MetricRow, paramChanged, toMetricRow } from "./metric-batch.js";
import { tierRows, tierUpsertSql, tierValues } from "./metric-tiers.js";

/**
 * log-batch on SQLite with cached prepared statements in one synchronous transaction: the ingest hot
 * path (measured ~3x faster than building a 1000-row Kysely insert). Same rules as logBatchKysely.
 * Must run inside Database.withSqlite so no Kysely query interleaves with this transaction.
 */
interface Statements {
  insertMetric: SQLite.Statement;
  upsertLatest: SQLite.Statement;
  insertParam: SQLite.Statement;
  getParam: SQLite.Statement;
  upsertTag: SQLite.Statement;
  renameRun: SQLite.Statement;
  upsertTier: SQLite.Statement;
  recordKey: SQLite.Statement<[KeyKind, string, string]>;
}

const cache = new WeakMap<SQLite.Database, Statements>();

function statements(raw: SQLite.Database): Statements {
  let s = cache.get(raw);
  if (!s) {
    s = {
      insertMetric: raw.prepare(
        "insert into metrics (run_uuid, key, step, timestamp, value, is_nan) values (?, ?, ?, ?, ?, ?) on conflict do nothing",
      ),
      upsertLatest: raw.prepare(`insert into latest_metrics (run_uuid, key, step, timestamp, value, is_nan) values (?, ?, ?, ?, ?, ?)
        on conflict (run_uuid, key) do update set step = excluded.step, timestamp = excluded.timestamp, value = excluded.value, is_nan = excluded.is_nan
        where excluded.step > latest_metrics.step
           or (excluded.step = latest_metrics.step and excluded.timestamp > latest_metrics.timestamp)
           or (excluded.step = latest_metrics.step and excluded.timestamp = latest_metrics.timestamp
               and (excluded.is_nan > latest_metrics.is_nan or (excluded.is_nan = latest_metrics.is_nan and excluded.value > latest_metrics.value)))`),
      insertParam: raw.prepare("insert into params (run_uuid, key, value) values (?, ?, ?) on conflict do nothing"),
      getParam: raw.prepare("select value from params where run_uuid = ? and key = ?").pluck(),
      upsertTag: raw.prepare("insert into tags (run_uuid, key, value) values (?, ?, ?) on conflict (run_uuid, key) do update set value = excluded.value"),
      renameRun: raw.prepare("update runs set name = ? where run_uuid = ?"),
      upsertTier: raw.prepare(tierUpsertSql(1, false)),
      recordKey: recordKeySqlite(raw),
    };
    cache.set(raw, s);
  }
  return s;
}

/** `beforeCommit` runs inside the transaction after the rows (the commit hooks: audit). */
export function logBatchSqlite(raw: SQLite.Database, runId: string, metrics: Metric[], params: KeyValue[], tags: KeyValue[], beforeCommit: () => void): void {
  const s = statements(raw);
  // In key order, as on Postgres (byKey): a changed param is then named the same way by both.
  const uniqueParams = dedupeParams(runId, params).sort(byKey);
  const rows = metrics.map(toMetricRow);
  raw.transaction(() => {
    for (const p of uniqueParams) {
      if (s.insertParam.run(runId, p.key, p.value).changes === 0) {
        const existing = s.getParam.get(runId, p.key) as string;
        if (existing !== p.value) throw paramChanged(runId, p.key, existing, p.value);
      }
    }
    for (const t of tags) {
      s.upsertTag.run(runId, t.key, t.value);
      if (t.key === "mlflow.runName") s.renameRun.run(t.value, runId);
    }
    // Only rows actually inserted (not duplicates of stored ones) go into the chart summaries.
    const inserted: MetricRow[] = [];
    for (const r of rows) if (s.insertMetric.run(runId, r.key, r.step, r.timestamp, r.value, r.is_nan).changes) inserted.push(r);
    for (const t of tierRows(inserted)) s.upsertTier.run(...tierValues(runId, t));
    const latest = latestPerKey(rows);
    for (const r of latest) s.upsertLatest.run(runId, r.key, r.step, r.timestamp, r.value, r.is_nan);
    for (const [kind, key] of batchKeys(latest, uniqueParams, tags)) s.recordKey.run(kind, key, runId);
    beforeCommit();
    // IMMEDIATE: the write lock up front, so another connection's write makes this wait, not fail.
  }).immediate();
}

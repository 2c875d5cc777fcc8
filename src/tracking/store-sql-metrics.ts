import { CompiledQuery, type Kysely, sql } from "kysely";
import type { Database } from "../db/database.js";
import { chunk, type Dialect } from "../db/dialect.js";
import type { DB } from "../db/types.js";
import { batchKeys, recordKeys } from "./experiment-keys.js";
import { byKey, byMetricPk, dedupeParams, latestPerKey, type MetricRow, paramChanged, toMetricRow } from "./metric-batch.js";
import { COARSEST_TIER, TIER_COLUMNS, type TierRow, type TierValues, tierCandidates, tierRows, tierUpsertSql, tierValues, tierValuesOf } from "./metric-tiers.js";
import type { KeyValue, Metric } from "./schema.js";
import { cachedStatement } from "../db/statement-cache.js";
import type { HistoryJsonPage, HistoryQuery, MetricColumns, MetricSeries } from "./store.js";
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
  // Every table's rows in key order (byKey): concurrent batches of one run then cannot deadlock.
  const uniqueParams = dedupeParams(runId, params).sort(byKey);
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
    const storedValues = new Map(stored.map((r) => [r.key, r.value]));
    for (const p of uniqueParams) {
      const existing = storedValues.get(p.key);
      if (existing !== undefined && existing !== p.value) throw paramChanged(runId, p.key, existing, p.value);
    }
  }
  if (tags.length) {
    await upsertKeyValues(tx, "tags", runId, tags, dialect);
    const rename = tags.filter((t) => t.key === RUN_NAME_TAG).pop();
    if (rename) await tx.updateTable("runs").set({ name: rename.value }).where("run_uuid", "=", runId).execute();
  }
  if (metrics.length) await logMetricRows(tx, dialect, runId, metrics);
  // Last, just before the commit: the catalog's rows are shared by the experiment's runs, so held briefly.
  await recordKeys(tx, dialect, runId, batchKeys(metrics, uniqueParams, tags));
}

async function logMetricRows(tx: Kysely<DB>, dialect: Dialect, runId: string, metrics: Metric[]): Promise<void> {
  const rows = metrics
    .map(toMetricRow)
    .sort(byMetricPk)
    .map((r) => ({ run_uuid: runId, ...r }));
  // RETURNING names the rows actually inserted (not duplicates of stored ones): the chart summaries count those.
  const inserted: MetricRow[] = [];
  for (const part of chunk(rows, 6, dialect.maxParams)) {
    const back = await tx
      .insertInto("metrics")
      .values(part)
      .onConflict((oc) => oc.doNothing())
      .returning(["key", "step", "timestamp", "value", "is_nan"])
      .execute();
    for (const r of back) inserted.push(r);
  }
  // tierRows come in key, tier, bucket order, and latestPerKey keeps the rows' (key) order: both lock in one order.
  await upsertTiers(tx, dialect.kind === "postgres", runId, tierRows(inserted));
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
/** Growable columns: the reader does not know the count up front and must not make an object per point. */
class ColumnBuilder {
  length = 0;
  run: Uint32Array;
  step: Float64Array;
  timestamp: Float64Array;
  value: Float64Array;
  constructor(capacity: number) {
    this.run = new Uint32Array(capacity);
    this.step = new Float64Array(capacity);
    this.timestamp = new Float64Array(capacity);
    this.value = new Float64Array(capacity);
  }
  push(run: number, step: number, timestamp: number, value: number, isNan: number): void {
    if (this.length === this.step.length) this.grow();
    const i = this.length++;
    this.run[i] = run;
    this.step[i] = step;
    this.timestamp[i] = timestamp;
    this.value[i] = isNan ? Number.NaN : value;
  }
  private grow(): void {
    const n = Math.max(16, this.step.length * 2);
    const copy = <T extends Float64Array | Uint32Array>(a: T, b: T): T => {
      b.set(a);
      return b;
    };
    this.run = copy(this.run, new Uint32Array(n));
    this.step = copy(this.step, new Float64Array(n));
    this.timestamp = copy(this.timestamp, new Float64Array(n));
    this.value = copy(this.value, new Float64Array(n));
  }
  finish(key: string, runIds: string[], upTo = this.length): MetricColumns {
    const n = Math.min(upTo, this.length);
    return {
      key,
      runIds,
      length: n,
      run: this.run.subarray(0, n),
      step: this.step.subarray(0, n),
      timestamp: this.timestamp.subarray(0, n),
      value: this.value.subarray(0, n),
    };
  }
}

/**
 * In primary-key order (run, step, timestamp, value, is_nan), so neither database sorts: the read is a
 * range scan of the index that stores the rows.
 */
const HISTORY_ORDER = "order by run_uuid, step, timestamp, value, is_nan";

function historySql(runs: number, withSteps: boolean, pg: boolean): string {
  const p = (i: number) => (pg ? `$${i}` : "?");
  const runList = Array.from({ length: runs }, (_, i) => p(i + 1)).join(", ");
  let n = runs + 1;
  const steps = withSteps ? ` and step >= ${p(++n)} and step <= ${p(++n)}` : "";
  return `select run_uuid, step, timestamp, value, is_nan from metrics where run_uuid in (${runList}) and key = ${p(runs + 1)}${steps} ${HISTORY_ORDER} limit ${p(++n)} offset ${p(++n)}`;
}

/** The WHERE clause's bound values, in historySql's and historyJsonSql's order: run ids, key, optional step bounds. */
function historyFilter(q: HistoryQuery): { withSteps: boolean; filterArgs: unknown[] } {
  const withSteps = q.startStep !== undefined || q.endStep !== undefined;
  const filterArgs: unknown[] = [...q.runIds, q.key];
  if (withSteps) filterArgs.push(q.startStep ?? Number.MIN_SAFE_INTEGER, q.endStep ?? Number.MAX_SAFE_INTEGER);
  return { withSteps, filterArgs };
}

/** Reads one page of a key's history as columns. SQLite streams rows as arrays through a cached statement. */
export async function metricHistory(database: Database, q: HistoryQuery): Promise<{ columns: MetricColumns; nextOffset?: number }> {
  const runIndex = new Map(q.runIds.map((id, i) => [id, i]));
  const { withSteps, filterArgs } = historyFilter(q);
  // One row past the page says whether there is a next page.
  const args = [...filterArgs, q.limit + 1, q.offset];
  const cols = new ColumnBuilder(Math.min(q.limit + 1, 4096));
  if (!q.runIds.length) return { columns: cols.finish(q.key, q.runIds) };
  if (database.kind === "sqlite") {
    await database.withSqlite((raw) => {
      const stmt = cachedStatement(raw, historySql(q.runIds.length, withSteps, false));
      for (const r of stmt.iterate(...args) as Iterable<[string, number, number, number, number]>) {
        cols.push(runIndex.get(r[0]) ?? 0, r[1], r[2], r[3], r[4]);
      }
    });
  } else {
    const result = await database.db.executeQuery<{ run_uuid: string; step: number; timestamp: number; value: number; is_nan: number }>(
      CompiledQuery.raw(historySql(q.runIds.length, withSteps, true), args),
    );
    for (const r of result.rows) cols.push(runIndex.get(r.run_uuid) ?? 0, r.step, r.timestamp, r.value, r.is_nan);
  }
  const more = cols.length > q.limit;
  return { columns: cols.finish(q.key, q.runIds, q.limit), nextOffset: more ? q.offset + q.limit : undefined };
}

/**
 * SQLite writes the JSON: one statement returns the page as text. Values come out as SQLite's REAL-to-text
 * conversion, which round-trips every double exactly (17 significant digits where 15 would not); NaN and
 * ±Infinity as MLflow's strings. The subquery's ORDER BY with LIMIT feeds group_concat in key order.
 */
function historyJsonSql(runs: number, withSteps: boolean, withRunId: boolean): string {
  const value = `(case when is_nan then '"NaN"' when value = 9e999 then '"Infinity"' when value = -9e999 then '"-Infinity"' else cast(value as text) end)`;
  const tail = withRunId ? `',"run_id":' || json_quote(run_uuid) || '}'` : `'}'`;
  // Plain positional parameters, bound in text order: head, run ids, key, steps, limit, offset.
  const point = `? || ${value} || ',"timestamp":' || timestamp || ',"step":' || step || ${tail}`;
  const runList = Array.from({ length: runs }, () => "?").join(", ");
  const steps = withSteps ? " and step >= ? and step <= ?" : "";
  const where = `from metrics where run_uuid in (${runList}) and key = ?${steps}`;
  return `select count(*), coalesce(group_concat(p, ','), '') from (select ${point} as p ${where} ${HISTORY_ORDER} limit ? offset ?)`;
}

export async function metricHistoryJsonSqlite(database: Database, q: HistoryQuery, withRunId: boolean): Promise<HistoryJsonPage> {
  const { withSteps, filterArgs } = historyFilter(q);
  if (!q.runIds.length) return { points: "", count: 0 };
  return database.withSqlite((raw) => {
    const head = `{"key":${JSON.stringify(q.key)},"value":`;
    const [count, points] = cachedStatement(raw, historyJsonSql(q.runIds.length, withSteps, withRunId)).get(head, ...filterArgs, q.limit, q.offset) as [number, string];
    // A next page exists when a row lies past this one: probe for it rather than build it.
    const probe = historySql(q.runIds.length, withSteps, false);
    const more = count === q.limit && cachedStatement(raw, probe).get(...filterArgs, 1, q.offset + q.limit) !== undefined;
    return { points, count, nextOffset: more ? q.offset + q.limit : undefined };
  });
}

/**
 * SQLite builds each column as one comma-separated text (values in SQLite's exact REAL-to-text form,
 * non-finite ones as JSON strings) and JSON.parse reads it back: for a million points about half the
 * time of handing a million rows to JavaScript one by one.
 */
const SERIES_SQL = `select count(*), group_concat(step), group_concat(timestamp),
  group_concat(case when is_nan then '"NaN"' when value = 9e999 then '"Infinity"' when value = -9e999 then '"-Infinity"' else cast(value as text) end)
  from (select step, timestamp, value, is_nan from metrics where run_uuid = ? and key = ? ${HISTORY_ORDER})`;

function parseColumn(text: string | null, n: number): Float64Array {
  const out = new Float64Array(n);
  if (!n || text === null) return out;
  const parsed = JSON.parse(`[${text}]`) as (number | string)[];
  for (let i = 0; i < n; i++) {
    const v = parsed[i];
    out[i] = typeof v === "number" ? v : v === "NaN" ? Number.NaN : v === "Infinity" ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
  }
  return out;
}

/** A whole history as columns (the downsampling endpoint's input). */
export async function metricSeries(database: Database, runId: string, key: string): Promise<MetricSeries> {
  if (database.kind === "sqlite") {
    try {
      const row = await database.withSqlite((raw) => cachedStatement(raw, SERIES_SQL).raw(true).get(runId, key) as [number, string | null, string | null, string | null]);
      const n = Number(row[0]);
      return { step: parseColumn(row[1], n), timestamp: parseColumn(row[2], n), value: parseColumn(row[3], n) };
    } catch (err) {
      // Tens of millions of points make a text past SQLite's 1 GB limit: read those row by row.
      if (!/too big/i.test((err as Error).message)) throw err;
    }
  }
  const { columns } = await metricHistory(database, { runIds: [runId], key, offset: 0, limit: Number.MAX_SAFE_INTEGER - 1 });
  return columns;
}

/** Merges summaries into metric_tiers (inside the caller's transaction). */
// biome-ignore lint/suspicious/noExplicitAny: the migration passes an untyped Kysely
export async function upsertTiers(db: Kysely<any>, pg: boolean, runId: string, rows: TierRow[]): Promise<void> {
  for (const part of chunk(rows, TIER_COLUMNS.length + 1, pg ? 60000 : 30000)) {
    await db.executeQuery(CompiledQuery.raw(tierUpsertSql(part.length, pg), part.flatMap((t) => tierValues(runId, t))));
  }
}

const TIER_SELECT = `select ${TIER_COLUMNS.join(", ")} from metric_tiers where run_uuid = ? and key = ? and tier = ? order by bucket`;
const TIER_TOTAL = "select coalesce(sum(n), 0) from metric_tiers where run_uuid = ? and key = ? and tier = ?";
const TIER_BUCKETS = "select count(*) from metric_tiers where run_uuid = ? and key = ? and tier = ?";
const dollars = (q: string) => {
  let i = 0;
  return q.replace(/\?/g, () => `$${++i}`);
};

/**
 * A history's point count and, when it has more than `minTotal` points, the candidate points of the
 * coarsest tier with at least `minBuckets` buckets (none when even the finest has fewer: then the points
 * themselves are the better input).
 */
export async function metricSummary(
  database: Database,
  runId: string,
  key: string,
  want: { minBuckets: number; minTotal: number },
): Promise<{ total: number; candidates?: MetricSeries }> {
  const one = async (q: string, args: unknown[]): Promise<number> => {
    if (database.kind === "sqlite") return Number(await database.withSqlite((raw) => (cachedStatement(raw, q).get(...args) as unknown[])[0]));
    const r = await database.db.executeQuery<Record<string, unknown>>(CompiledQuery.raw(dollars(q), args));
    return Number(Object.values(r.rows[0] ?? {})[0] ?? 0);
  };
  const total = await one(TIER_TOTAL, [runId, key, COARSEST_TIER]);
  if (total <= want.minTotal) return { total };
  for (let tier = COARSEST_TIER; tier >= 0; tier--) {
    if ((await one(TIER_BUCKETS, [runId, key, tier])) < want.minBuckets) continue;
    const args = [runId, key, tier];
    const rows =
      database.kind === "sqlite"
        ? await database.withSqlite((raw) => cachedStatement(raw, TIER_SELECT).all(...args) as TierValues[])
        : (await database.db.executeQuery<TierRow>(CompiledQuery.raw(dollars(TIER_SELECT), args))).rows.map(tierValuesOf);
    return { total, candidates: tierCandidates(rows) };
  }
  return { total };
}

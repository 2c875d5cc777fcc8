/**
 * Chart summaries of metric histories, kept up to date as points arrive, so a chart of a million-point
 * history reads a few thousand summary rows instead of a million points.
 *
 * Each tier cuts the step axis into buckets of a fixed width and keeps, per bucket, the point count and
 * the points a line chart cannot do without (M4 aggregation: first, last, lowest and highest value; plus
 * the first NaN, which a chart shows as a gap). Summaries merge: the summary of a union of points is the
 * merge of their summaries, in any order, so each write merges its new points into the stored rows
 * (one upsert per touched bucket and tier) and concurrent writers cannot lose each other's points.
 * Only points actually inserted are merged (a re-sent duplicate is not), so the counts are exact.
 */
import type { MetricTiersTable } from "../db/types.js";
import { byKey, type MetricRow } from "./metric-batch.js";
import type { MetricSeries } from "./store.js";

/**
 * Bucket widths in steps, finest first. A write touches a row per tier and key (each costs about as much
 * as ten inserted points), so there are two; a chart reads the coarsest tier with enough buckets, at most
 * 8 times more than it needs. A history of a million steps makes 3,907 and 489 buckets; of ten million,
 * 39,063 and 4,883. Stored rows are cut by these widths: changing them needs a migration that rebuilds
 * metric_tiers (as 008 builds it).
 */
export const TIER_WIDTHS = [256, 2048] as const;
export const COARSEST_TIER = TIER_WIDTHS.length - 1;

/** One bucket's summary: a row of metric_tiers without run_uuid. Step and timestamp pairs order points. */
export type TierRow = Omit<MetricTiersTable, "run_uuid">;

/** Column order of metric_tiers as written: run_uuid, then TierRow's fields in this order. */
export const TIER_COLUMNS = [
  "key",
  "tier",
  "bucket",
  "n",
  "first_step",
  "first_ts",
  "first_value",
  "first_nan",
  "last_step",
  "last_ts",
  "last_value",
  "last_nan",
  "min_step",
  "min_ts",
  "min_value",
  "max_step",
  "max_ts",
  "max_value",
  "nan_step",
  "nan_ts",
] as const satisfies readonly (keyof TierRow)[];

export function tierValues(runId: string, t: TierRow): unknown[] {
  return [runId, ...TIER_COLUMNS.map((c) => t[c])];
}

const before = (s1: number, t1: number, s2: number, t2: number) => s1 < s2 || (s1 === s2 && t1 < t2);

function pointRow(key: string, tier: number, bucket: number, r: MetricRow): TierRow {
  const nan = r.is_nan === 1;
  return {
    key,
    tier,
    bucket,
    n: 1,
    first_step: r.step,
    first_ts: r.timestamp,
    first_value: r.value,
    first_nan: r.is_nan,
    last_step: r.step,
    last_ts: r.timestamp,
    last_value: r.value,
    last_nan: r.is_nan,
    min_step: nan ? null : r.step,
    min_ts: nan ? null : r.timestamp,
    min_value: nan ? null : r.value,
    max_step: nan ? null : r.step,
    max_ts: nan ? null : r.timestamp,
    max_value: nan ? null : r.value,
    nan_step: nan ? r.step : null,
    nan_ts: nan ? r.timestamp : null,
  };
}

/**
 * Merges `b` into `a` (same key, tier and bucket). The rules are the upsert's in tierUpsertSql, point
 * for point: an earlier first, a later last, a strictly lower minimum or higher maximum, an earlier NaN.
 */
export function mergeTier(a: TierRow, b: TierRow): void {
  a.n += b.n;
  if (before(b.first_step, b.first_ts, a.first_step, a.first_ts)) {
    a.first_step = b.first_step;
    a.first_ts = b.first_ts;
    a.first_value = b.first_value;
    a.first_nan = b.first_nan;
  }
  if (before(a.last_step, a.last_ts, b.last_step, b.last_ts)) {
    a.last_step = b.last_step;
    a.last_ts = b.last_ts;
    a.last_value = b.last_value;
    a.last_nan = b.last_nan;
  }
  if (b.min_value !== null && (a.min_value === null || b.min_value < a.min_value)) {
    a.min_step = b.min_step;
    a.min_ts = b.min_ts;
    a.min_value = b.min_value;
  }
  if (b.max_value !== null && (a.max_value === null || b.max_value > a.max_value)) {
    a.max_step = b.max_step;
    a.max_ts = b.max_ts;
    a.max_value = b.max_value;
  }
  if (b.nan_step !== null && (a.nan_step === null || before(b.nan_step, b.nan_ts as number, a.nan_step, a.nan_ts as number))) {
    a.nan_step = b.nan_step;
    a.nan_ts = b.nan_ts;
  }
}

/** One reused row for addPoint: a point costs no allocation. */
const scratch = pointRow("", 0, 0, { key: "", step: 0, timestamp: 0, value: 0, is_nan: 0 });

/** mergeTier(row, pointRow(r)), without making the point's row. */
function addPoint(a: TierRow, r: MetricRow): void {
  const nan = r.is_nan === 1;
  scratch.first_step = scratch.last_step = r.step;
  scratch.first_ts = scratch.last_ts = r.timestamp;
  scratch.first_value = scratch.last_value = r.value;
  scratch.first_nan = scratch.last_nan = r.is_nan;
  scratch.min_step = scratch.max_step = nan ? null : r.step;
  scratch.min_ts = scratch.max_ts = nan ? null : r.timestamp;
  scratch.min_value = scratch.max_value = nan ? null : r.value;
  scratch.nan_step = nan ? r.step : null;
  scratch.nan_ts = nan ? r.timestamp : null;
  mergeTier(a, scratch);
}

/** Accumulates summaries of points (any order, any keys) for every tier. */
export class TierBuilder {
  private readonly rows = new Map<string, TierRow>();

  addPoints(points: Iterable<MetricRow>): this {
    // The finest tier from the points, then each coarser tier from the one below: a point costs one map
    // lookup (by key; consecutive points of a key mostly share a bucket) and no allocation.
    const byKey = new Map<string, { rows: Map<number, TierRow>; last?: TierRow }>();
    for (const r of points) {
      const bucket = Math.floor(r.step / TIER_WIDTHS[0]);
      let k = byKey.get(r.key);
      if (!k) {
        k = { rows: new Map() };
        byKey.set(r.key, k);
      }
      let row = k.last?.bucket === bucket ? k.last : k.rows.get(bucket);
      if (row) addPoint(row, r);
      else {
        row = pointRow(r.key, 0, bucket, r);
        k.rows.set(bucket, row);
      }
      k.last = row;
    }
    let level = new Map<string, TierRow>();
    for (const k of byKey.values()) for (const row of k.rows.values()) level.set(`${row.key}\u0000${row.bucket}`, row);
    for (let tier = 0; ; tier++) {
      for (const row of level.values()) this.add(row);
      if (tier === COARSEST_TIER) break;
      const next = new Map<string, TierRow>();
      const ratio = TIER_WIDTHS[tier + 1] / TIER_WIDTHS[tier];
      for (const row of level.values()) {
        const bucket = Math.floor(row.bucket / ratio);
        const id = `${row.key}\u0000${bucket}`;
        const up = next.get(id);
        if (up) mergeTier(up, row);
        else next.set(id, { ...row, tier: tier + 1, bucket });
      }
      level = next;
    }
    return this;
  }

  private add(row: TierRow): void {
    const id = `${row.key}\u0000${row.tier}\u0000${row.bucket}`;
    const have = this.rows.get(id);
    if (have) mergeTier(have, row);
    else this.rows.set(id, { ...row });
  }

  /** Ordered by key, tier, bucket: concurrent writers then lock rows in one order and cannot deadlock. */
  finish(): TierRow[] {
    return [...this.rows.values()].sort((a, b) => byKey(a, b) || a.tier - b.tier || a.bucket - b.bucket);
  }
}

export function tierRows(points: Iterable<MetricRow>): TierRow[] {
  return new TierBuilder().addPoints(points).finish();
}

/** Upsert of `rows` summaries that merges with stored ones (positional parameters: `?` or `$n`). */
export function tierUpsertSql(rows: number, pg: boolean): string {
  const width = TIER_COLUMNS.length + 1;
  let p = 0;
  const param = () => (pg ? `$${++p}` : "?");
  const values = Array.from({ length: rows }, () => `(${Array.from({ length: width }, param).join(", ")})`).join(", ");
  const T = "metric_tiers";
  const set = (cols: string[], when: string) => cols.map((c) => `${c} = case when ${when} then excluded.${c} else ${T}.${c} end`);
  const earlier = (a: string, b: string, prefix: string) =>
    `${a}.${prefix}_step < ${b}.${prefix}_step or (${a}.${prefix}_step = ${b}.${prefix}_step and ${a}.${prefix}_ts < ${b}.${prefix}_ts)`;
  const assignments = [
    `n = ${T}.n + excluded.n`,
    ...set(["first_step", "first_ts", "first_value", "first_nan"], earlier("excluded", T, "first")),
    ...set(["last_step", "last_ts", "last_value", "last_nan"], earlier(T, "excluded", "last")),
    ...set(["min_step", "min_ts", "min_value"], `${T}.min_value is null or excluded.min_value < ${T}.min_value`),
    ...set(["max_step", "max_ts", "max_value"], `${T}.max_value is null or excluded.max_value > ${T}.max_value`),
    ...set(["nan_step", "nan_ts"], `${T}.nan_step is null or ${earlier("excluded", T, "nan")}`),
  ];
  return `insert into ${T} (run_uuid, ${TIER_COLUMNS.join(", ")}) values ${values}
    on conflict (run_uuid, key, tier, bucket) do update set ${assignments.join(", ")}`;
}

const col = (name: (typeof TIER_COLUMNS)[number]) => TIER_COLUMNS.indexOf(name);
const C = {
  firstStep: col("first_step"),
  firstTs: col("first_ts"),
  firstValue: col("first_value"),
  firstNan: col("first_nan"),
  lastStep: col("last_step"),
  lastTs: col("last_ts"),
  lastValue: col("last_value"),
  lastNan: col("last_nan"),
  minStep: col("min_step"),
  minTs: col("min_ts"),
  minValue: col("min_value"),
  maxStep: col("max_step"),
  maxTs: col("max_ts"),
  maxValue: col("max_value"),
  nanStep: col("nan_step"),
  nanTs: col("nan_ts"),
};

/** A stored row as the array of its TIER_COLUMNS values (the form SQLite hands rows over in). */
export type TierValues = readonly unknown[];

export function tierValuesOf(row: TierRow): TierValues {
  return TIER_COLUMNS.map((c) => row[c]);
}

/**
 * The points a tier keeps, as a series in step order: per bucket its first, lowest, highest, first NaN
 * and last point, each once. Every one is a point of the history. Rows must come in bucket order.
 */
export function tierCandidates(rows: readonly TierValues[]): MetricSeries {
  // At most five points a bucket: size the columns once, trim at the end.
  const step = new Float64Array(rows.length * 5);
  const timestamp = new Float64Array(rows.length * 5);
  const value = new Float64Array(rows.length * 5);
  let n = 0;
  const b = new BucketPoints();
  for (const r of rows) {
    b.k = 0;
    b.put(r[C.firstStep] as number, r[C.firstTs] as number, r[C.firstNan] ? Number.NaN : (r[C.firstValue] as number));
    if (r[C.minStep] !== null) b.put(r[C.minStep] as number, r[C.minTs] as number, r[C.minValue] as number);
    if (r[C.maxStep] !== null) b.put(r[C.maxStep] as number, r[C.maxTs] as number, r[C.maxValue] as number);
    if (r[C.nanStep] !== null) b.put(r[C.nanStep] as number, r[C.nanTs] as number, Number.NaN);
    b.put(r[C.lastStep] as number, r[C.lastTs] as number, r[C.lastNan] ? Number.NaN : (r[C.lastValue] as number));
    const { s, t, v } = b;
    for (let i = 0; i < b.k; i++) {
      // The same point named twice (the first is also the lowest, say) goes in once.
      if (i > 0 && s[i] === s[i - 1] && t[i] === t[i - 1] && (v[i] === v[i - 1] || (Number.isNaN(v[i]) && Number.isNaN(v[i - 1])))) continue;
      step[n] = s[i];
      timestamp[n] = t[i];
      value[n] = v[i];
      n++;
    }
  }
  return { step: step.slice(0, n), timestamp: timestamp.slice(0, n), value: value.slice(0, n) };
}

/** One bucket's points, kept in (step, timestamp) order by insertion: five at most, so this beats a sort. */
class BucketPoints {
  k = 0;
  readonly s = new Float64Array(5);
  readonly t = new Float64Array(5);
  readonly v = new Float64Array(5);
  put(step: number, ts: number, value: number): void {
    const { s, t, v } = this;
    let j = this.k++;
    while (j > 0 && (s[j - 1] > step || (s[j - 1] === step && t[j - 1] > ts))) {
      s[j] = s[j - 1];
      t[j] = t[j - 1];
      v[j] = v[j - 1];
      j--;
    }
    s[j] = step;
    t[j] = ts;
    v[j] = value;
  }
}

import fc from "fast-check";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "../../src/db/database.js";
import type { MetricRow } from "../../src/tracking/metric-batch.js";
import { mergeTier, TIER_WIDTHS, type TierRow, tierCandidates, tierRows, tierValuesOf } from "../../src/tracking/metric-tiers.js";
import { FULL_RESOLUTION_MAX_POINTS } from "../../src/tracking/keel-routes.js";
import { metricSummary } from "../../src/tracking/store-sql-metrics.js";
import { client, startTestApp, type TestApp } from "../helpers/app.js";

/**
 * Checks one bucket's summary against the bucket's points. Ties (two points at the lowest value, two at
 * the first step and timestamp) may resolve to either point, so the oracle asks "is it a right answer",
 * not "is it this answer".
 */
function checkBucket(row: TierRow, points: MetricRow[]): void {
  const id = `${row.key}/${row.tier}/${row.bucket}`;
  expect(row.n, id).toBe(points.length);
  const has = (step: number | null, ts: number | null, pred: (p: MetricRow) => boolean) =>
    points.some((p) => p.step === step && p.timestamp === ts && pred(p));
  const order = [...points].sort((a, b) => a.step - b.step || a.timestamp - b.timestamp);
  const first = order[0];
  const last = order[order.length - 1];
  expect([row.first_step, row.first_ts], `${id} first`).toEqual([first.step, first.timestamp]);
  expect(has(row.first_step, row.first_ts, (p) => p.is_nan === row.first_nan && (p.is_nan === 1 || p.value === row.first_value)), `${id} first value`).toBe(true);
  expect([row.last_step, row.last_ts], `${id} last`).toEqual([last.step, last.timestamp]);
  expect(has(row.last_step, row.last_ts, (p) => p.is_nan === row.last_nan && (p.is_nan === 1 || p.value === row.last_value)), `${id} last value`).toBe(true);
  const finite = points.filter((p) => p.is_nan === 0);
  if (!finite.length) {
    expect([row.min_value, row.max_value], id).toEqual([null, null]);
  } else {
    const lo = Math.min(...finite.map((p) => p.value));
    const hi = Math.max(...finite.map((p) => p.value));
    // == and not Object.is: -0 and 0 tie, and either may be kept.
    expect(row.min_value === lo, `${id} min ${row.min_value} vs ${lo}`).toBe(true);
    expect(row.max_value === hi, `${id} max ${row.max_value} vs ${hi}`).toBe(true);
    expect(has(row.min_step, row.min_ts, (p) => p.is_nan === 0 && p.value === lo), `${id} min point`).toBe(true);
    expect(has(row.max_step, row.max_ts, (p) => p.is_nan === 0 && p.value === hi), `${id} max point`).toBe(true);
  }
  const nans = order.filter((p) => p.is_nan === 1);
  if (!nans.length) expect(row.nan_step, id).toBeNull();
  else expect([row.nan_step, row.nan_ts], `${id} first NaN`).toEqual([nans[0].step, nans[0].timestamp]);
}

/** Every bucket of every tier that holds points has a summary, and only those. */
function checkAll(rows: TierRow[], points: MetricRow[]): void {
  const groups = new Map<string, MetricRow[]>();
  for (const p of points) {
    for (let tier = 0; tier < TIER_WIDTHS.length; tier++) {
      const id = `${p.key}\u0000${tier}\u0000${Math.floor(p.step / TIER_WIDTHS[tier])}`;
      const g = groups.get(id);
      if (g) g.push(p);
      else groups.set(id, [p]);
    }
  }
  expect(rows.length).toBe(groups.size);
  for (const r of rows) {
    const g = groups.get(`${r.key}\u0000${r.tier}\u0000${r.bucket}`);
    expect(g, `${r.key}/${r.tier}/${r.bucket} has points`).toBeDefined();
    checkBucket(r, g as MetricRow[]);
  }
}

const point = fc.record({
  key: fc.constantFrom("a", "b"),
  step: fc.oneof(fc.integer({ min: -3000, max: 3000 }), fc.integer({ min: -2_000_000, max: 2_000_000 })),
  timestamp: fc.integer({ min: 0, max: 50 }),
  value: fc.oneof(fc.double({ noNaN: true }), fc.constantFrom(0, 1, -1)),
  is_nan: fc.constantFrom(0, 0, 0, 1),
});
const asRow = (p: { key: string; step: number; timestamp: number; value: number; is_nan: number }): MetricRow => ({ ...p, value: p.is_nan ? 0 : p.value });

describe("chart summaries (metric tiers), in memory", () => {
  it("summarize every bucket of every tier correctly", () => {
    fc.assert(
      fc.property(fc.array(point, { minLength: 1, maxLength: 300 }), (ps) => {
        const rows = ps.map(asRow);
        checkAll(tierRows(rows), rows);
      }),
      { numRuns: 200 },
    );
  });

  it("merging the summaries of parts gives the summary of the whole, in any split", () => {
    fc.assert(
      fc.property(fc.array(point, { minLength: 2, maxLength: 200 }), fc.integer({ min: 1, max: 199 }), (ps, cut) => {
        const rows = ps.map(asRow);
        const at = Math.min(cut, rows.length - 1);
        const merged = new Map(tierRows(rows.slice(0, at)).map((r) => [`${r.key}/${r.tier}/${r.bucket}`, r]));
        for (const r of tierRows(rows.slice(at))) {
          const have = merged.get(`${r.key}/${r.tier}/${r.bucket}`);
          if (have) mergeTier(have, r);
          else merged.set(`${r.key}/${r.tier}/${r.bucket}`, r);
        }
        checkAll([...merged.values()], rows);
      }),
      { numRuns: 200 },
    );
  });

  it("candidates are points of the history, in step order, including each bucket's extremes", () => {
    const rows: MetricRow[] = Array.from({ length: 5000 }, (_, s) => ({ key: "k", step: s, timestamp: 1000 + s, value: s === 777 ? 1e9 : Math.sin(s / 10), is_nan: s === 4000 ? 1 : 0 }));
    const c = tierCandidates(
      tierRows(rows)
        .filter((r) => r.tier === 0)
        .map(tierValuesOf),
    );
    const known = new Set(rows.map((r) => `${r.step}:${r.timestamp}`));
    for (let i = 0; i < c.step.length; i++) {
      expect(known.has(`${c.step[i]}:${c.timestamp[i]}`)).toBe(true);
      if (i) expect(c.step[i]).toBeGreaterThan(c.step[i - 1]);
    }
    expect(c.step[0]).toBe(0);
    expect(c.step[c.step.length - 1]).toBe(4999);
    expect(c.value[c.step.indexOf(777)]).toBe(1e9);
    expect(Number.isNaN(c.value[c.step.indexOf(4000)])).toBe(true);
    // At most five points per bucket (first, min, max, NaN, last).
    expect(c.step.length).toBeLessThanOrEqual(Math.ceil(5000 / TIER_WIDTHS[0]) * 5);
    expect(c.step.length).toBeLessThan(5000);
  });
});

describe("chart summaries in the database", () => {
  let t: TestApp;
  let c: ReturnType<typeof client>;
  let exp: string;
  const newRun = async () => (await c.post("runs/create", { experiment_id: exp })).body.run.info.run_id as string;
  const wire = (p: MetricRow) => ({ key: p.key, step: p.step, timestamp: p.timestamp, value: p.is_nan ? "NaN" : Number.isFinite(p.value) ? p.value : String(p.value) });
  const storedTiers = async (run: string) =>
    (await t.database.db.selectFrom("metric_tiers").selectAll().where("run_uuid", "=", run).execute()).map(({ run_uuid: _, ...r }) => r as TierRow);
  const storedPoints = async (run: string) =>
    (await t.database.db.selectFrom("metrics").select(["key", "step", "timestamp", "value", "is_nan"]).where("run_uuid", "=", run).execute()) as MetricRow[];

  beforeAll(async () => {
    t = await startTestApp();
    c = client(t.url);
    exp = (await c.post("experiments/create", { name: "tiers" })).body.experiment_id;
  });
  afterAll(async () => t?.close());

  it("log-batch keeps them exact: out of order, negative steps, NaN and ±Infinity, re-sent duplicates", async () => {
    const run = await newRun();
    const rand = fc.sample(fc.array(point, { minLength: 50, maxLength: 400 }), { numRuns: 12, seed: 7 });
    for (const batch of rand) {
      const rows = batch.map(asRow);
      const metrics = rows.map(wire);
      const r = await c.post("runs/log-batch", { run_id: run, metrics });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      // A client retry sends the same points again: they are not new points.
      if (rows.length % 2) expect((await c.post("runs/log-batch", { run_id: run, metrics: metrics.slice(0, 40) })).status).toBe(200);
    }
    await c.post("runs/log-batch", {
      run_id: run,
      metrics: [
        { key: "a", step: 5, timestamp: 60, value: "Infinity" },
        { key: "a", step: 6, timestamp: 60, value: "-Infinity" },
      ],
    });
    const points = (await storedPoints(run)).map((p) => ({ ...p, value: Number(p.value) }));
    checkAll(await storedTiers(run), points);
  });

  it("log-metric (one point a request) keeps them too", async () => {
    const run = await newRun();
    // 70 points, the last 6 in the finest tier's second bucket, the last 6 in the finest tier's second bucket.
    const every = TIER_WIDTHS[0] / 64;
    for (let s = 0; s < 70; s++) expect((await c.post("runs/log-metric", { run_id: run, key: "m", value: s === 66 ? -5 : s, timestamp: 10, step: s * every })).status).toBe(200);
    const points = await storedPoints(run);
    checkAll(await storedTiers(run), points);
    expect((await storedTiers(run)).find((r) => r.tier === 0 && r.bucket === 1)).toMatchObject({ n: 6, min_value: -5, min_step: 66 * every, max_value: 69 });
  });

  it("a deleted run takes its summaries with it", async () => {
    const run = await newRun();
    await c.post("runs/log-batch", { run_id: run, metrics: [{ key: "x", value: 1, timestamp: 1, step: 1 }] });
    expect((await storedTiers(run)).length).toBe(TIER_WIDTHS.length);
    await c.post("runs/delete", { run_id: run });
    await sql`delete from runs where run_uuid = ${run}`.execute(t.database.db);
    expect(await storedTiers(run)).toEqual([]);
  });

  describe("POST /runs/compare on a long history reads the summaries", () => {
    const N = 120_000;
    let run: string;
    let sparse: string;
    let history: Map<string, number>;
    beforeAll(async () => {
      run = await newRun();
      sparse = await newRun();
      for (let b = 0; b < N / 1000; b++) {
        const metrics = Array.from({ length: 1000 }, (_, i) => {
          const s = b * 1000 + i;
          return { key: "loss", value: s === 77_777 ? 50 : s === 33_333 ? -50 : 1 / (1 + s / 1000) + 0.01 * Math.sin(s), timestamp: 1_000_000 + s, step: s };
        });
        expect((await c.post("runs/log-batch", { run_id: run, metrics })).status).toBe(200);
        // The same curve logged every 100th step: a bucket of the finest tier holds one point.
        const every = metrics.map((m) => ({ ...m, step: m.step * 100 }));
        expect((await c.post("runs/log-batch", { run_id: sparse, metrics: every })).status).toBe(200);
      }
      // A retried batch: the count must not change.
      await c.post("runs/log-batch", { run_id: run, metrics: [{ key: "loss", value: 1, timestamp: 1_000_000, step: 0 }] });
      const full = await c.post("/api/keel/v1/runs/compare", { run_ids: [run], metric_keys: ["loss"], full_resolution: true });
      history = new Map(full.body.series[0].points.map((p: { step: number; timestamp: number; value: number }) => [`${p.step}:${p.timestamp}`, p.value]));
      expect(history.size).toBe(N);
    }, 120_000);

    for (const method of ["lttb", "minmax"] as const) {
      it(`${method}: points of the history, ends and spikes kept, exact total`, async () => {
        // 800 points want 400 buckets: the finest tier's 469.
        const r = await c.post("/api/keel/v1/runs/compare", { run_ids: [run], metric_keys: ["loss"], max_points: 800, method });
        expect(r.status).toBe(200);
        const s = r.body.series[0];
        expect(s).toMatchObject({ total_points: N, downsampled: true });
        expect(s.points.length).toBeLessThanOrEqual(800);
        expect(s.points.length).toBeGreaterThan(700);
        for (const p of s.points) expect(history.get(`${p.step}:${p.timestamp}`), `${p.step}`).toBe(p.value);
        expect(s.points[0].step).toBe(0);
        expect(s.points.at(-1).step).toBe(N - 1);
        expect(s.points.some((p: { value: number }) => p.value === 50)).toBe(true);
        expect(s.points.some((p: { value: number }) => p.value === -50)).toBe(true);
      });
    }

    it("x = timestamp and sparse steps (a coarser tier) work the same way", async () => {
      const r = await c.post("/api/keel/v1/runs/compare", { run_ids: [run, sparse], metric_keys: ["loss"], max_points: 500, x_axis: "timestamp" });
      const [dense, coarse] = r.body.series;
      expect(dense).toMatchObject({ total_points: N, downsampled: true });
      expect(coarse).toMatchObject({ total_points: N, downsampled: true });
      expect(coarse.points.length).toBeLessThanOrEqual(500);
      expect(coarse.points.some((p: { value: number }) => p.value === 50)).toBe(true);
      expect(coarse.points.some((p: { value: number }) => p.value === -50)).toBe(true);
      expect(coarse.points.every((p: { step: number; timestamp: number }) => p.step === (p.timestamp - 1_000_000) * 100)).toBe(true);
    });

    it("the long histories are read from a tier, not point by point", async () => {
      for (const [id, tier] of [
        [run, 0],
        [sparse, 1],
      ] as const) {
        const s = await metricSummary(t.database, id, "loss", { minBuckets: 200, minTotal: 50_000 });
        expect(s.total).toBe(N);
        // The chosen tier's candidates: at most five per bucket of that tier's width.
        const buckets = Math.ceil((id === run ? N : N * 100) / TIER_WIDTHS[tier]);
        expect(s.candidates?.step.length).toBeGreaterThan(200);
        expect(s.candidates?.step.length).toBeLessThanOrEqual(buckets * 5);
      }
      expect((await metricSummary(t.database, run, "loss", { minBuckets: 200, minTotal: N })).candidates).toBeUndefined();
      expect((await metricSummary(t.database, run, "loss", { minBuckets: N, minTotal: 50_000 })).candidates).toBeUndefined();
    });

    it("refuses a full-resolution request past the points one answer may hold, before reading any", async () => {
      const copies = Math.floor(FULL_RESOLUTION_MAX_POINTS / N) + 1;
      const r = await c.post("/api/keel/v1/runs/compare", { run_ids: Array(copies).fill(run), metric_keys: ["loss"], full_resolution: true });
      expect(r.status).toBe(400);
      expect(r.body.message).toContain(`Full resolution would return ${(copies * N).toLocaleString("en-US")} points`);
      expect(r.body.message).toContain("max_points");
    });

    it("asking for more points than the summaries hold reads every point instead", async () => {
      const r = await c.post("/api/keel/v1/runs/compare", { run_ids: [run], metric_keys: ["loss"], max_points: 50_000 });
      const s = r.body.series[0];
      expect(s).toMatchObject({ total_points: N, downsampled: true });
      expect(s.points).toHaveLength(50_000);
    });
  });

  it("histories logged before the summaries existed get them when the database is upgraded", async () => {
    const run = await newRun();
    const rows: MetricRow[] = Array.from({ length: 3000 }, (_, s) => ({ key: s % 2 ? "odd" : "even", step: s * 7 - 500, timestamp: s, value: s === 1234 ? 0 : Math.cos(s), is_nan: s === 999 ? 1 : 0 }));
    for (let i = 0; i < rows.length; i += 1000) expect((await c.post("runs/log-batch", { run_id: run, metrics: rows.slice(i, i + 1000).map(wire) })).status).toBe(200);
    // Back to the schema before migration 008, as a database written by an older Keel.
    // Later migrations go too: they must run after 008.
    await sql`drop table metric_tiers`.execute(t.database.db);
    await sql`drop table experiment_keys`.execute(t.database.db);
    await sql`delete from keel_migration where name in ('008-metric-tiers', '009-experiment-keys')`.execute(t.database.db);
    const again = await openDatabase({ dataDir: t.db.dataDir, databaseUrl: t.db.databaseUrl });
    try {
      const tiers = (await again.db.selectFrom("metric_tiers").selectAll().where("run_uuid", "=", run).execute()).map(({ run_uuid: _, ...r }) => r as TierRow);
      checkAll(tiers, rows);
    } finally {
      await again.close();
    }
  });
});

import type { DeploymentStats, HistogramSnapshot } from "@keel/sdk";
import { describe, expect, it } from "vitest";
import { addHistograms, batchBars, histogramDelta, histogramQuantile, interval, liveSeries, recent, totals } from "./live-stats";

const LE = [0.001, 0.005, 0.01, 0.1];
const hist = (cumulative: number[], count: number, sum = 0): HistogramSnapshot => ({ le: LE, cumulative, count, sum });
const EMPTY: HistogramSnapshot = { le: [], cumulative: [], count: 0, sum: 0 };

function read(time: number, variants: { name: string; ok: number; error?: number; refused?: number; latency?: HistogramSnapshot }[], refusedBefore = 0): DeploymentStats {
  return {
    deployment: "d",
    time,
    refused: { invalid: refusedBefore, overloaded: 0, unavailable: 0 },
    variants: variants.map((v) => ({
      name: v.name,
      requests: { ok: v.ok, cached: 0, error: v.error ?? 0, refused: v.refused ?? 0 },
      latency_seconds: v.latency ?? EMPTY,
      batch_size: EMPTY,
      queue_depth: 0,
      shadow: { same: 0, differs: 0, error: 0 },
    })),
  };
}

describe("live stats", () => {
  it("interpolates quantiles inside buckets as histogram_quantile does", () => {
    // 10 observations: 4 ≤ 1 ms, 6 in (1 ms, 5 ms].
    const h = hist([4, 10, 10, 10], 10);
    expect(histogramQuantile(0.2, h)).toBeCloseTo(0.0005);
    expect(histogramQuantile(0.5, h)).toBeCloseTo(0.001 + 0.004 * (1 / 6));
    expect(histogramQuantile(1, h)).toBeCloseTo(0.005);
    // Past the last finite bucket: that bucket's bound.
    expect(histogramQuantile(0.99, hist([0, 0, 0, 0], 3))).toBe(0.1);
    expect(histogramQuantile(0.5, hist([0, 0, 0, 0], 0))).toBeUndefined();
    expect(histogramQuantile(0.5, EMPTY)).toBeUndefined();
  });

  it("adds variants' histograms, including variants with no buckets yet", () => {
    const a = hist([1, 2, 3, 4], 5, 0.5);
    expect(addHistograms(a, EMPTY)).toEqual({ ...a, cumulative: [1, 2, 3, 4] });
    expect(addHistograms(EMPTY, a)).toEqual(a);
    expect(addHistograms(a, a)).toEqual(hist([2, 4, 6, 8], 10, 1));
  });

  it("turns two reads into a rate, an error share and percentiles of what happened between them", () => {
    const before = read(10_000, [{ name: "a", ok: 100, error: 0, latency: hist([50, 100, 100, 100], 100) }]);
    const after = read(12_000, [{ name: "a", ok: 140, error: 10, latency: hist([50, 150, 150, 150], 150) }]);
    const p = interval(before, after);
    expect(p.t).toBe(12);
    expect(p.rate).toBe(25);
    expect(p.errorRate).toBeCloseTo(0.2);
    // Every new observation landed in (1 ms, 5 ms]: the median is the middle of that bucket.
    expect(p.p50).toBeCloseTo(3);
    expect(p.p99).toBeCloseTo(0.001 * 1000 + 4 * 0.99);
  });

  it("treats a counter that went down as a restart, and reports no percentiles for an idle interval", () => {
    const before = read(0, [{ name: "a", ok: 500, latency: hist([500, 500, 500, 500], 500) }]);
    const after = read(1000, [{ name: "a", ok: 7, latency: hist([7, 7, 7, 7], 7) }]);
    expect(interval(before, after).rate).toBe(7);
    expect(histogramDelta(before.variants[0].latency_seconds, after.variants[0].latency_seconds).count).toBe(7);
    const idle = interval(after, read(2000, [{ name: "a", ok: 7, latency: hist([7, 7, 7, 7], 7) }]));
    expect(idle).toMatchObject({ rate: 0, errorRate: null, p50: null, p99: null });
  });

  it("sums or picks variants", () => {
    const s = read(0, [
      { name: "a", ok: 3, error: 1 },
      { name: "b", ok: 5 },
    ]);
    expect(totals(s).requests).toBe(9);
    expect(totals(s).errors).toBe(1);
    expect(totals(s, "b").requests).toBe(5);
  });

  it("counts refused requests: a variant's, and the deployment's before any variant (only in the whole)", () => {
    const s = read(0, [{ name: "a", ok: 3, refused: 2 }, { name: "b", ok: 1 }], 4);
    expect(totals(s)).toMatchObject({ requests: 10, refused: 6, errors: 0 });
    expect(totals(s, "a")).toMatchObject({ requests: 5, refused: 2 });
  });

  it("gives one point per interval, and a recent window from the oldest read inside it", () => {
    const reads = [0, 2, 4, 6, 8, 10, 12].map((sec, i) => read(sec * 1000, [{ name: "a", ok: i * 10 }]));
    expect(liveSeries(reads).map((p) => p.rate)).toEqual([5, 5, 5, 5, 5, 5]);
    const w = recent(reads, 10);
    expect(w?.rate).toBe(5);
    expect(recent(reads.slice(0, 1), 10)).toBeUndefined();
  });

  it("draws batch sizes as per-bucket bars with readable ranges", () => {
    const h: HistogramSnapshot = { le: [1, 2, 4, 8], cumulative: [3, 5, 9, 9], count: 10, sum: 30 };
    expect(batchBars(h)).toEqual([
      { label: "≤ 1", count: 3 },
      { label: "2", count: 2 },
      { label: "3–4", count: 4 },
      { label: "5–8", count: 0 },
      { label: "> 8", count: 1 },
    ]);
    expect(batchBars(EMPTY)).toEqual([]);
  });
});

import { lttb, minMax } from "./downsample.js";
import type { MetricSeries, TrackingStore } from "./store.js";

/**
 * One metric history made ready for a chart: every point when it is small or the caller asks for full
 * resolution, else about `maxPoints` chosen by LTTB or min/max. A long history is downsampled from its
 * chart summaries (a few points per step bucket, metric-tiers.ts) rather than from every point: reading a
 * million points costs about a second, the summaries a few milliseconds, and the picture is the same
 * (each bucket keeps its first, last, lowest, highest and NaN points).
 */
export interface ChartSeriesOptions {
  maxPoints: number;
  method: "lttb" | "minmax";
  xAxis: "step" | "timestamp";
  fullResolution: boolean;
}

export interface ChartSeries {
  total: number;
  downsampled: boolean;
  points: MetricSeries;
}

/** Below this many points, reading them all is quick (tens of ms) and downsampling them is exact. */
export const SUMMARY_MIN_POINTS = 50_000;
/**
 * Buckets per output point the summaries must offer. Each bucket gives its first, last, lowest and
 * highest points (M4), which draw a bucket's stretch of line exactly; a bucket per two output points
 * keeps the error under a pixel column at the chart's width, and the chosen tier has at most 8 rows per
 * output point (tiers are 16 times apart).
 */
const BUCKETS_PER_POINT = 0.5;

export async function chartSeries(store: TrackingStore, runId: string, key: string, o: ChartSeriesOptions): Promise<ChartSeries> {
  if (!o.fullResolution) {
    const { total, candidates } = await store.metricSummary(runId, key, {
      minBuckets: Math.ceil(BUCKETS_PER_POINT * o.maxPoints),
      minTotal: Math.max(SUMMARY_MIN_POINTS, o.maxPoints),
    });
    if (candidates) return { total, downsampled: true, points: downsample(candidates, o) ?? candidates };
  }
  const all = await store.metricSeries(runId, key);
  const picked = o.fullResolution ? undefined : downsample(all, o);
  return { total: all.value.length, downsampled: picked !== undefined, points: picked ?? all };
}

/** About `maxPoints` of `s`; undefined when it has no more than that. */
function downsample(s: MetricSeries, o: ChartSeriesOptions): MetricSeries | undefined {
  if (s.value.length <= o.maxPoints) return undefined;
  const pick = (o.method === "minmax" ? minMax : lttb)({ x: o.xAxis === "step" ? s.step : s.timestamp, y: s.value }, o.maxPoints);
  const take = (a: Float64Array) => Float64Array.from(pick, (i) => a[i]);
  return { step: take(s.step), timestamp: take(s.timestamp), value: take(s.value) };
}

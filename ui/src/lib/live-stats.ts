/**
 * Rates and percentiles from a deployment's cumulative counters (GET …/deployments/:name/stats, polled):
 * the difference of two reads over the time between them, as Prometheus' rate() and histogram_quantile()
 * compute them. A counter that went down means the server restarted: the later read is the whole delta.
 */
import type { DeploymentStats, HistogramSnapshot, VariantStats } from "@keel/sdk";

export interface Totals {
  /** Every request: answered, failed (errors) and refused. */
  requests: number;
  /** Failed in the model or the server (5xx). */
  errors: number;
  /** Refused as the request's fault (malformed, a full queue): by a variant, and before one was chosen. */
  refused: number;
  latency: HistogramSnapshot;
  batch: HistogramSnapshot;
}

const EMPTY: HistogramSnapshot = { le: [], cumulative: [], count: 0, sum: 0 };

/** Histograms of one metric added up (variants share the metric's buckets; a variant without any adds zeros). */
export function addHistograms(a: HistogramSnapshot, b: HistogramSnapshot): HistogramSnapshot {
  if (!a.le.length) return b.le.length ? { ...b, cumulative: [...b.cumulative] } : { ...a, count: a.count + b.count, sum: a.sum + b.sum };
  if (!b.le.length) return { ...a, count: a.count + b.count, sum: a.sum + b.sum };
  const at = new Map(b.le.map((le, i) => [le, b.cumulative[i]]));
  return { le: a.le, cumulative: a.cumulative.map((c, i) => c + (at.get(a.le[i]) ?? 0)), count: a.count + b.count, sum: a.sum + b.sum };
}

/**
 * The counters of the chosen variants (all when `variant` is undefined) added together; the whole
 * deployment's also count the requests refused before a variant was chosen.
 */
export function totals(stats: DeploymentStats, variant?: string): Totals {
  const chosen: VariantStats[] = stats.variants.filter((v) => variant === undefined || v.name === variant);
  const before = variant === undefined ? stats.refused.invalid + stats.refused.overloaded + stats.refused.unavailable : 0;
  return chosen.reduce<Totals>(
    (t, v) => ({
      requests: t.requests + v.requests.ok + v.requests.cached + v.requests.error + v.requests.refused,
      errors: t.errors + v.requests.error,
      refused: t.refused + v.requests.refused,
      latency: addHistograms(t.latency, v.latency_seconds),
      batch: addHistograms(t.batch, v.batch_size),
    }),
    { requests: before, errors: 0, refused: before, latency: EMPTY, batch: EMPTY },
  );
}

const counterDelta = (before: number, after: number) => (after >= before ? after - before : after);

/** What was observed between two reads of a histogram. */
export function histogramDelta(before: HistogramSnapshot, after: HistogramSnapshot): HistogramSnapshot {
  if (after.count < before.count) return after;
  const at = new Map(before.le.map((le, i) => [le, before.cumulative[i]]));
  return { le: after.le, cumulative: after.cumulative.map((c, i) => c - (at.get(after.le[i]) ?? 0)), count: after.count - before.count, sum: after.sum - before.sum };
}

/**
 * The q-quantile of a histogram's observations, interpolating linearly inside the bucket it falls in
 * (histogram_quantile's rule); past the last finite bound, that bound. Undefined with no observations.
 */
export function histogramQuantile(q: number, h: HistogramSnapshot): number | undefined {
  if (h.count <= 0 || !h.le.length) return undefined;
  const rank = q * h.count;
  for (let i = 0; i < h.le.length; i++) {
    if (h.cumulative[i] >= rank) {
      const lower = i === 0 ? 0 : h.le[i - 1];
      const below = i === 0 ? 0 : h.cumulative[i - 1];
      const inBucket = h.cumulative[i] - below;
      return inBucket > 0 ? lower + ((h.le[i] - lower) * (rank - below)) / inBucket : h.le[i];
    }
  }
  return h.le[h.le.length - 1];
}

export interface LivePoint {
  /** End of the interval, epoch seconds (the charts' x). */
  t: number;
  /** Requests per second. */
  rate: number;
  /** Share of requests that failed, 0..1; null when there were none. */
  errorRate: number | null;
  /** Latency percentiles in milliseconds; null when there were no requests. */
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

/** The numbers of the interval between two reads. */
export function interval(before: DeploymentStats, after: DeploymentStats, variant?: string): LivePoint {
  const a = totals(before, variant);
  const b = totals(after, variant);
  const seconds = Math.max(0.001, (after.time - before.time) / 1000);
  const requests = counterDelta(a.requests, b.requests);
  const errors = counterDelta(a.errors, b.errors);
  const lat = histogramDelta(a.latency, b.latency);
  const ms = (q: number) => {
    const v = histogramQuantile(q, lat);
    return v === undefined ? null : v * 1000;
  };
  return { t: after.time / 1000, rate: requests / seconds, errorRate: requests > 0 ? Math.min(1, errors / requests) : null, p50: ms(0.5), p95: ms(0.95), p99: ms(0.99) };
}

/** One point per consecutive pair of reads. */
export function liveSeries(samples: DeploymentStats[], variant?: string): LivePoint[] {
  const out: LivePoint[] = [];
  for (let i = 1; i < samples.length; i++) out.push(interval(samples[i - 1], samples[i], variant));
  return out;
}

/** The last `seconds` as one interval (from the oldest read inside it to the newest); undefined before two reads. */
export function recent(samples: DeploymentStats[], seconds: number, variant?: string): LivePoint | undefined {
  const last = samples.at(-1);
  if (!last || samples.length < 2) return undefined;
  const from = samples.find((s) => last.time - s.time <= seconds * 1000 && s !== last) ?? samples[samples.length - 2];
  return interval(from, last, variant);
}

export interface Bar {
  label: string;
  count: number;
}

/** A histogram as bars (observations per bucket, not cumulative), "≤ 1", "2", "3–4" … "> 512" for batch sizes. */
export function batchBars(h: HistogramSnapshot): Bar[] {
  const bars: Bar[] = [];
  let prevLe = 0;
  let prevCum = 0;
  h.le.forEach((le, i) => {
    const lo = Math.floor(prevLe) + 1;
    const label = i === 0 ? `≤ ${le}` : lo >= le ? `${le}` : `${lo}–${le}`;
    bars.push({ label, count: h.cumulative[i] - prevCum });
    prevLe = le;
    prevCum = h.cumulative[i];
  });
  if (h.le.length) bars.push({ label: `> ${prevLe}`, count: h.count - prevCum });
  return bars;
}

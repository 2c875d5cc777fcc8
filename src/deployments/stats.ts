import type { Registry } from "prom-client";

/**
 * A deployment's live numbers as JSON, read from the Prometheus series this process already keeps (see
 * metrics.ts): cumulative request counts by outcome, the latency and batch-size histograms (cumulative
 * buckets, as Prometheus has them), the queue depth and shadow outcomes, per variant. Nothing new is
 * counted on the serving path; a reader (the web UI polls this) takes deltas between two reads to get
 * rates and percentiles. The numbers are this server process's: behind a load balancer each replica
 * answers its own.
 */

export interface HistogramSnapshot {
  /** Upper bounds of the finite buckets, ascending (empty before the first observation). */
  le: number[];
  /** Observations ≤ each bound (cumulative, as Prometheus counts them); `count` is the +Inf bucket. */
  cumulative: number[];
  count: number;
  sum: number;
}

export interface VariantStats {
  name: string;
  /** Answered (ok, cached), failed in the model or server (error, a 5xx), refused as the request's fault (a 4xx or 429). */
  requests: { ok: number; cached: number; error: number; refused: number };
  latency_seconds: HistogramSnapshot;
  batch_size: HistogramSnapshot;
  queue_depth: number;
  /** Mirrored requests by outcome; only a shadow variant has any. */
  shadow: { same: number; differs: number; error: number };
}

export interface DeploymentStats {
  deployment: string;
  /** When the counters were read (epoch ms): rates are deltas over the difference of two reads' times. */
  time: number;
  /** Requests answered with an error before reaching a variant: a malformed body, not ready, a full queue. */
  refused: { invalid: number; overloaded: number; unavailable: number };
  variants: VariantStats[];
}

type Sample = { value: number; labels: Record<string, string | number | undefined>; metricName?: string };

async function samples(registry: Registry, name: string, deployment: string): Promise<Sample[]> {
  const metric = registry.getSingleMetric(name);
  if (!metric) return [];
  const got = (await metric.get()) as { values: Sample[] };
  return got.values.filter((s) => s.labels.deployment === deployment);
}

/** One variant's histogram; before its first observation prom-client has no buckets for it: empty ones. */
function histogram(all: Sample[], base: string, variant: string): HistogramSnapshot {
  const mine = all.filter((s) => s.labels.variant === variant);
  const buckets = mine
    .filter((s) => s.metricName === `${base}_bucket` && s.labels.le !== "+Inf")
    .map((s) => ({ le: Number(s.labels.le), n: s.value }))
    .sort((a, b) => a.le - b.le);
  const one = (suffix: string) => mine.find((s) => s.metricName === `${base}_${suffix}`)?.value ?? 0;
  if (!buckets.length) return { le: [], cumulative: [], count: 0, sum: 0 };
  return { le: buckets.map((b) => b.le), cumulative: buckets.map((b) => b.n), count: one("count"), sum: one("sum") };
}

/** Reads the live numbers of `deployment`'s `variants` (those without traffic yet answer zeros). */
export async function readDeploymentStats(registry: Registry, deployment: string, variants: string[], now: number): Promise<DeploymentStats> {
  const [requests, latency, batches, queue, shadow, refused] = await Promise.all([
    samples(registry, "keel_deployment_requests_total", deployment),
    samples(registry, "keel_deployment_request_duration_seconds", deployment),
    samples(registry, "keel_deployment_batch_size", deployment),
    samples(registry, "keel_deployment_queue_depth", deployment),
    samples(registry, "keel_deployment_shadow_total", deployment),
    samples(registry, "keel_deployment_refused_total", deployment),
  ]);
  const reason = (r: string) => refused.filter((s) => s.labels.reason === r).reduce((n, s) => n + s.value, 0);
  const count = (list: Sample[], variant: string, outcome: string) =>
    list.filter((s) => s.labels.variant === variant && s.labels.outcome === outcome).reduce((n, s) => n + s.value, 0);
  return {
    deployment,
    time: now,
    refused: { invalid: reason("invalid"), overloaded: reason("overloaded"), unavailable: reason("unavailable") },
    variants: variants.map((v) => ({
      name: v,
      requests: { ok: count(requests, v, "ok"), cached: count(requests, v, "cached"), error: count(requests, v, "error"), refused: count(requests, v, "refused") },
      latency_seconds: histogram(latency, "keel_deployment_request_duration_seconds", v),
      batch_size: histogram(batches, "keel_deployment_batch_size", v),
      queue_depth: queue.find((s) => s.labels.variant === v)?.value ?? 0,
      shadow: { same: count(shadow, v, "same"), differs: count(shadow, v, "differs"), error: count(shadow, v, "error") },
    })),
  };
}

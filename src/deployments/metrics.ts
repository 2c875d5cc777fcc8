import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import { byLabels } from "../server/metrics.js";

/** Prometheus series per deployment and variant (registered on the app's own registry). */
export function deploymentMetrics(registry: Registry, queueDepths: () => { deployment: string; variant: string; depth: number }[]) {
  const labelNames = ["deployment", "variant"] as const;
  const requests = new Counter({ name: "keel_deployment_requests_total", help: "Inference requests by deployment, variant and outcome", labelNames: [...labelNames, "outcome"], registers: [registry] });
  const latency = new Histogram({
    name: "keel_deployment_request_duration_seconds",
    help: "Inference latency (queue + compute) by deployment and variant",
    labelNames,
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  return {
    /** requests_total{outcome} children and the latency histogram of one deployment's variant, memoized. */
    variant: byLabels((deployment, variant) => ({
      ok: requests.labels(deployment, variant, "ok"),
      cached: requests.labels(deployment, variant, "cached"),
      error: requests.labels(deployment, variant, "error"),
      refused: requests.labels(deployment, variant, "refused"),
      latency: latency.labels(deployment, variant),
    })),
    batchSize: new Histogram({
      name: "keel_deployment_batch_size",
      help: "Rows per executed batch",
      labelNames,
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
      registers: [registry],
    }),
    /** Requests answered with an error before a variant was chosen, by reason (invalid, overloaded, unavailable). */
    refused: new Counter({
      name: "keel_deployment_refused_total",
      help: "Requests refused before reaching a variant, by reason (invalid, overloaded, unavailable)",
      labelNames: ["deployment", "reason"],
      registers: [registry],
    }),
    cache: new Counter({ name: "keel_deployment_cache_total", help: "Response cache lookups by result (hit, miss)", labelNames: ["deployment", "result"], registers: [registry] }),
    shadow: new Counter({ name: "keel_deployment_shadow_total", help: "Shadow requests by outcome (same, differs, error)", labelNames: [...labelNames, "outcome"], registers: [registry] }),
    queueDepth: new Gauge({
      name: "keel_deployment_queue_depth",
      help: "Requests waiting in each variant's batcher",
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        for (const q of queueDepths()) this.set({ deployment: q.deployment, variant: q.variant }, q.depth);
      },
    }),
  };
}

export type DeploymentMetrics = ReturnType<typeof deploymentMetrics>;

import type { FastifyInstance } from "fastify";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { Database } from "../db/database.js";

/**
 * Memoizes a series' per-label-values child: prom-client hashes a label object on every inc/observe,
 * a few microseconds that add up on the serving path at tens of thousands of requests per second.
 * The label values come from bounded sets (routes, statuses, deployments), so the map stays small.
 */
export function byLabels<T>(make: (...values: string[]) => T): (...values: string[]) => T {
  const children = new Map<string, T>();
  return (...values) => {
    const key = values.join("\u0000");
    let c = children.get(key);
    if (c === undefined) {
      c = make(...values);
      children.set(key, c);
    }
    return c;
  };
}

/** Prometheus metrics for one app instance (its own registry, so tests can build many apps). */
export function installMetrics(app: FastifyInstance, database: Database): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "keel_" });
  const requests = new Counter({
    name: "keel_http_requests_total",
    help: "HTTP requests by method, route and status",
    labelNames: ["method", "route", "status"],
    registers: [registry],
  });
  const latency = new Histogram({
    name: "keel_http_request_duration_seconds",
    help: "HTTP request latency by method, route and status",
    labelNames: ["method", "route", "status"],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const pool = new Gauge({
    name: "keel_db_pool_connections",
    help: "Database pool connections by state (total, idle, waiting)",
    labelNames: ["state"],
    registers: [registry],
    collect() {
      const s = database.poolStats();
      this.set({ state: "total" }, s.total);
      this.set({ state: "idle" }, s.idle);
      this.set({ state: "waiting" }, s.waiting);
    },
  });
  void pool;
  const series = byLabels((method, route, status) => ({ requests: requests.labels(method, route, status), latency: latency.labels(method, route, status) }));
  app.addHook("onResponse", (req, reply, done) => {
    // The route pattern, not the raw URL, keeps label cardinality bounded.
    const s = series(req.method, req.routeOptions.url ?? "unmatched", String(reply.statusCode));
    s.requests.inc();
    s.latency.observe(reply.elapsedTime / 1000);
    done();
  });
  app.get("/metrics", async (_req, reply) => {
    reply.header("content-type", registry.contentType);
    return registry.metrics();
  });
  return registry;
}

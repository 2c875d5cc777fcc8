import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { client, startTestApp, type TestApp } from "../helpers/app.js";

let t: TestApp;
let c: ReturnType<typeof client>;
let exp: string;
let runA: string;
let runB: string;

beforeAll(async () => {
  t = await startTestApp();
  c = client(t.url);
  exp = (await c.post("experiments/create", { name: "keel-api" })).body.experiment_id;
  runA = (await c.post("runs/create", { experiment_id: exp })).body.run.info.run_id;
  runB = (await c.post("runs/create", { experiment_id: exp })).body.run.info.run_id;
  // 5,000 points of a noisy curve with one spike, logged in batches of 1000.
  for (let b = 0; b < 5; b++) {
    const metrics = Array.from({ length: 1000 }, (_, i) => {
      const step = b * 1000 + i;
      return { key: "loss", value: step === 3210 ? 100 : 1 / (step + 1), timestamp: 1_000_000 + step, step };
    });
    expect((await c.post("runs/log-batch", { run_id: runA, metrics })).status).toBe(200);
  }
  await c.post("runs/log-batch", {
    run_id: runB,
    metrics: [{ key: "acc", value: 0.5, timestamp: 1, step: 0 }],
    params: [{ key: "lr", value: "0.1" }],
    tags: [{ key: "team", value: "a" }],
  });
});
afterAll(async () => t?.close());

describe("POST /api/keel/v1/runs/compare", () => {
  it("downsamples a long history to max_points, keeping ends and the spike", async () => {
    const r = await c.post("/api/keel/v1/runs/compare", { run_ids: [runA], metric_keys: ["loss"], max_points: 200 });
    expect(r.status).toBe(200);
    const s = r.body.series[0];
    expect(s).toMatchObject({ run_id: runA, metric_key: "loss", total_points: 5000, downsampled: true });
    expect(s.points).toHaveLength(200);
    expect(s.points[0].step).toBe(0);
    expect(s.points.at(-1).step).toBe(4999);
    expect(s.points.some((p: { value: number }) => p.value === 100)).toBe(true);
  });

  it("supports min/max buckets and full resolution", async () => {
    const mm = await c.post("/api/keel/v1/runs/compare", { run_ids: [runA], metric_keys: ["loss"], max_points: 100, method: "minmax" });
    expect(mm.body.series[0].points.length).toBeLessThanOrEqual(100);
    expect(mm.body.series[0].points.some((p: { value: number }) => p.value === 100)).toBe(true);
    const full = await c.post("/api/keel/v1/runs/compare", { run_ids: [runA, runB], metric_keys: ["loss"], full_resolution: true });
    expect(full.body.series[0].points).toHaveLength(5000);
    expect(full.body.series[0].downsampled).toBe(false);
    expect(full.body.series[1]).toMatchObject({ run_id: runB, total_points: 0, points: [] });
  });

  it("full resolution returns every value exactly as get-history does (NaN, ±Infinity, subnormals, 17 digits)", async () => {
    const values: (number | string)[] = [0.1, 1 / 3, -0, 5e-324, 1.7976931348623157e308, 123456789.12345679, "NaN", "Infinity", "-Infinity", -2.5e-300];
    const metrics = values.map((value, step) => ({ key: "special", value, timestamp: 10 + step, step }));
    const other = (await c.post("experiments/create", { name: "keel-api-special" })).body.experiment_id;
    const run = (await c.post("runs/create", { experiment_id: other })).body.run.info.run_id;
    expect((await c.post("runs/log-batch", { run_id: run, metrics })).status).toBe(200);
    const full = await c.post("/api/keel/v1/runs/compare", { run_ids: [run], metric_keys: ["special"], full_resolution: true });
    expect(full.status).toBe(200);
    const history = await c.get("metrics/get-history", { run_id: run, metric_key: "special" });
    const fromHistory = history.body.metrics.map((m: { step: number; timestamp: number; value: unknown }) => [m.step, m.timestamp, m.value]);
    expect(full.body.series[0].points.map((p: { step: number; timestamp: number; value: unknown }) => [p.step, p.timestamp, p.value])).toEqual(fromHistory);
    expect(fromHistory.map((x: unknown[]) => x[2])).toEqual([0.1, 1 / 3, 0, 5e-324, 1.7976931348623157e308, 123456789.12345679, "NaN", "Infinity", "-Infinity", -2.5e-300]);
  });

  it("rejects bad requests with 4xx in the MLflow error shape", async () => {
    for (const body of [{}, { run_ids: [], metric_keys: ["x"] }, { run_ids: [runA], metric_keys: ["loss"], max_points: 1 }, { run_ids: [runA], metric_keys: ["loss"], extra: 1 }]) {
      const r = await c.post("/api/keel/v1/runs/compare", body);
      expect(r.status).toBe(400);
      expect(r.body.error_code).toBe("INVALID_PARAMETER_VALUE");
    }
    const missing = await c.post("/api/keel/v1/runs/compare", { run_ids: ["f".repeat(32)], metric_keys: ["loss"] });
    expect(missing.status).toBe(404);
  });
});

describe("GET /api/keel/v1/experiments/keys", () => {
  it("lists distinct metric, param and tag keys", async () => {
    const r = await c.get("/api/keel/v1/experiments/keys", { experiment_ids: exp });
    expect(r.status).toBe(200);
    expect(r.body.metrics).toEqual(["acc", "loss"]);
    expect(r.body.params).toEqual(["lr"]);
    expect(r.body.tags).toContain("team");
    expect(r.body.tags).toContain("mlflow.runName");
  });

  it("404s for an unknown experiment and 400s for a malformed id", async () => {
    expect((await c.get("/api/keel/v1/experiments/keys", { experiment_ids: "987654" })).status).toBe(404);
    for (const bad of ["abc", "1,2", "-1", ""]) {
      const r = await c.get("/api/keel/v1/experiments/keys", { experiment_ids: bad });
      expect(r.status, bad).toBe(400);
      expect(r.body.message, bad).toMatch(/experiment_ids/);
    }
    // A comma list is the likely mistake: the message shows the form that works.
    expect((await c.get("/api/keel/v1/experiments/keys", { experiment_ids: "1,2" })).body.message).toContain("?experiment_ids=1&experiment_ids=2");
    const none = await c.get("/api/keel/v1/experiments/keys");
    expect(none.status).toBe(400);
    expect(none.body.message).toContain("Missing value for required parameter 'experiment_ids'");
    const many = await c.get("/api/keel/v1/experiments/keys", { experiment_ids: Array.from({ length: 101 }, (_, i) => String(i + 1)) });
    expect(many.status).toBe(400);
    expect(many.body.message).toBe("At most 100 experiment_ids per request; got 101.");
    // Other parameters (a cache-buster) are ignored, as the MLflow API's GETs ignore them.
    expect((await c.get("/api/keel/v1/experiments/keys", { experiment_ids: exp, _: "123" })).status).toBe(200);
  });
});

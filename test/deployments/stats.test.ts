/**
 * GET /api/keel/v1/deployments/:name/stats: the live numbers the web UI polls, read from the Prometheus
 * series the serving path already keeps. Checked against what was sent: request counts by outcome, latency
 * and batch-size histograms whose counts match /metrics, queue depth, shadow outcomes; zeros before any
 * traffic; 404 for an unknown deployment; and the SDK method the UI uses.
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KeelClient } from "../../src/sdk/index.js";
import { client, startTestApp, type TestApp } from "../helpers/app.js";
import { fixtureCases, fixturePath } from "../helpers/serving.js";

let t: TestApp;
let c: ReturnType<typeof client>;
let sdk: KeelClient;
const input = fixtureCases("mlp_small")[0].inputs[0];

async function registerVersion(model: string): Promise<void> {
  const exp = (await c.post("experiments/create", { name: `exp-${model}` })).body.experiment_id;
  const run = (await c.post("runs/create", { experiment_id: exp })).body.run.info.run_id;
  const put = await fetch(`${t.url}/api/2.0/mlflow-artifacts/artifacts/${exp}/${run}/artifacts/model/model.onnx`, { method: "PUT", body: readFileSync(fixturePath("mlp_small")) });
  expect(put.status).toBe(200);
  await c.post("registered-models/create", { name: model });
  expect((await c.post("model-versions/create", { name: model, source: `runs:/${run}/model`, run_id: run })).status).toBe(200);
}

async function infer(deployment: string, body: unknown = { inputs: [{ name: input.name, datatype: "FP32", shape: input.shape, data: input.data }] }): Promise<number> {
  const res = await fetch(`${t.url}/v2/models/${deployment}/infer`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  await res.arrayBuffer();
  return res.status;
}

/** A series' value in the /metrics text, 0 when absent. */
async function scraped(series: string): Promise<number> {
  const text = await (await fetch(`${t.url}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

beforeAll(async () => {
  t = await startTestApp();
  c = client(t.url);
  sdk = new KeelClient({ url: t.url });
  await registerVersion("stats-model");
  const created = await c.post("/api/keel/v1/deployments", {
    name: "stats",
    variants: [
      { name: "main", model: "stats-model", version: 1, weight: 1 },
      { name: "mirror", model: "stats-model", version: 1, weight: 0 },
    ],
    shadow: { variant: "mirror", fraction: 1 },
  });
  expect(created.status, JSON.stringify(created.body)).toBe(200);
});
afterAll(async () => t?.close());

describe("deployment stats", () => {
  it("answers zeros for every variant before any traffic", async () => {
    const r = await c.get("/api/keel/v1/deployments/stats/stats");
    expect(r.status).toBe(200);
    expect(r.body.deployment).toBe("stats");
    expect(Math.abs(r.body.time - Date.now())).toBeLessThan(60_000);
    expect(r.body.variants.map((v: { name: string }) => v.name)).toEqual(["main", "mirror"]);
    expect(r.body.refused).toEqual({ invalid: 0, overloaded: 0, unavailable: 0 });
    for (const v of r.body.variants) {
      expect(v.requests).toEqual({ ok: 0, cached: 0, error: 0, refused: 0 });
      expect(v.latency_seconds).toEqual({ le: [], cumulative: [], count: 0, sum: 0 });
      expect(v.batch_size.count).toBe(0);
      expect(v.queue_depth).toBe(0);
      expect(v.shadow).toEqual({ same: 0, differs: 0, error: 0 });
    }
  });

  it("counts requests by outcome, with latency and batch-size histograms that agree with /metrics", async () => {
    const N = 12;
    for (let i = 0; i < N; i++) expect(await infer("stats")).toBe(200);
    // A request with the wrong shape is refused (by the protocol check or the model); errors match what Prometheus shows.
    expect(await infer("stats", { inputs: [{ name: input.name, datatype: "FP32", shape: [1, 1], data: [1] }] })).toBeGreaterThanOrEqual(400);

    const s = await sdk.deploymentStats("stats");
    const main = s.variants.find((v) => v.name === "main")!;
    expect(main.requests.ok).toBe(N);
    expect(main.requests.cached).toBe(0);
    expect(main.requests.error).toBe(await scraped('keel_deployment_requests_total{deployment="stats",variant="main",outcome="error"}'));
    // The wrong shape is the request's fault: refused (before or by the variant), never an error of the model.
    expect(main.requests.error).toBe(0);
    expect(s.refused.invalid + main.requests.refused).toBe(1);

    const lat = main.latency_seconds;
    expect(lat.count).toBe(N);
    expect(lat.le.length).toBeGreaterThan(3);
    expect(lat.le).toEqual([...lat.le].sort((a, b) => a - b));
    expect(lat.cumulative).toHaveLength(lat.le.length);
    // Cumulative buckets never decrease and end at most at the count.
    for (let i = 1; i < lat.cumulative.length; i++) expect(lat.cumulative[i]).toBeGreaterThanOrEqual(lat.cumulative[i - 1]);
    expect(lat.cumulative.at(-1)).toBeLessThanOrEqual(N);
    expect(lat.sum).toBeGreaterThan(0);
    expect(lat.count).toBe(await scraped('keel_deployment_request_duration_seconds_count{deployment="stats",variant="main"}'));
    const le1ms = lat.le.indexOf(0.001);
    expect(lat.cumulative[le1ms]).toBe(await scraped('keel_deployment_request_duration_seconds_bucket{le="0.001",deployment="stats",variant="main"}'));

    // One row per batch here (sequential requests): every batch is in the le=1 bucket.
    const b = main.batch_size;
    expect(b.count).toBeGreaterThanOrEqual(N);
    expect(b.cumulative[b.le.indexOf(1)]).toBe(b.count);
    expect(b.sum).toBe(b.count);
    expect(main.queue_depth).toBe(0);
  });

  it("counts requests refused before they reach a variant: malformed bodies, over OIP and /invocations", async () => {
    const before = (await sdk.deploymentStats("stats")).refused.invalid;
    const bad = await fetch(`${t.url}/v2/models/stats/infer`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"inputs": []}' });
    expect(bad.status).toBe(400);
    const badMlflow = await fetch(`${t.url}/api/keel/v1/deployments/stats/invocations`, { method: "POST", headers: { "content-type": "application/json" }, body: "{not json" });
    expect(badMlflow.status).toBe(400);
    const s = await sdk.deploymentStats("stats");
    expect(s.refused.invalid).toBe(before + 2);
    expect(s.refused.invalid).toBe(await scraped('keel_deployment_refused_total{deployment="stats",reason="invalid"}'));
    // Nothing reached a variant: their counts did not move.
    expect(s.variants.find((v) => v.name === "main")!.requests.error).toBe(0);
  });

  it("reports the shadow's comparisons: the same model mirrored answers the same", async () => {
    await expect
      .poll(async () => (await sdk.deploymentStats("stats")).variants.find((v) => v.name === "mirror")!.shadow.same, { timeout: 10_000 })
      .toBeGreaterThanOrEqual(12);
    const mirror = (await sdk.deploymentStats("stats")).variants.find((v) => v.name === "mirror")!;
    expect(mirror.shadow.differs).toBe(0);
    // The shadow's answers are never returned, so they are not requests of its own.
    expect(mirror.requests.ok).toBe(0);
    const logged = await sdk.deploymentPredictions("stats", { limit: 1000 });
    const shadowed = logged.filter((p) => p.shadow_of === "main");
    expect(shadowed.length).toBeGreaterThanOrEqual(12);
    for (const p of shadowed) expect(p.outputs).toMatchObject({ max_abs_diff: 0 });
  });

  it("answers 404 for a deployment that does not exist", async () => {
    const r = await c.get("/api/keel/v1/deployments/nope/stats");
    expect(r.status).toBe(404);
    expect(r.body).toMatchObject({ error_code: "RESOURCE_DOES_NOT_EXIST" });
    await expect(sdk.deploymentStats("nope")).rejects.toMatchObject({ status: 404 });
  });
});

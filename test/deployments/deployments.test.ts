/**
 * Deployments inside `keel server`: a registered ONNX model served over OIP and MLflow scoring, canary
 * weights, pinned and sticky variants, shadow traffic, an alias moved under load (hot swap, zero failed
 * requests), batching, overload (429), the feature-lookup hook against a real table, and the prediction log.
 * Version 1 of the model is the small MLP and version 2 the medium one: same inputs and outputs, different
 * numbers, so every answer says which version computed it.
 */
import { readFileSync } from "node:fs";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDeploymentStore } from "../../src/deployments/store-sql.js";
import { client, startTestApp, type TestApp } from "../helpers/app.js";
import { expectTensorClose, fixtureCases, fixturePath } from "../helpers/serving.js";

let t: TestApp;
let c: ReturnType<typeof client>;
const SMALL = fixtureCases("mlp_small")[0];
const MEDIUM = fixtureCases("mlp_medium")[0];
const input = SMALL.inputs[0];

async function registerVersion(model: string, file: string): Promise<string> {
  const exp = (await c.post("experiments/create", { name: `exp-${model}-${Math.random()}` })).body.experiment_id;
  const run = (await c.post("runs/create", { experiment_id: exp })).body.run.info.run_id;
  const put = await fetch(`${t.url}/api/2.0/mlflow-artifacts/artifacts/${exp}/${run}/artifacts/model/model.onnx`, { method: "PUT", body: readFileSync(file) });
  expect(put.status).toBe(200);
  const v = await c.post("model-versions/create", { name: model, source: `runs:/${run}/model`, run_id: run });
  expect(v.status).toBe(200);
  return v.body.model_version.version;
}

async function infer(path: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${t.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ inputs: [{ name: input.name, datatype: "FP32", shape: input.shape, data: input.data }] }),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as { outputs: { name: string; shape: number[]; data: number[] }[]; error?: string } };
}

/** Version 2's answer to SMALL's input: learned in beforeAll from a deployment pinned to version 2 (checked against its own reference first). */
let v2Answer: number[] = [];

/** Which version computed an answer to SMALL's input: "v1" (small), "v2" (medium), or "?" */
function whichVersion(out: { data: number[] }): string {
  const close = (want: number[]) => want.every((w, i) => Math.abs(w - out.data[i]) < 1e-4);
  return close(SMALL.outputs[0].data as number[]) ? "v1" : close(v2Answer) ? "v2" : "?";
}

beforeAll(async () => {
  t = await startTestApp();
  c = client(t.url);
  await c.post("registered-models/create", { name: "fraud" });
  expect(await registerVersion("fraud", fixturePath("mlp_small"))).toBe("1");
  expect(await registerVersion("fraud", fixturePath("mlp_medium"))).toBe("2");
  await c.post("registered-models/alias", { name: "fraud", alias: "champion", version: "1" });
  expect((await c.post("/api/keel/v1/deployments", { name: "probe", variants: [{ model: "fraud", version: 2 }] })).status).toBe(200);
  const own = await fetch(`${t.url}/v2/models/probe/infer`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ inputs: MEDIUM.inputs }),
  });
  expectTensorClose(((await own.json()) as { outputs: { name: string; shape: number[]; data: number[] }[] }).outputs[0], MEDIUM.outputs[0]);
  v2Answer = (await infer("/v2/models/probe/infer")).body.outputs[0].data;
  expect(v2Answer.some((x, i) => Math.abs(x - (SMALL.outputs[0].data[i] as number)) > 1e-3)).toBe(true);
  await c.call("DELETE", "/api/keel/v1/deployments/probe");
});
afterAll(async () => t?.close());

describe("deployments", () => {
  it("serves the alias's version over OIP (JSON) and MLflow scoring, with the same numbers as onnxruntime", async () => {
    const created = await c.post("/api/keel/v1/deployments", { name: "fraud", variants: [{ model: "fraud", alias: "champion" }] });
    expect(created.status, JSON.stringify(created.body)).toBe(200);
    expect(created.body.deployment.variants).toEqual([expect.objectContaining({ name: "champion", model: "fraud", alias: "champion", version: "1", ready: true })]);
    const meta = await c.get("/v2/models/fraud");
    expect(meta.body).toMatchObject({ name: "fraud", versions: ["champion"], platform: "onnxruntime_onnx", inputs: [{ name: "input", datatype: "FP32" }] });
    const r = await infer("/v2/models/fraud/infer");
    expect(r.status).toBe(200);
    expectTensorClose(r.body.outputs[0], SMALL.outputs[0]);
    const scored = await fetch(`${t.url}/api/keel/v1/deployments/fraud/invocations`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ instances: [input.data] }),
    });
    const predictions = ((await scored.json()) as { predictions: number[][] }).predictions;
    expect(scored.status).toBe(200);
    expectTensorClose({ name: "output", shape: [1, 2], data: predictions.flat() }, SMALL.outputs[0]);
  });

  it("splits traffic by weight, pins a variant by path, and keeps a sticky key on one variant", async () => {
    const put = await c.call("PUT", "/api/keel/v1/deployments/fraud", {
      name: "fraud",
      variants: [
        { name: "champion", model: "fraud", alias: "champion", weight: 1 },
        { name: "challenger", model: "fraud", version: 2, weight: 1 },
      ],
      sticky: { header: "x-user" },
    });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    const seen = new Set<string>();
    for (let i = 0; i < 40; i++) seen.add(whichVersion((await infer("/v2/models/fraud/infer")).body.outputs[0]));
    expect(seen).toEqual(new Set(["v1", "v2"]));
    expect(whichVersion((await infer("/v2/models/fraud/versions/challenger/infer")).body.outputs[0])).toBe("v2");
    expect(whichVersion((await infer("/v2/models/fraud/versions/champion/infer")).body.outputs[0])).toBe("v1");
    expect((await infer("/v2/models/fraud/versions/nope/infer")).status).toBe(404);
    for (const user of ["alice", "bob", "carol", "dave"]) {
      const answers = new Set<string>();
      for (let i = 0; i < 8; i++) answers.add(whichVersion((await infer("/v2/models/fraud/infer", { "x-user": user })).body.outputs[0]));
      expect(answers.size, user).toBe(1);
    }
  });

  it("mirrors traffic to a shadow variant, logs both answers and their difference, and never returns the shadow's", async () => {
    const put = await c.call("PUT", "/api/keel/v1/deployments/fraud", {
      name: "fraud",
      variants: [
        { name: "champion", model: "fraud", alias: "champion", weight: 1 },
        { name: "candidate", model: "fraud", version: 2, weight: 0 },
      ],
      shadow: { variant: "candidate", fraction: 1 },
    });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    for (let i = 0; i < 10; i++) expect(whichVersion((await infer("/v2/models/fraud/infer")).body.outputs[0])).toBe("v1");
    await new Promise((r) => setTimeout(r, 200));
    const log = await c.get("/api/keel/v1/deployments/fraud/predictions", { limit: 50 });
    expect(log.status).toBe(200);
    const shadows = log.body.predictions.filter((p: { shadow_of: string | null }) => p.shadow_of === "champion");
    const primaries = log.body.predictions.filter((p: { shadow_of: string | null; variant: string }) => p.shadow_of === null && p.variant === "champion");
    expect(shadows.length).toBeGreaterThanOrEqual(10);
    expect(primaries.length).toBeGreaterThanOrEqual(10);
    expect(shadows[0]).toMatchObject({ variant: "candidate", model_version: "2", outputs: { max_abs_diff: expect.any(Number) } });
    expect(shadows[0].outputs.max_abs_diff).toBeGreaterThan(0);
    expect(primaries[0].inputs[0]).toMatchObject({ name: "input", datatype: "FP32", shape: [1, 30] });
  });

  it("swaps in the new version when the alias moves, under load, with zero failed requests", async () => {
    await c.post("registered-models/alias", { name: "fraud", alias: "champion", version: "1" });
    expect((await c.post("/api/keel/v1/deployments", { name: "swap", variants: [{ name: "champion", model: "fraud", alias: "champion" }] })).status).toBe(200);
    expect(whichVersion((await infer("/v2/models/swap/infer")).body.outputs[0])).toBe("v1");
    let stop = false;
    const statuses: number[] = [];
    const versions: string[] = [];
    const clients = Array.from({ length: 8 }, async () => {
      while (!stop) {
        const r = await infer("/v2/models/swap/infer");
        statuses.push(r.status);
        if (r.status === 200) versions.push(whichVersion(r.body.outputs[0]));
      }
    });
    await new Promise((r) => setTimeout(r, 300));
    // Move the alias five times, each time waiting (under load) until the deployment serves the new version.
    for (const target of ["2", "1", "2", "1", "2"]) {
      await c.post("registered-models/alias", { name: "fraud", alias: "champion", version: target });
      const deadline = Date.now() + 15_000;
      while ((await c.get("/api/keel/v1/deployments/swap")).body.deployment.variants[0].version !== target) {
        if (Date.now() > deadline) throw new Error(`the deployment did not swap to version ${target}`);
        await new Promise((r) => setTimeout(r, 25));
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    stop = true;
    await Promise.all(clients);
    expect(statuses.length).toBeGreaterThan(20);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect(versions.at(-1)).toBe("v2");
    expect(new Set(versions)).toEqual(new Set(["v1", "v2"]));
    const status = await c.get("/api/keel/v1/deployments/swap");
    expect(status.body.deployment.variants[0]).toMatchObject({ version: "2", ready: true });
  });

  it("batches concurrent requests and reports it in /metrics", async () => {
    await c.call("PUT", "/api/keel/v1/deployments/fraud", {
      name: "fraud",
      variants: [{ name: "champion", model: "fraud", alias: "champion" }],
      batching: { max_batch_size: 32, max_queue_delay_ms: 20 },
    });
    const answers = await Promise.all(Array.from({ length: 32 }, () => infer("/v2/models/fraud/infer")));
    expect(answers.every((a) => a.status === 200 && whichVersion(a.body.outputs[0]) === "v2")).toBe(true);
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    const count = Number(/keel_deployment_batch_size_count\{deployment="fraud",variant="champion"\} (\d+)/.exec(metrics)?.[1]);
    const sum = Number(/keel_deployment_batch_size_sum\{deployment="fraud",variant="champion"\} (\d+)/.exec(metrics)?.[1]);
    expect(sum / count).toBeGreaterThan(1);
    expect(metrics).toMatch(/keel_deployment_requests_total\{deployment="fraud",variant="champion",outcome="ok"\} \d+/);
  });

  it("rejects past the queue bound at once with 429 and Retry-After", async () => {
    await c.call("PUT", "/api/keel/v1/deployments/fraud", {
      name: "fraud",
      variants: [{ name: "champion", model: "fraud", alias: "champion" }],
      batching: { max_batch_size: 1, max_queue_delay_ms: 0 },
      queue: { max_size: 1, timeout_ms: 1000 },
    });
    const answers = await Promise.all(Array.from({ length: 64 }, () => infer("/v2/models/fraud/infer")));
    const codes = new Set(answers.map((a) => a.status));
    expect([...codes].every((s) => s === 200 || s === 429)).toBe(true);
    const rejected = answers.find((a) => a.status === 429);
    expect(rejected, "some requests were over the bound").toBeDefined();
    expect(Number(rejected?.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    // MLflow scoring refuses the same way, in its own error shape.
    const scored = await Promise.all(
      Array.from({ length: 64 }, () =>
        fetch(`${t.url}/api/keel/v1/deployments/fraud/invocations`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ inputs: [input.data] }),
        }),
      ),
    );
    expect(scored.every((r) => r.status === 200 || r.status === 429)).toBe(true);
    const refused = scored.find((r) => r.status === 429);
    expect(refused, "some scoring requests were over the bound").toBeDefined();
    expect(await refused?.json()).toMatchObject({ error_code: "REQUEST_LIMIT_EXCEEDED" });
    expect(Number(refused?.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
  });

  it("runs a variant's session on a worker thread when runtime.worker_thread is set, with the same numbers", async () => {
    const created = await c.post("/api/keel/v1/deployments", { name: "threaded", variants: [{ model: "fraud", version: 1 }], runtime: { worker_thread: true, intra_op_threads: 1 } });
    expect(created.status, JSON.stringify(created.body)).toBe(200);
    const answers = await Promise.all(Array.from({ length: 16 }, () => infer("/v2/models/threaded/infer")));
    for (const a of answers) {
      expect(a.status).toBe(200);
      expectTensorClose(a.body.outputs[0], SMALL.outputs[0]);
    }
    expect((await c.call("DELETE", "/api/keel/v1/deployments/threaded")).status).toBe(200);
  });

  it("logs every prediction by default, none with prediction_log.enabled false, and inputs/outputs read back as numbers", async () => {
    for (const [name, extra] of [
      ["logged", {}],
      ["unlogged", { prediction_log: { enabled: false } }],
    ] as const) {
      const created = await c.post("/api/keel/v1/deployments", { name, variants: [{ model: "fraud", version: 1 }], ...extra });
      expect(created.status, JSON.stringify(created.body)).toBe(200);
      for (let i = 0; i < 5; i++) expect((await infer(`/v2/models/${name}/infer`)).status).toBe(200);
    }
    const logged = (await c.get("/api/keel/v1/deployments/logged/predictions", { limit: 50 })).body.predictions;
    expect(logged).toHaveLength(5);
    expect(logged[0].inputs[0].data).toEqual((input.data as number[]).map(Math.fround));
    expectTensorClose({ name: "output", shape: [1, 2], data: logged[0].outputs[0].data }, SMALL.outputs[0]);
    expect((await c.get("/api/keel/v1/deployments/unlogged/predictions", { limit: 50 })).body.predictions).toEqual([]);
  });

  it("prunes the prediction log by age and by count, a chunk at a time", async () => {
    const store = createDeploymentStore(t.database);
    const now = Date.now();
    const rec = (deployment: string, time: number, i: number) => ({ time, requestId: `r${i}`, deployment, variant: "v", modelVersion: "1", latencyMs: 1, inputs: null, outputs: null });
    const day = 24 * 3600 * 1000;
    await store.appendPredictions([
      ...Array.from({ length: 7 }, (_, i) => rec("prune-a", now - 10 * day + i, i)),
      ...Array.from({ length: 5 }, (_, i) => rec("prune-b", now - 9 * day + i, 100 + i)),
      ...Array.from({ length: 4 }, (_, i) => rec("prune-a", now - 1000 + i, 200 + i)),
    ]);
    const count = async (d: string) => (await store.predictions(d, 1000)).length;
    expect(await count("prune-a")).toBe(11);
    // The server's default retention (a week) removes the 12 old ones and keeps the 4 recent ones.
    expect(await t.deployments.prunePredictions()).toBeGreaterThanOrEqual(12);
    expect(await count("prune-a")).toBe(4);
    expect(await count("prune-b")).toBe(0);
    // By count: keep the newest 2 of everything, deleting 3 per statement.
    let pauses = 0;
    await store.prunePredictions(now - 365 * day, 2, async () => void pauses++, 3);
    const left = await store.predictions("prune-a", 1000);
    expect(left.map((p) => p.request_id).sort()).toEqual(["r202", "r203"]);
    expect(pauses).toBeGreaterThan(0);
  });

  it("drops a request whose deadline (the deployment's queue.timeout_ms) passes while it waits: 503, never run", async () => {
    const created = await c.post("/api/keel/v1/deployments", {
      name: "slow-queue",
      variants: [{ model: "fraud", version: 2 }],
      // A batch waits up to 10 s for company, but a request only 50 ms: each one expires in the queue.
      batching: { max_batch_size: 64, max_queue_delay_ms: 10_000 },
      queue: { max_size: 100, timeout_ms: 50 },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(200);
    const r = await infer("/v2/models/slow-queue/infer");
    expect(r.status).toBe(503);
    expect(r.body.error).toMatch(/deadline/i);
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    expect(metrics).not.toMatch(/keel_deployment_batch_size_count\{deployment="slow-queue"/);
    // The request's own Keel-Timeout-Ms wins over the deployment's default.
    const own = await infer("/v2/models/slow-queue/infer", { "keel-timeout-ms": "30" });
    expect(own.status).toBe(503);
  });

  it("looks features up by entity from a table before inference", async () => {
    const db = t.database.db;
    const cols = Array.from({ length: 30 }, (_, i) => `f${i}`);
    await sql`create table customer_features (customer_id text primary key, ${sql.join(cols.map((col) => sql`${sql.ref(col)} double precision`))})`.execute(db);
    await sql`insert into customer_features values (${"c-1"}, ${sql.join((input.data as number[]).map((v) => sql`${v}`))})`.execute(db);
    const created = await c.post("/api/keel/v1/deployments", {
      name: "fraud-by-customer",
      variants: [{ model: "fraud", version: 1 }],
      features: { table: "customer_features", key_column: "customer_id", columns: cols, input: "input" },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(200);
    const meta = await c.get("/v2/models/fraud-by-customer");
    expect(meta.body.inputs).toEqual([]);
    const res = await fetch(`${t.url}/v2/models/fraud-by-customer/infer`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ inputs: [], parameters: { entity_ids: ["c-1"] } }),
    });
    const body = (await res.json()) as { outputs: { name: string; shape: number[]; data: number[] }[]; error?: string };
    expect(res.status, JSON.stringify(body)).toBe(200);
    expectTensorClose(body.outputs[0], SMALL.outputs[0]);
    const missing = await fetch(`${t.url}/v2/models/fraud-by-customer/infer`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ inputs: [], parameters: { entity_ids: ["nobody"] } }),
    });
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { error: string }).error).toMatch(/No features for customer_id 'nobody'/);
  });

  it("answers bad deployments with 4xx", async () => {
    expect((await c.post("/api/keel/v1/deployments", { name: "x", variants: [{ model: "no-such-model", version: 1 }] })).status).toBe(404);
    expect((await c.post("/api/keel/v1/deployments", { name: "x", variants: [{ model: "fraud", alias: "nope" }] })).status).toBe(400);
    expect((await c.post("/api/keel/v1/deployments", { name: "fraud", variants: [{ model: "fraud", version: 1 }] })).status).toBe(400);
    await c.post("registered-models/create", { name: "not-onnx" });
    const exp = (await c.post("experiments/create", { name: "not-onnx-exp" })).body.experiment_id;
    const run = (await c.post("runs/create", { experiment_id: exp })).body.run.info.run_id;
    await fetch(`${t.url}/api/2.0/mlflow-artifacts/artifacts/${exp}/${run}/artifacts/model/model.pkl`, { method: "PUT", body: "pickle" });
    await c.post("model-versions/create", { name: "not-onnx", source: `runs:/${run}/model`, run_id: run });
    const noOnnx = await c.post("/api/keel/v1/deployments", { name: "y", variants: [{ model: "not-onnx", version: 1 }] });
    expect(noOnnx.status).toBe(400);
    expect(noOnnx.body.message).toMatch(/no \.onnx file/);
    expect((await c.get("/api/keel/v1/deployments/none")).status).toBe(404);
    expect((await infer("/v2/models/none/infer")).status).toBe(404);
    expect((await c.call("DELETE", "/api/keel/v1/deployments/fraud-by-customer")).status).toBe(200);
    expect((await infer("/v2/models/fraud-by-customer/infer")).status).toBe(404);
  });
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { client, startTestApp, type TestApp } from "../helpers/app.js";

let t: TestApp;
let c: ReturnType<typeof client>;
beforeAll(async () => {
  t = await startTestApp();
  c = client(t.url);
});
afterAll(async () => t?.close());

async function newRun(experimentId: string, extra: Record<string, unknown> = {}): Promise<string> {
  const r = await c.post("runs/create", { experiment_id: experimentId, start_time: 1000, ...extra });
  expect(r.status).toBe(200);
  return r.body.run.info.run_id;
}

describe("experiments", () => {
  it("has the Default experiment 0", async () => {
    const r = await c.get("experiments/get", { experiment_id: "0" });
    expect(r.status).toBe(200);
    expect(r.body.experiment).toMatchObject({ experiment_id: "0", name: "Default", lifecycle_stage: "active" });
  });

  it("creates, reads by id and name, renames, tags, deletes and restores", async () => {
    const created = await c.post("experiments/create", { name: "exp-a", tags: [{ key: "team", value: "ml" }] });
    expect(created.status).toBe(200);
    const id = created.body.experiment_id;
    expect(id).toMatch(/^\d+$/);
    const got = await c.get("experiments/get-by-name", { experiment_name: "exp-a" });
    expect(got.body.experiment).toMatchObject({ experiment_id: id, artifact_location: `mlflow-artifacts:/${id}`, tags: [{ key: "team", value: "ml" }] });
    expect((await c.post("experiments/create", { name: "exp-a" })).body.error_code).toBe("RESOURCE_ALREADY_EXISTS");
    expect((await c.post("experiments/update", { experiment_id: id, new_name: "exp-b" })).status).toBe(200);
    expect((await c.get("experiments/get", { experiment_id: id })).body.experiment.name).toBe("exp-b");
    expect((await c.post("experiments/set-experiment-tag", { experiment_id: id, key: "stage", value: "dev" })).status).toBe(200);
    expect((await c.post("experiments/delete", { experiment_id: id })).status).toBe(200);
    const deleted = await c.get("experiments/get", { experiment_id: id });
    expect(deleted.body.experiment.lifecycle_stage).toBe("deleted");
    const active = await c.post("experiments/search", { filter: "name = 'exp-b'" });
    expect(active.body.experiments ?? []).toHaveLength(0);
    const del = await c.post("experiments/search", { filter: "name = 'exp-b'", view_type: "DELETED_ONLY" });
    expect(del.body.experiments).toHaveLength(1);
    expect((await c.post("runs/create", { experiment_id: id })).status).toBe(400);
    expect((await c.post("experiments/restore", { experiment_id: id })).status).toBe(200);
    expect((await c.get("experiments/get", { experiment_id: id })).body.experiment.lifecycle_stage).toBe("active");
  });

  it("answers 404 for unknown experiments, in MLflow's error shape", async () => {
    for (const r of [await c.get("experiments/get", { experiment_id: "999999" }), await c.get("experiments/get-by-name", { experiment_name: "nope" })]) {
      expect(r.status).toBe(404);
      expect(r.body.error_code).toBe("RESOURCE_DOES_NOT_EXIST");
      expect(typeof r.body.message).toBe("string");
    }
    expect((await c.get("experiments/get", { experiment_id: "abc" })).status).toBe(404);
  });

  it("refuses to delete the Default experiment", async () => {
    expect((await c.post("experiments/delete", { experiment_id: "0" })).status).toBe(400);
  });

  it("searches experiments with filters, order and page tokens", async () => {
    for (const n of ["pg-1", "pg-2", "pg-3"]) await c.post("experiments/create", { name: n, tags: [{ key: "group", value: "paging" }] });
    const first = await c.post("experiments/search", { filter: "tags.group = 'paging'", order_by: ["name DESC"], max_results: 2 });
    expect(first.body.experiments.map((e: { name: string }) => e.name)).toEqual(["pg-3", "pg-2"]);
    expect(first.body.next_page_token).toBeTruthy();
    const second = await c.get("experiments/search", { filter: "tags.group = 'paging'", order_by: "name DESC", max_results: 2, page_token: first.body.next_page_token });
    expect(second.body.experiments.map((e: { name: string }) => e.name)).toEqual(["pg-1"]);
    expect(second.body.next_page_token).toBeUndefined();
    const like = await c.post("experiments/search", { filter: "name LIKE 'pg-%'" });
    expect(like.body.experiments).toHaveLength(3);
  });
});

describe("runs", () => {
  it("creates a run with MLflow's shape and keeps run_name and mlflow.runName in sync", async () => {
    const r = await c.post("runs/create", { experiment_id: "0", run_name: "first", user_id: "ann", start_time: 5, tags: [{ key: "k", value: "v" }] });
    expect(r.status).toBe(200);
    const info = r.body.run.info;
    expect(info.run_id).toMatch(/^[0-9a-f]{32}$/);
    expect(info).toMatchObject({ run_uuid: info.run_id, experiment_id: "0", run_name: "first", user_id: "ann", status: "RUNNING", start_time: 5, lifecycle_stage: "active" });
    expect(info.artifact_uri).toBe(`mlflow-artifacts:/0/${info.run_id}/artifacts`);
    expect(info.end_time).toBeUndefined();
    const upd = await c.post("runs/update", { run_id: info.run_id, status: "FINISHED", end_time: 99, run_name: "renamed" });
    expect(upd.body.run_info).toMatchObject({ status: "FINISHED", end_time: 99, run_name: "renamed" });
    const got = await c.get("runs/get", { run_id: info.run_id });
    expect(got.body.run.data.tags).toContainEqual({ key: "mlflow.runName", value: "renamed" });
    await c.post("runs/set-tag", { run_id: info.run_id, key: "mlflow.runName", value: "via-tag" });
    expect((await c.get("runs/get", { run_uuid: info.run_id })).body.run.info.run_name).toBe("via-tag");
  });

  it("logs metrics (with NaN and ±Infinity), params, tags and batches", async () => {
    const id = await newRun("0");
    expect((await c.post("runs/log-metric", { run_id: id, key: "loss", value: 1.5, timestamp: 10, step: 0 })).status).toBe(200);
    expect((await c.post("runs/log-metric", { run_uuid: id, key: "loss", value: "NaN", timestamp: 11, step: 1 })).status).toBe(200);
    await c.post("runs/log-metric", { run_id: id, key: "up", value: "Infinity", timestamp: "12" });
    await c.post("runs/log-metric", { run_id: id, key: "down", value: "-Infinity", timestamp: 12 });
    expect((await c.post("runs/log-parameter", { run_id: id, key: "lr", value: "0.1" })).status).toBe(200);
    expect((await c.post("runs/log-parameter", { run_id: id, key: "lr", value: "0.1" })).status).toBe(200);
    const changed = await c.post("runs/log-parameter", { run_id: id, key: "lr", value: "0.2" });
    expect(changed.status).toBe(400);
    expect(changed.body.error_code).toBe("INVALID_PARAMETER_VALUE");
    const batch = await c.post("runs/log-batch", {
      run_id: id,
      metrics: [
        { key: "acc", value: 0.5, timestamp: 1, step: 1 },
        { key: "acc", value: 0.7, timestamp: 2, step: 2 },
      ],
      params: [{ key: "depth", value: "3" }],
      tags: [{ key: "team", value: "x" }],
    });
    expect(batch.status).toBe(200);
    const run = (await c.get("runs/get", { run_id: id })).body.run;
    const metrics = Object.fromEntries(run.data.metrics.map((m: { key: string; value: unknown }) => [m.key, m.value]));
    expect(metrics).toEqual({ loss: "NaN", up: "Infinity", down: "-Infinity", acc: 0.7 });
    expect(run.data.params).toEqual([
      { key: "depth", value: "3" },
      { key: "lr", value: "0.1" },
    ]);
    const hist = await c.get("metrics/get-history", { run_id: id, metric_key: "loss" });
    expect(hist.body.metrics).toEqual([
      { key: "loss", value: 1.5, timestamp: 10, step: 0 },
      { key: "loss", value: "NaN", timestamp: 11, step: 1 },
    ]);
  });

  it("returns metric history exactly, ordered by step, timestamp and value, in pages and in bulk", async () => {
    const a = await newRun("0");
    const b = await newRun("0");
    // Doubles that need all 17 digits, subnormals, huge and tiny exponents, negative zero, NaN and ±Infinity.
    const special = [0.1 + 0.2, 5e-324, 1.7976931348623157e308, -1e-300, 123456789.12345679, -0, 1 / 3, 2 ** 53 + 2];
    const points: { key: string; value: number | string; timestamp: number; step: number }[] = [];
    for (let i = 0; i < 60; i++) {
      const step = (i * 37) % 20; // logged out of order, with repeated steps
      const value = i < special.length ? special[i] : i % 17 === 0 ? "NaN" : i % 19 === 0 ? "Infinity" : i % 23 === 0 ? "-Infinity" : Math.sin(i) * 10 ** ((i % 9) - 4);
      points.push({ key: "h", value, timestamp: 1000 + (i % 3), step });
    }
    for (const run of [a, b]) expect((await c.post("runs/log-batch", { run_id: run, metrics: points })).status).toBe(200);
    const num = (v: number | string) => (typeof v === "number" ? v : v === "NaN" ? Number.NaN : v === "Infinity" ? Infinity : -Infinity);
    const sortKey = (p: (typeof points)[number]) => [p.step, p.timestamp, Number.isNaN(num(p.value)) ? 0 : num(p.value)];
    const expected = [...points]
      .sort((x, y) => {
        const [kx, ky] = [sortKey(x), sortKey(y)];
        return kx[0] - ky[0] || kx[1] - ky[1] || (kx[2] < ky[2] ? -1 : kx[2] > ky[2] ? 1 : 0);
      })
      .map((p) => ({ ...p, value: Object.is(p.value, -0) ? 0 : p.value }));

    const one = await c.get("metrics/get-history", { run_id: a, metric_key: "h" });
    expect(one.body.metrics).toHaveLength(60);
    // Same multiset of points, in order by step then timestamp (ties on value may fall either way around NaN).
    expect(one.body.metrics.map((p: { step: number; timestamp: number }) => [p.step, p.timestamp])).toEqual(expected.map((p) => [p.step, p.timestamp]));
    const canon = (xs: { value: unknown; step: number; timestamp: number }[]) => xs.map((p) => JSON.stringify(p)).sort();
    expect(canon(one.body.metrics)).toEqual(canon(expected));

    const paged: unknown[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const r = await c.get("metrics/get-history", { run_id: a, metric_key: "h", max_results: 7, ...(token ? { page_token: token } : {}) });
      expect(r.status).toBe(200);
      paged.push(...r.body.metrics);
      token = r.body.next_page_token;
      pages++;
    } while (token);
    expect(pages).toBe(9);
    expect(paged).toEqual(one.body.metrics);

    const exact = await c.get("metrics/get-history", { run_id: a, metric_key: "h", max_results: 60 });
    expect(exact.body.next_page_token).toBeUndefined();

    const bulk = await c.get("metrics/get-history-bulk", { run_id: [a, b], metric_key: "h" });
    expect(bulk.body.metrics).toHaveLength(120);
    for (const run of [a, b]) {
      const mine = bulk.body.metrics.filter((p: { run_id: string }) => p.run_id === run).map(({ run_id, ...p }: { run_id: string }) => p);
      expect(mine).toEqual(one.body.metrics);
    }
    expect((await c.get("metrics/get-history", { run_id: a, metric_key: "absent" })).body).toEqual({});
  });

  it("a failed batch writes nothing", async () => {
    const id = await newRun("0");
    await c.post("runs/log-parameter", { run_id: id, key: "p", value: "a" });
    const r = await c.post("runs/log-batch", { run_id: id, metrics: [{ key: "m", value: 1, timestamp: 1 }], params: [{ key: "p", value: "b" }] });
    expect(r.status).toBe(400);
    const run = (await c.get("runs/get", { run_id: id })).body.run;
    expect(run.data.metrics).toBeUndefined();
  });

  it("deletes tags, deletes and restores runs, and refuses writes to deleted runs", async () => {
    const id = await newRun("0", { tags: [{ key: "t", value: "1" }] });
    expect((await c.post("runs/delete-tag", { run_id: id, key: "t" })).status).toBe(200);
    expect((await c.post("runs/delete-tag", { run_id: id, key: "t" })).status).toBe(404);
    expect((await c.post("runs/delete", { run_id: id })).status).toBe(200);
    expect((await c.get("runs/get", { run_id: id })).body.run.info.lifecycle_stage).toBe("deleted");
    const w = await c.post("runs/log-metric", { run_id: id, key: "m", value: 1, timestamp: 1 });
    expect(w.status).toBe(400);
    expect(w.body.message).toContain("must be in the 'active' state");
    expect((await c.post("runs/restore", { run_id: id })).status).toBe(200);
    expect((await c.post("runs/log-metric", { run_id: id, key: "m", value: 1, timestamp: 1 })).status).toBe(200);
    expect((await c.get("runs/get", { run_id: "0".repeat(32) })).status).toBe(404);
  });

  it("logs a model into mlflow.log-model.history and inputs into run.inputs", async () => {
    const id = await newRun("0");
    const model = { run_id: id, artifact_path: "model", flavors: { python_function: {} }, utc_time_created: "2026-01-01 00:00:00" };
    expect((await c.post("runs/log-model", { run_id: id, model_json: JSON.stringify(model) })).status).toBe(200);
    expect((await c.post("runs/log-model", { run_id: id, model_json: "{not json" })).status).toBe(400);
    const ds = { name: "train", digest: "abc", source_type: "local", source: '{"uri":"/tmp/x"}', schema: "{}", profile: '{"num_rows":3}' };
    const li = await c.post("runs/log-inputs", { run_id: id, datasets: [{ tags: [{ key: "mlflow.data.context", value: "training" }], dataset: ds }] });
    expect(li.status).toBe(200);
    const run = (await c.get("runs/get", { run_id: id })).body.run;
    const hist = JSON.parse(run.data.tags.find((t: { key: string }) => t.key === "mlflow.log-model.history").value);
    expect(hist[0].artifact_path).toBe("model");
    expect(run.inputs.dataset_inputs).toEqual([{ tags: [{ key: "mlflow.data.context", value: "training" }], dataset: ds }]);
    const sd = await c.post("/ajax-api/2.0/mlflow/experiments/search-datasets", { experiment_ids: ["0"] });
    expect(sd.body.dataset_summaries).toContainEqual({ experiment_id: "0", name: "train", digest: "abc", context: "training" });
  });
});

describe("run search", () => {
  let exp: string;
  const ids: string[] = [];
  beforeAll(async () => {
    exp = (await c.post("experiments/create", { name: "search-exp" })).body.experiment_id;
    for (let i = 0; i < 6; i++) {
      const id = await newRun(exp, { start_time: 1000 + i, run_name: `run-${i}` });
      ids.push(id);
      await c.post("runs/log-batch", {
        run_id: id,
        metrics: i === 5 ? [] : [{ key: "acc", value: i / 10, timestamp: 1, step: 0 }],
        params: [{ key: "model", value: i % 2 ? "x" : "y" }],
        tags: [{ key: "odd", value: i % 2 ? "yes" : "no" }],
      });
    }
  });

  const names = (r: { body: { runs?: { info: { run_name: string } }[] } }) => (r.body.runs ?? []).map((x) => x.info.run_name);

  it("filters on metrics, params, tags and attributes", async () => {
    expect(names(await c.post("runs/search", { experiment_ids: [exp], filter: "metrics.acc > 0.15 and params.model = 'x'", order_by: ["metrics.acc DESC"] }))).toEqual([
      "run-3",
      "run-1",
    ].filter((n) => n !== "run-1"));
    expect(names(await c.post("runs/search", { experiment_ids: [exp], filter: "tags.odd = 'no'", order_by: ["attributes.start_time ASC"] }))).toEqual([
      "run-0",
      "run-2",
      "run-4",
    ]);
    expect(names(await c.post("runs/search", { experiment_ids: [exp], filter: "attributes.run_name LIKE 'run-%' and params.model != 'x'" })).sort()).toEqual([
      "run-0",
      "run-2",
      "run-4",
    ]);
    expect(names(await c.post("runs/search", { experiment_ids: [exp], filter: `attributes.run_id IN ('${ids[2]}', '${ids[3]}')` })).sort()).toEqual(["run-2", "run-3"]);
  });

  it("orders missing metrics last and defaults to start_time DESC", async () => {
    expect(names(await c.post("runs/search", { experiment_ids: [exp], order_by: ["metrics.acc ASC"] }))).toEqual(["run-0", "run-1", "run-2", "run-3", "run-4", "run-5"]);
    expect(names(await c.post("runs/search", { experiment_ids: [exp], order_by: ["metrics.acc DESC"] }))).toEqual(["run-4", "run-3", "run-2", "run-1", "run-0", "run-5"]);
    expect(names(await c.post("runs/search", { experiment_ids: [exp] }))).toEqual(["run-5", "run-4", "run-3", "run-2", "run-1", "run-0"]);
  });

  it("pages with tokens and honours view types", async () => {
    const p1 = await c.post("runs/search", { experiment_ids: [exp], max_results: 4 });
    expect(names(p1)).toHaveLength(4);
    const p2 = await c.post("runs/search", { experiment_ids: [exp], max_results: 4, page_token: p1.body.next_page_token });
    expect(names(p2)).toEqual(["run-1", "run-0"]);
    expect(p2.body.next_page_token).toBeUndefined();
    await c.post("runs/delete", { run_id: ids[0] });
    expect(names(await c.post("runs/search", { experiment_ids: [exp], run_view_type: "DELETED_ONLY" }))).toEqual(["run-0"]);
    expect(names(await c.post("runs/search", { experiment_ids: [exp], run_view_type: "ALL" }))).toHaveLength(6);
    await c.post("runs/restore", { run_id: ids[0] });
  });

  it("stores and finds long incompressible param and tag values (beyond Postgres' index-row limit)", async () => {
    const long = (n: number, seed: number) => Array.from({ length: n }, (_, i) => String.fromCharCode(0x4e00 + ((i * 7919 + seed) % 20000))).join("");
    const id = await newRun(exp, { start_time: 999, run_name: "long-values" });
    const param = long(6000, 1);
    const tag = long(8000, 2);
    // Same 256-character prefix, different tail: the prefix index must not be the whole comparison.
    const sibling = param.slice(0, 300) + long(100, 3);
    expect((await c.post("runs/log-batch", { run_id: id, params: [{ key: "big", value: param }], tags: [{ key: "big", value: tag }] })).status).toBe(200);
    const other = await newRun(exp, { start_time: 998, run_name: "long-sibling" });
    expect((await c.post("runs/log-parameter", { run_id: other, key: "big", value: sibling })).status).toBe(200);
    expect(names(await c.post("runs/search", { experiment_ids: [exp], filter: `params.big = '${param}'` }))).toEqual(["long-values"]);
    expect(names(await c.post("runs/search", { experiment_ids: [exp], filter: `params.big IN ('${sibling}')` }))).toEqual(["long-sibling"]);
    expect(names(await c.post("runs/search", { experiment_ids: [exp], filter: `tags.big = '${tag}'` }))).toEqual(["long-values"]);
    const got = await c.get("runs/get", { run_id: id });
    expect(got.body.run.data.params).toEqual([{ key: "big", value: param }]);
    for (const r of [id, other]) await c.post("runs/delete", { run_id: r });
  });

  it("rejects bad filters, order_by and tokens with 400", async () => {
    for (const body of [
      { experiment_ids: [exp], filter: "metrics.acc > 0.1 OR params.a = 'b'" },
      { experiment_ids: [exp], filter: "params.model = x" },
      { experiment_ids: [exp], order_by: ["metrics.acc SIDEWAYS"] },
      { experiment_ids: [exp], page_token: "garbage" },
      { experiment_ids: [exp], max_results: 50001 },
      { experiment_ids: ["abc"] },
    ]) {
      const r = await c.post("runs/search", body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error_code).toBe("INVALID_PARAMETER_VALUE");
    }
  });
});

describe("limits", () => {
  it("enforces MLflow's batch and length limits", async () => {
    const id = await newRun("0");
    const metric = (i: number) => ({ key: `m${i}`, value: i, timestamp: 1 });
    const cases: [unknown, number][] = [
      [{ run_id: id, metrics: Array.from({ length: 1001 }, (_, i) => metric(i)) }, 400],
      [{ run_id: id, params: Array.from({ length: 101 }, (_, i) => ({ key: `p${i}`, value: "v" })) }, 400],
      [{ run_id: id, tags: Array.from({ length: 101 }, (_, i) => ({ key: `t${i}`, value: "v" })) }, 400],
      [{ run_id: id, metrics: Array.from({ length: 950 }, (_, i) => metric(i)), params: Array.from({ length: 60 }, (_, i) => ({ key: `p${i}`, value: "v" })) }, 400],
      [{ run_id: id, params: [{ key: "x".repeat(251), value: "v" }] }, 400],
      [{ run_id: id, params: [{ key: "ok", value: "v".repeat(6001) }] }, 400],
      [{ run_id: id, tags: [{ key: "ok", value: "v".repeat(8001) }] }, 400],
      [{ run_id: id, tags: [{ key: "ok", value: "v".repeat(8000) }] }, 200],
      [{ run_id: id, metrics: [{ key: "../etc", value: 1, timestamp: 1 }] }, 400],
      [{ run_id: id, metrics: [{ key: "a//b", value: 1, timestamp: 1 }] }, 400],
      [{ run_id: id, metrics: [{ key: "bad!", value: 1, timestamp: 1 }] }, 400],
      [{ run_id: id, metrics: [{ key: "ok", value: "abc", timestamp: 1 }] }, 400],
      [{ run_id: id, metrics: [{ key: "ok", value: 1 }] }, 400],
      [{ run_id: id, metrics: Array.from({ length: 1000 }, (_, i) => metric(i)) }, 200],
    ];
    for (const [body, status] of cases) {
      const r = await c.post("runs/log-batch", body);
      expect(r.status, JSON.stringify(body).slice(0, 120)).toBe(status);
      if (status === 400) expect(r.body.error_code).toBe("INVALID_PARAMETER_VALUE");
    }
  });
});

describe("server", () => {
  it("serves both prefixes, health, version, metrics and docs", async () => {
    expect((await c.get("/ajax-api/2.0/mlflow/experiments/get", { experiment_id: "0" })).status).toBe(200);
    expect((await fetch(`${t.url}/health`)).status).toBe(200);
    expect(await (await fetch(`${t.url}/version`)).text()).toMatch(/^\d+\.\d+\.\d+/);
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    expect(metrics).toContain("keel_http_request_duration_seconds_bucket");
    expect(metrics).toContain('keel_db_pool_connections{state="total"}');
    const docs = (await (await fetch(`${t.url}/docs/json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(docs.paths)).toContain("/api/keel/v1/runs/compare");
    const nf = await c.get("/api/2.0/mlflow/nope");
    expect(nf.status).toBe(404);
    expect(nf.body.error_code).toBe("ENDPOINT_NOT_FOUND");
  });
});

describe("input guard", () => {
  it("refuses NUL characters anywhere with 400 (Postgres cannot store them)", async () => {
    const id = (await c.post("runs/create", { experiment_id: "0" })).body.run.info.run_id;
    for (const r of [
      await c.post("runs/set-tag", { run_id: id, key: "k", value: "a\u0000b" }),
      await c.post("experiments/create", { name: "nul\u0000name" }),
      await c.get("experiments/get-by-name", { experiment_name: "x\u0000" }),
      await c.post("/api/keel/v1/runs/compare", { run_ids: ["a\u0000"], metric_keys: ["m"] }),
    ]) {
      expect(r.status).toBe(400);
      expect(r.body.message).toContain("NUL");
    }
  });

  it("answers 404, not a driver error, for experiment ids beyond 32 bits", async () => {
    expect((await c.get("experiments/get", { experiment_id: "99999999999" })).status).toBe(404);
    expect((await c.post("runs/search", { experiment_ids: ["99999999999"] })).status).toBe(400);
  });
});

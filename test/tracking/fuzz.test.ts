/**
 * Property tests for principle 5 ("bad input gets a clear 4xx, never a 5xx, never a hang"): random and
 * malformed bodies and query strings go to every MLflow route under both prefixes and to every Keel route.
 * Every answer must be a 2xx (the random input happened to be valid) or a 4xx with MLflow's error shape,
 * and must arrive within a few seconds. Seeded experiments and runs make random inputs hit real ids.
 * The generators and the check live in ../helpers/fuzz.ts.
 */
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KEEL_PREFIX, MLFLOW_PREFIXES } from "../../src/server/app.js";
import { trackingEndpoints } from "../../src/tracking/routes.js";
import type { TrackingService } from "../../src/tracking/service.js";
import { LIMITS } from "../../src/tracking/validation.js";
import { client, startTestApp, type TestApp } from "../helpers/app.js";
import { Fresh, fuzzer, Raw, serverErrorCounts, REQUEST_TIMEOUT_MS, type Req, RUNS_AJAX, RUNS_PRIMARY, type Template, toJsonText, toQuery } from "../helpers/fuzz.js";

// The route table itself, read without calling a handler (the service is never touched).
const ENDPOINTS = trackingEndpoints({} as TrackingService).flatMap((e) => e.methods.map((method) => ({ method, path: e.path })));

let t: TestApp;
const seed = {
  experimentIds: [] as string[],
  experimentNames: [] as string[],
  runIds: [] as string[],
  deletedRunId: "",
  metricKeys: ["loss", "acc", "nan_metric", "a/b c.d-e"],
  pageToken: Buffer.from(JSON.stringify({ offset: 1 })).toString("base64"),
};

beforeAll(async () => {
  t = await startTestApp();
  const c = client(t.url);
  for (const name of ["fuzz-a", "fuzz b/ü"]) {
    const r = await c.post("experiments/create", { name, tags: [{ key: "team", value: "fuzz" }] });
    expect(r.status).toBe(200);
    seed.experimentIds.push(r.body.experiment_id);
    seed.experimentNames.push(name);
  }
  for (let i = 0; i < 4; i++) {
    const r = await c.post("runs/create", { experiment_id: seed.experimentIds[i % 2], run_name: `seed-${i}`, start_time: 1000 + i });
    expect(r.status).toBe(200);
    const id: string = r.body.run.info.run_id;
    seed.runIds.push(id);
    const batch = await c.post("runs/log-batch", {
      run_id: id,
      metrics: [
        ...Array.from({ length: 50 }, (_, s) => ({ key: "loss", value: 1 / (s + 1), timestamp: 10 + s, step: s })),
        { key: "acc", value: 0.5, timestamp: 1, step: 0 },
        { key: "nan_metric", value: "NaN", timestamp: 1, step: 0 },
        { key: "nan_metric", value: "Infinity", timestamp: 2, step: 1 },
        { key: "a/b c.d-e", value: -1, timestamp: 1, step: 3 },
      ],
      params: [{ key: "lr", value: String(0.01 * (i + 1)) }],
      tags: [{ key: "odd", value: i % 2 ? "yes" : "no" }],
    });
    expect(batch.status).toBe(200);
  }
  const ds = { name: "train", digest: "d1", source_type: "local", source: "{}", schema: "{}", profile: "{}" };
  expect((await c.post("runs/log-inputs", { run_id: seed.runIds[0], datasets: [{ dataset: ds, tags: [{ key: "mlflow.data.context", value: "train" }] }] })).status).toBe(200);
  // One deleted run: writes to it must be refused with a 4xx, reads still work.
  seed.deletedRunId = seed.runIds[3];
  expect((await c.post("runs/delete", { run_id: seed.deletedRunId })).status).toBe(200);
});
afterAll(async () => t?.close());

/** Search-grammar fragments, so filters get past the first token often enough to reach the SQL. */
const FILTER_IDENTS = [
  "metrics.loss",
  "metrics.`a/b c.d-e`",
  "metric.acc",
  "params.lr",
  "params.`lr`",
  "tags.odd",
  'tags."mlflow.runName"',
  "tags.team",
  "attributes.start_time",
  "attributes.end_time",
  "attributes.run_id",
  "attribute.run_name",
  "attributes.status",
  "attributes.experiment_id",
  "attributes.lifecycle_stage",
  "run.user_id",
  "datasets.name",
  "datasets.digest",
  "datasets.context",
  "name",
  "creation_time",
  "last_update_time",
  "experiment_id",
  "attributes.name",
  "Created",
  "bogus.thing",
  "metrics.",
  "`unterminated",
];

const { check, failuresOf, fuzzRoute } = fuzzer({
  url: () => t.url,
  ids: () => [...seed.runIds, ...seed.experimentIds],
  words: seed.metricKeys,
  filterIdents: FILTER_IDENTS,
  orderIdents: [...FILTER_IDENTS, "start_time", "run_id", "metrics.nope"],
});

// ---- Request templates: one valid request per route, which the generators then break -----------

function templates(path: string): Template {
  const [r0, r1] = seed.runIds;
  const [e0, e1] = seed.experimentIds;
  const uniq = () => new Fresh();
  const tagList = [{ key: "k", value: "v" }];
  const ds = { name: "d", digest: "x", source_type: "local", source: "{}", schema: "{}", profile: "{}" };
  const table: Record<string, Template> = {
    "/experiments/create": { name: uniq(), artifact_location: "s3://bucket/p", tags: tagList },
    "/experiments/get": { experiment_id: e0 },
    "/experiments/get-by-name": { experiment_name: seed.experimentNames[0] },
    "/experiments/search": { max_results: 10, page_token: seed.pageToken, filter: "name LIKE 'fuzz%'", order_by: ["name DESC"], view_type: "ALL" },
    "/experiments/update": { experiment_id: e1, new_name: uniq() },
    "/experiments/delete": { experiment_id: e1 },
    "/experiments/restore": { experiment_id: e1 },
    "/experiments/set-experiment-tag": { experiment_id: e0, key: "k", value: "v" },
    "/experiments/search-datasets": { experiment_ids: [e0, e1] },
    "/runs/create": { experiment_id: e0, user_id: "u", run_name: "r", start_time: 5, tags: tagList },
    "/runs/update": { run_id: r1, run_uuid: r1, status: "FINISHED", end_time: 10, run_name: "renamed" },
    "/runs/delete": { run_id: r1 },
    "/runs/restore": { run_id: r1 },
    "/runs/get": { run_id: r0 },
    "/runs/log-metric": { run_id: r0, run_uuid: r0, key: "loss", value: 0.5, timestamp: 99, step: 1 },
    "/runs/log-parameter": { run_id: r0, key: "lr", value: "0.01" },
    "/runs/set-tag": { run_id: r0, key: "k", value: "v" },
    "/runs/delete-tag": { run_id: r0, key: "k" },
    "/runs/log-batch": {
      run_id: r0,
      metrics: [
        { key: "loss", value: 1, timestamp: 1, step: 1 },
        { key: "acc", value: "NaN", timestamp: 2, step: 2 },
      ],
      params: [{ key: new Fresh(), value: "v" }], // params are immutable: a fresh key each time keeps the template valid
      tags: tagList,
    },
    "/runs/log-model": { run_id: r0, model_json: JSON.stringify({ artifact_path: "model", flavors: { python_function: {} } }) },
    "/runs/log-inputs": { run_id: r0, datasets: [{ tags: [{ key: "mlflow.data.context", value: "train" }], dataset: ds }] },
    "/runs/search": {
      experiment_ids: [e0, e1],
      filter: "metrics.loss < 1 and params.lr = '0.01'",
      run_view_type: "ALL",
      max_results: 5,
      order_by: ["metrics.loss DESC"],
      page_token: seed.pageToken,
    },
    "/metrics/get-history": { run_id: r0, metric_key: "loss", page_token: seed.pageToken, max_results: 10 },
    "/metrics/get-history-bulk": { run_id: [r0, r1], metric_key: "loss", max_results: 100 },
    "/metrics/get-history-bulk-interval": { run_ids: [r0, r1], metric_key: "loss", start_step: 0, end_step: 30, max_results: 10 },
    // Keel routes (paths relative to the Keel prefix).
    "/runs/compare": { run_ids: [r0, r1], metric_keys: ["loss", "nan_metric"], max_points: 10, method: "lttb", x_axis: "step", full_resolution: false },
    "/experiments/keys": { experiment_ids: [e0, e1] },
    "/lineage": { run_id: r0, max_results: 10 },
    "/deployments": { name: uniq(), variants: [{ model: "no-such-model", version: 1, weight: 1 }], batching: { max_batch_size: 8, max_queue_delay_ms: 1 } },
    "/webhooks": { name: uniq(), url: "http://127.0.0.1:9/hook", events: ["model_created"], model: "m" },
    "/users": { username: uniq(), password: "correct-horse-battery", is_admin: false },
    "/groups": { name: uniq() },
    "/tokens": { name: "fuzz", expires_in: "30d", username: "nobody-here" },
    "/permissions": { resource: `experiment:${e0}` },
    "/audit": { actor: "anonymous", resource: `run:${r0}`, action: "POST /runs/log-batch", since: 0, until: 99999999999999, after: 0, limit: 10 },
  };
  return table[path] ?? {};
}

/** Random deletes and restores hit the seeded entities too: put them back as seeded before the next route. */
async function heal(): Promise<void> {
  const c = client(t.url);
  for (const id of seed.experimentIds) await c.post("experiments/restore", { experiment_id: id });
  for (const id of seed.runIds) await c.post(id === seed.deletedRunId ? "runs/delete" : "runs/restore", { run_id: id });
}

describe.each(MLFLOW_PREFIXES)("MLflow routes under %s", (prefix) => {
  const numRuns = prefix === MLFLOW_PREFIXES[0] ? RUNS_PRIMARY : RUNS_AJAX;
  it.each(ENDPOINTS)("$method $path never answers 5xx, always MLflow-shaped, never hangs", async ({ method, path }) => {
    await fuzzRoute(method, `${prefix}${path}`, templates(path), numRuns, numRuns === RUNS_PRIMARY, heal);
  });
});

describe("Keel routes", () => {
  it("every route listed in the OpenAPI document is fuzzed", async () => {
    const doc = (await (await fetch(`${t.url}/docs/json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const routes = Object.entries(doc.paths)
      .filter(([p]) => p.startsWith(KEEL_PREFIX))
      .flatMap(([p, ops]) => Object.keys(ops).map((m) => ({ method: m.toUpperCase(), path: p })))
      .filter((r) => r.method === "GET" || r.method === "POST");
    expect(routes.map((r) => `${r.method} ${r.path}`)).toEqual(expect.arrayContaining(["POST /api/keel/v1/runs/compare", "GET /api/keel/v1/experiments/keys"]));
    for (const r of routes) {
      // Path parameters ({id}) get junk too.
      const concrete = r.path.replace("{version}", "1").replace("{id}", "1").replace(/\{[^}]+\}/g, () => encodeURIComponent(seed.runIds[0]));
      await fuzzRoute(r.method, concrete, templates(r.path.slice(KEEL_PREFIX.length)), RUNS_PRIMARY, true, heal);
    }
  });
});

describe("hand-picked hostile requests", () => {
  const r0 = () => seed.runIds[0];
  const post = (path: string, body: unknown): Req => ({ method: "POST", path: `/api/2.0/mlflow${path}`, contentType: "application/json", body: toJsonText(body) });
  const get = (path: string, q: Template): Req => ({ method: "GET", path: `/api/2.0/mlflow${path}`, query: toQuery(q) });

  it("long, huge, deep and odd inputs answer 4xx or 2xx", async () => {
    const incompressible = (n: number) => Array.from({ length: n }, (_, i) => String.fromCharCode(0x4e00 + ((i * 7919) % 20000))).join("");
    const inList = (n: number) => `params.lr IN (${Array.from({ length: n }, (_, i) => `'v${i}'`).join(",")})`;
    const cases: Req[] = [
      // Values at the limits, incompressible (Postgres btree rows over ~2700 bytes fail unless refused or stored un-indexed).
      post("/runs/set-tag", { run_id: r0(), key: "big-tag", value: incompressible(8000) }),
      post("/runs/log-parameter", { run_id: r0(), key: "big-param", value: incompressible(6000) }),
      post("/experiments/set-experiment-tag", { experiment_id: seed.experimentIds[0], key: "big", value: incompressible(8000) }),
      post("/experiments/create", { name: incompressible(500) }),
      post("/runs/log-inputs", {
        run_id: r0(),
        datasets: [{ dataset: { name: incompressible(3000), digest: incompressible(3000), source_type: "local", source: incompressible(60000) } }],
      }),
      post("/runs/create", { experiment_id: seed.experimentIds[0], run_name: "é".repeat(250) }),
      // NUL characters (Postgres text cannot hold them).
      post("/runs/set-tag", { run_id: r0(), key: "nul", value: "a\u0000b" }),
      post("/runs/log-parameter", { run_id: r0(), key: "nulp", value: "\u0000" }),
      post("/experiments/create", { name: "nul\u0000name" }),
      get("/experiments/get-by-name", { experiment_name: "a\u0000b" }),
      post("/runs/search", { experiment_ids: [seed.experimentIds[0]], filter: "tags.odd = '\u0000'" }),
      post("/runs/log-inputs", { run_id: r0(), datasets: [{ dataset: { name: "n\u0000", digest: "d", source_type: "s", source: "x" } }] }),
      // Ids out of every integer column's range.
      get("/experiments/get", { experiment_id: "999999999999999" }),
      get("/experiments/get", { experiment_id: "2147483648" }),
      post("/runs/create", { experiment_id: "2147483648" }),
      post("/runs/search", { experiment_ids: ["99999999999"] }),
      post("/experiments/search-datasets", { experiment_ids: ["99999999999"] }),
      post("/experiments/search", { filter: "experiment_id = '99999999999'" }),
      post("/experiments/search", { filter: "attributes.experiment_id IN ('1', '99999999999999999999')" }),
      post("/runs/search", { experiment_ids: [seed.experimentIds[0]], filter: "attributes.experiment_id = '99999999999'" }),
      { method: "GET", path: `${KEEL_PREFIX}/experiments/keys`, query: "experiment_ids=999999999999999" },
      // Numbers that are not integers where the column is an integer.
      post("/experiments/search", { filter: "creation_time > 1.5" }),
      post("/experiments/search", { filter: "creation_time > 1e999" }),
      post("/experiments/search", { filter: "last_update_time < 99999999999999999999" }),
      post("/runs/search", { experiment_ids: [seed.experimentIds[0]], filter: "attributes.start_time > 1e999" }),
      post("/runs/search", { experiment_ids: [seed.experimentIds[0]], filter: "metrics.loss > 1e999" }),
      post("/runs/search", { experiment_ids: [seed.experimentIds[0]], filter: "metrics.loss > -1e999 and metrics.loss < 1e-999" }),
      // Step and timestamp at the edges of int64 / safe integers.
      post("/runs/log-metric", { run_id: r0(), key: "edge", value: 1, timestamp: Number.MAX_SAFE_INTEGER, step: Number.MIN_SAFE_INTEGER }),
      post("/runs/log-metric", { run_id: r0(), key: "edge", value: new Raw("1e400"), timestamp: 1, step: new Raw("9223372036854775807") }),
      post("/runs/log-metric", { run_id: r0(), key: "edge", value: new Raw("-1e400"), timestamp: new Raw("1e20") }),
      post("/runs/update", { run_id: r0(), end_time: new Raw("123456789012345678901234567890") }),
      get("/metrics/get-history-bulk-interval", { run_ids: [r0()], metric_key: "loss", start_step: "-9007199254740991", end_step: "9007199254740991" }),
      // Huge IN lists: more bind parameters than either database allows in one statement.
      post("/runs/search", { experiment_ids: [seed.experimentIds[0]], filter: inList(40_000) }),
      post("/runs/search", { experiment_ids: [seed.experimentIds[0]], filter: inList(70_000) }),
      post("/experiments/search", { filter: `name IN (${Array.from({ length: 70_000 }, (_, i) => `'n${i}'`).join(",")})` }),
      post("/runs/search", { experiment_ids: Array.from({ length: 70_000 }, (_, i) => String(i)) }),
      post("/runs/search", { experiment_ids: [seed.experimentIds[0]], filter: Array.from({ length: 2000 }, () => "params.lr = 'x'").join(" and ") }),
      post("/runs/search", { experiment_ids: [seed.experimentIds[0]], order_by: Array.from({ length: 2000 }, (_, i) => `metrics.m${i} DESC`) }),
      // Searches at the size limits answer in time; one past them is refused.
      post("/runs/search", {
        experiment_ids: seed.experimentIds,
        filter: Array.from({ length: LIMITS.filterClauses }, (_, i) => (i % 2 ? `params.p${i} = 'x'` : `metrics.m${i} > ${i}`)).join(" and "),
        order_by: Array.from({ length: LIMITS.orderByTerms }, (_, i) => (i % 2 ? `tags.t${i} DESC` : `metrics.m${i} ASC`)),
      }),
      post("/experiments/search", {
        filter: Array.from({ length: LIMITS.filterClauses }, (_, i) => `tags.t${i} LIKE '%x%'`).join(" and "),
        order_by: Array.from({ length: LIMITS.orderByTerms }, () => "name DESC"),
      }),
      post("/runs/search", { experiment_ids: seed.experimentIds, filter: Array.from({ length: LIMITS.filterClauses + 1 }, () => "params.lr = 'x'").join(" and ") }),
      post("/runs/search", { experiment_ids: seed.experimentIds, order_by: Array.from({ length: LIMITS.orderByTerms + 1 }, (_, i) => `metrics.m${i}`) }),
      // Page tokens pointing far away.
      post("/runs/search", { experiment_ids: [seed.experimentIds[0]], page_token: Buffer.from('{"offset":9007199254740991}').toString("base64") }),
      get("/metrics/get-history", { run_id: r0(), metric_key: "loss", page_token: Buffer.from('{"offset":9007199254740991}').toString("base64") }),
      post("/experiments/search", { page_token: Buffer.from('{"offset":9007199254740990}').toString("base64"), max_results: 50000 }),
      // Long filters and LIKE patterns that could backtrack.
      post("/runs/search", { experiment_ids: [seed.experimentIds[0]], filter: `tags.odd LIKE '${"%_".repeat(20_000)}'` }),
      post("/runs/search", { experiment_ids: [seed.experimentIds[0]], filter: `params.lr = '${"\\".repeat(100_000)}'` }),
      post("/runs/search", { experiment_ids: [seed.experimentIds[0]], filter: "(".repeat(50_000) }),
      post("/experiments/search", { filter: "`".repeat(100_000) }),
      // Batch at the item limits with edge values.
      post("/runs/log-batch", {
        run_id: r0(),
        metrics: Array.from({ length: 1000 }, (_, i) => ({ key: `k${i % 7}`, value: i % 3 ? "NaN" : -0, timestamp: i, step: -i })),
      }),
      post("/runs/log-batch", { run_id: r0(), params: Array.from({ length: 100 }, (_, i) => ({ key: `p${i}`, value: incompressible(6000) })) }),
      post("/runs/log-batch", { run_id: r0(), tags: Array.from({ length: 100 }, (_, i) => ({ key: `t${i}`, value: incompressible(8000) })) }),
      // Deep nesting and huge bodies.
      { method: "POST", path: "/api/2.0/mlflow/runs/log-batch", contentType: "application/json", body: `${"[".repeat(200_000)}${"]".repeat(200_000)}` },
      post("/runs/log-batch", { run_id: r0(), metrics: [{ key: "x", value: new Raw(`${"[".repeat(5000)}${"]".repeat(5000)}`), timestamp: 1 }] }),
      { method: "POST", path: "/api/2.0/mlflow/runs/log-batch", contentType: "application/json", body: `{"run_id":"${"x".repeat(33 * 1024 * 1024)}"}` },
      // The compare route at its bounds.
      {
        method: "POST",
        path: `${KEEL_PREFIX}/runs/compare`,
        contentType: "application/json",
        body: JSON.stringify({ run_ids: seed.runIds, metric_keys: ["loss", "nan_metric", "acc", "a/b c.d-e", "none"], max_points: 3, method: "minmax", x_axis: "timestamp" }),
      },
      {
        method: "POST",
        path: `${KEEL_PREFIX}/runs/compare`,
        contentType: "application/json",
        body: JSON.stringify({ run_ids: Array.from({ length: 100 }, () => seed.runIds[0]), metric_keys: ["loss", "nan_metric", "acc", "x"] }),
      },
    ];
    expect(await failuresOf(cases)).toEqual([]);
  });

  it("a URL past Node's header limit is refused with a 4xx in MLflow's shape, quickly", async () => {
    const res = await fetch(`${t.url}/api/2.0/mlflow/runs/get?run_id=${"x".repeat(20_000)}`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    expect(res.status).toBe(431);
    expect(await res.json()).toMatchObject({ error_code: expect.any(String), message: expect.any(String) });
  });

  it("other methods, bodies on GET, odd encodings and mangled paths get a 4xx (or 2xx) in MLflow's shape", async () => {
    const failures: string[] = [];
    const attempt = async (req: Req) => {
      try {
        await check(req);
      } catch (err) {
        failures.push((err as Error).message.slice(0, 300));
      }
    };
    for (const prefix of MLFLOW_PREFIXES) {
      for (const { method, path } of ENDPOINTS) {
        for (const other of ["PUT", "DELETE", "PATCH", "OPTIONS", method === "GET" ? "POST" : "GET"]) {
          if (ENDPOINTS.some((e) => e.path === path && e.method === other)) continue;
          await attempt({ method: other, path: `${prefix}${path}`, contentType: "application/json", body: other === "GET" ? undefined : "{}" });
        }
      }
    }
    for (const { method, path } of ENDPOINTS) {
      const full = `/api/2.0/mlflow${path}`;
      if (method === "GET") {
        await attempt({ method, path: full, query: toQuery(templates(path)), contentType: "application/json", body: toJsonText(templates(path)) });
        await attempt({ method, path: full, contentType: "text/plain", body: "not json" });
        await attempt({ method, path: full, query: Array.from({ length: 1500 }, (_, i) => `${i % 2 ? "run_id" : "metric_key"}=x`).join("&") });
      } else {
        await attempt({ method, path: full, contentType: "application/json", body: new Uint8Array([0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0xff, 0xff]) });
        await attempt({ method, path: full, contentType: "application/json; charset=utf-16", body: toJsonText(templates(path)) });
        await attempt({ method, path: full, contentType: "application/json", body: `\ufeff${toJsonText(templates(path))}` });
      }
    }
    for (const path of ["/api/2.0/mlflow", "/api/2.0/mlflow/", "//api/2.0/mlflow/runs/get", "/api/2.0/mlflow/runs/get/extra", "/API/2.0/MLFLOW/runs/get", "/api/2.0/mlflow/runs/%00", "/api/2.0/mlflow/../mlflow/runs/get", "/api/2.0/mlflow/runs/get%2F", "/ajax-api/2.0/mlflow/%E0%A4%A", `${KEEL_PREFIX}/nope`, `${KEEL_PREFIX}/runs/compare/x`]) {
      await attempt({ method: "GET", path, query: "run_id=0" });
    }
    expect(failures).toEqual([]);
  });

  it("bytes that are not HTTP are answered 400 in MLflow's shape, and the server keeps serving", async () => {
    const { port } = new URL(t.url);
    for (const junk of ["GARBAGE\r\n\r\n", "GET /api/2.0/mlflow/runs/get HTTP/9.9\r\n\r\n", "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", "\u0000\u0001\u0002\r\n\r\n"]) {
      const answer = await new Promise<string>((resolve, reject) => {
        const sock = connect(Number(port), "127.0.0.1", () => sock.end(junk));
        let data = "";
        sock.setTimeout(REQUEST_TIMEOUT_MS, () => reject(new Error(`no answer to ${JSON.stringify(junk)}`)));
        sock.on("data", (d) => {
          data += d;
        });
        sock.on("close", () => resolve(data));
        sock.on("error", reject);
      });
      expect(answer, JSON.stringify(junk)).toMatch(/^HTTP\/1\.1 4\d\d /);
      expect(JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4)), JSON.stringify(junk)).toMatchObject({ error_code: expect.any(String), message: expect.any(String) });
    }
    expect((await fetch(`${t.url}/health`)).status).toBe(200);
  });
});

describe("after the storm", () => {
  it("no request was answered 5xx, and the seeded runs still read back", async () => {
    const c = client(t.url);
    expect(await serverErrorCounts(t.url)).toEqual([]);
    for (const id of seed.runIds) expect((await c.get("runs/get", { run_id: id })).status).toBe(200);
    expect((await fetch(`${t.url}/health`)).status).toBe(200);
  });
});

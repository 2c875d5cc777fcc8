/**
 * Principle 5 for the model registry: random and malformed bodies and query strings go to every registry
 * route under both MLflow prefixes and to the Keel events route. Every answer must be a 2xx or a 4xx in
 * MLflow's error shape, within a few seconds. A seeded model with versions, tags and an alias makes
 * random inputs hit real names; routes that destroy point at victims (or at nothing) so the seed stays.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registryEndpoints } from "../../src/registry/routes.js";
import type { RegistryService } from "../../src/registry/service.js";
import { LIMITS } from "../../src/registry/validation.js";
import { KEEL_PREFIX, MLFLOW_PREFIXES } from "../../src/server/app.js";
import { client, startTestApp, type TestApp } from "../helpers/app.js";
import { Fresh, fuzzer, Raw, serverErrorCounts, type Req, RUNS_AJAX, RUNS_PRIMARY, type Template, toJsonText, toQuery } from "../helpers/fuzz.js";

const ENDPOINTS = registryEndpoints({} as RegistryService).flatMap((e) => e.methods.map((method) => ({ method, path: e.path })));

const MODEL = "fz-model";
const ODD_MODEL = "fz model/ü 🚀";
let t: TestApp;
const seed = {
  runId: "",
  otherRunId: "",
  artifactUri: "",
  pageToken: Buffer.from(JSON.stringify({ offset: 1 })).toString("base64"),
  words: [MODEL, ODD_MODEL, "champ", "Staging", "production", "None", "Archived", "latest", "v1", "file:///etc/passwd", "http://127.0.0.1:1/x"],
};

/** Puts the seeded model back as it was when something random renamed or deleted it. */
async function heal(): Promise<void> {
  const c = client(t.url);
  for (const name of [MODEL, ODD_MODEL]) {
    if ((await c.get("registered-models/get", { name })).status === 200) continue;
    expect((await c.post("registered-models/create", { name, tags: [{ key: "team", value: "fuzz" }] })).status).toBe(200);
    for (let i = 0; i < 2; i++) {
      const v = await c.post("model-versions/create", { name, source: `${seed.artifactUri}/model`, run_id: seed.runId, tags: [{ key: "k", value: "v" }] });
      expect(v.status).toBe(200);
    }
  }
  await c.post("registered-models/alias", { name: MODEL, alias: "champ", version: "1" });
}

beforeAll(async () => {
  t = await startTestApp();
  const c = client(t.url);
  const exp = (await c.post("experiments/create", { name: "fz-registry" })).body.experiment_id;
  const run = (await c.post("runs/create", { experiment_id: exp })).body.run.info;
  seed.runId = run.run_id;
  seed.artifactUri = run.artifact_uri;
  seed.otherRunId = (await c.post("runs/create", { experiment_id: exp })).body.run.info.run_id;
  seed.words.push(`runs:/${seed.runId}/model`, `${seed.artifactUri}/model`, `runs:/${seed.otherRunId}/model`, `mlflow-artifacts:/${exp}/../../x`);
  await heal();
  expect((await c.post("model-versions/transition-stage", { name: MODEL, version: "2", stage: "Staging" })).status).toBe(200);
});
afterAll(async () => t?.close());

const FILTER_IDENTS = [
  "name",
  "attributes.name",
  "tags.team",
  "tags.`a b`",
  'tag."k"',
  "run_id",
  "source_path",
  "version_number",
  "attribute.version_number",
  "creation_timestamp",
  "metrics.acc",
  "params.x",
  "bogus.thing",
  "tags.",
  "`unterminated",
];

const { failuresOf, fuzzRoute } = fuzzer({
  url: () => t.url,
  ids: () => [seed.runId, seed.otherRunId, "2", "3"],
  words: seed.words,
  filterIdents: FILTER_IDENTS,
  orderIdents: [...FILTER_IDENTS, "last_updated_timestamp", "timestamp", "version_number", "name"],
});

/** One valid request per route (keyed by method and path), which the generators then break. */
function templates(method: string, path: string): Template {
  const uniq = () => new Fresh();
  const tags = [{ key: "k", value: "v" }];
  const table: Record<string, Template> = {
    "POST /registered-models/create": { name: uniq(), tags, description: "d" },
    "GET /registered-models/get": { name: MODEL },
    "POST /registered-models/rename": { name: uniq(), new_name: uniq() },
    "PATCH /registered-models/update": { name: MODEL, description: "d" },
    "DELETE /registered-models/delete": { name: uniq() },
    "GET /registered-models/search": { filter: "name LIKE 'fz%' and tags.team = 'fuzz'", max_results: 10, order_by: ["name DESC"], page_token: seed.pageToken },
    "GET /registered-models/get-latest-versions": { name: MODEL, stages: ["Staging", "none"] },
    "POST /registered-models/get-latest-versions": { name: MODEL, stages: ["Staging", "none"] },
    "POST /registered-models/set-tag": { name: MODEL, key: "k", value: "v" },
    "DELETE /registered-models/delete-tag": { name: MODEL, key: "k" },
    "POST /registered-models/alias": { name: MODEL, alias: "champ", version: "1" },
    "DELETE /registered-models/alias": { name: MODEL, alias: uniq() },
    "GET /registered-models/alias": { name: MODEL, alias: "champ" },
    "POST /model-versions/create": { name: MODEL, source: `${seed.artifactUri}/model`, run_id: seed.runId, run_link: "", description: "d", tags },
    "GET /model-versions/get": { name: MODEL, version: "1" },
    "PATCH /model-versions/update": { name: MODEL, version: "1", description: "d" },
    "DELETE /model-versions/delete": { name: uniq(), version: "1" },
    "POST /model-versions/transition-stage": { name: MODEL, version: "2", stage: "Staging", archive_existing_versions: true },
    "GET /model-versions/search": { filter: `name = '${MODEL}' and version_number > 0`, max_results: 10, order_by: ["version_number DESC"], page_token: seed.pageToken },
    "GET /model-versions/get-download-uri": { name: MODEL, version: "1" },
    "POST /model-versions/set-tag": { name: MODEL, version: "1", key: "k", value: "v" },
    "DELETE /model-versions/delete-tag": { name: MODEL, version: "1", key: "k" },
    "GET /events": { after: 0, limit: 10, wait_ms: 0 },
  };
  return table[`${method} ${path}`] ?? {};
}

describe.each(MLFLOW_PREFIXES)("registry routes under %s", (prefix) => {
  const numRuns = prefix === MLFLOW_PREFIXES[0] ? RUNS_PRIMARY : RUNS_AJAX;
  it.each(ENDPOINTS)("$method $path never answers 5xx, always MLflow-shaped, never hangs", async ({ method, path }) => {
    await fuzzRoute(method, `${prefix}${path}`, templates(method, path), numRuns, numRuns === RUNS_PRIMARY, heal);
  });
});

describe("Keel registry routes", () => {
  it("GET /events never answers 5xx and never waits past its bound", async () => {
    await fuzzRoute("GET", `${KEEL_PREFIX}/events`, templates("GET", "/events"), RUNS_PRIMARY, true, heal);
  });
});

describe("hand-picked hostile requests", () => {
  const body = (method: string, path: string, b: unknown): Req => ({ method, path: `/api/2.0/mlflow${path}`, contentType: "application/json", body: toJsonText(b) });
  const post = (path: string, b: unknown) => body("POST", path, b);
  const get = (path: string, q: Template): Req => ({ method: "GET", path: `/api/2.0/mlflow${path}`, query: toQuery(q) });
  const incompressible = (n: number) => Array.from({ length: n }, (_, i) => String.fromCharCode(0x4e00 + ((i * 7919) % 20000))).join("");

  it("long, huge, odd and out-of-range inputs answer 4xx or 2xx", async () => {
    const src = () => `${seed.artifactUri}/model`;
    const cases: Req[] = [
      // Values at and past the limits, incompressible (Postgres btree entries over ~2700 bytes would fail).
      post("/registered-models/create", { name: incompressible(LIMITS.modelNameLength) }),
      post("/registered-models/create", { name: incompressible(LIMITS.modelNameLength + 1) }),
      post("/registered-models/create", { name: `big-${Date.now()}`, description: incompressible(LIMITS.descriptionLength), tags: [{ key: "big", value: incompressible(LIMITS.tagValueLength) }] }),
      post("/registered-models/create", { name: `many-${Date.now()}`, tags: Array.from({ length: 101 }, (_, i) => ({ key: `k${i}`, value: "v" })) }),
      post("/registered-models/set-tag", { name: MODEL, key: "big", value: incompressible(LIMITS.tagValueLength + 1) }),
      post("/model-versions/set-tag", { name: MODEL, version: "1", key: "x".repeat(251), value: "v" }),
      post("/registered-models/alias", { name: MODEL, alias: "a".repeat(256), version: "1" }),
      post("/model-versions/create", { name: MODEL, source: src(), run_link: incompressible(501) }),
      // NUL characters (Postgres text cannot hold them).
      post("/registered-models/create", { name: "nul\u0000name" }),
      get("/registered-models/get", { name: "a\u0000b" }),
      get("/model-versions/search", { filter: "name = '\u0000'" }),
      // Versions out of every integer column's range, and not integers at all.
      get("/model-versions/get", { name: MODEL, version: "99999999999" }),
      get("/model-versions/get", { name: MODEL, version: "-1" }),
      get("/model-versions/get", { name: MODEL, version: "1e3" }),
      get("/model-versions/get", { name: MODEL, version: "1.5" }),
      post("/registered-models/alias", { name: MODEL, alias: "x", version: new Raw("1e400") }),
      post("/model-versions/transition-stage", { name: MODEL, version: new Raw("9223372036854775808"), stage: "Staging" }),
      get("/model-versions/search", { filter: "version_number = 99999999999" }),
      get("/model-versions/search", { filter: "version_number > 1.5" }),
      get("/model-versions/search", { filter: "version_number > 1e999" }),
      get("/model-versions/search", { filter: "version_number = '1'" }),
      // Big searches: IN lists past the limit, too many clauses, repeated order_by, far-away pages.
      get("/model-versions/search", { filter: `run_id IN (${Array.from({ length: 70_000 }, (_, i) => `'r${i}'`).join(",")})` }),
      get("/model-versions/search", { filter: `run_id IN (${Array.from({ length: LIMITS.inValues + 1 }, () => `'${seed.runId}'`).join(",")})` }),
      get("/model-versions/search", { filter: Array.from({ length: LIMITS.filterClauses + 1 }, () => "tags.k = 'v'").join(" and ") }),
      get("/registered-models/search", { filter: Array.from({ length: LIMITS.filterClauses }, (_, i) => `tags.t${i} LIKE '%x%'`).join(" and ") }),
      get("/registered-models/search", { order_by: Array.from({ length: 2000 }, () => "name DESC") }),
      get("/model-versions/search", { order_by: ["name", "name"] }),
      get("/model-versions/search", { max_results: LIMITS.searchVersionsMax, page_token: Buffer.from('{"offset":9007199254740990}').toString("base64") }),
      get("/registered-models/search", { max_results: LIMITS.searchModelsMax + 1 }),
      get("/registered-models/search", { filter: `name LIKE '${"%_".repeat(20_000)}'` }),
      get("/registered-models/search", { filter: "(".repeat(50_000) }),
      // Sources that escape the artifact store or point at someone else's files.
      post("/model-versions/create", { name: MODEL, source: `${seed.artifactUri}/../../../etc/passwd` }),
      post("/model-versions/create", { name: MODEL, source: `${seed.artifactUri}/%2e%2e/%2e%2e/x` }),
      post("/model-versions/create", { name: MODEL, source: `${seed.artifactUri}/%252e%252e/x` }),
      post("/model-versions/create", { name: MODEL, source: `runs:/${seed.otherRunId}/model`, run_id: seed.runId }),
      post("/model-versions/create", { name: MODEL, source: `runs:/${"0".repeat(32)}/model` }),
      post("/model-versions/create", { name: MODEL, source: "file:///etc/passwd" }),
      post("/model-versions/create", { name: MODEL, source: "http://169.254.169.254/latest/meta-data" }),
      post("/model-versions/create", { name: MODEL, source: `mlflow-artifacts:/${"a/".repeat(3000)}x` }),
      post("/model-versions/create", { name: MODEL, source: src(), run_id: "RUN" }),
      // DELETE with the parameters in the query string instead of a body; PATCH with none.
      { method: "DELETE", path: "/api/2.0/mlflow/registered-models/delete-tag", query: toQuery({ name: MODEL, key: "nope" }) },
      { method: "PATCH", path: "/api/2.0/mlflow/registered-models/update" },
      // The events route at its bounds.
      { method: "GET", path: `${KEEL_PREFIX}/events`, query: "after=9007199254740991&limit=1000" },
      { method: "GET", path: `${KEEL_PREFIX}/events`, query: "after=-1" },
      { method: "GET", path: `${KEEL_PREFIX}/events`, query: "wait_ms=30001" },
      { method: "GET", path: `${KEEL_PREFIX}/events`, query: "limit=0" },
      { method: "GET", path: `${KEEL_PREFIX}/events`, query: "after=1e400" },
    ];
    expect(await failuresOf(cases)).toEqual([]);
  });

  it("other methods on registry paths get a 4xx in MLflow's shape", async () => {
    const reqs: Req[] = [];
    for (const prefix of MLFLOW_PREFIXES) {
      for (const { path } of ENDPOINTS) {
        for (const other of ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]) {
          if (ENDPOINTS.some((e) => e.path === path && e.method === other)) continue;
          reqs.push({ method: other, path: `${prefix}${path}`, contentType: "application/json", body: other === "GET" ? undefined : "{}" });
        }
      }
    }
    expect(await failuresOf(reqs, 300)).toEqual([]);
  });
});

describe("after the storm", () => {
  it("no request was answered 5xx, and the seeded model still reads back", async () => {
    const c = client(t.url);
    expect(await serverErrorCounts(t.url)).toEqual([]);
    expect((await c.get("registered-models/get", { name: MODEL })).status).toBe(200);
    expect((await c.get("/api/keel/v1/events", { after: 0, limit: 1000 })).status).toBe(200);
  });
});

/**
 * Property tests for principle 5 ("bad input gets a clear 4xx, never a 5xx, never a hang"): random and
 * malformed bodies and query strings go to every MLflow route under both prefixes and to every Keel route.
 * Every answer must be a 2xx (the random input happened to be valid) or a 4xx with MLflow's error shape,
 * and must arrive within a few seconds. Seeded experiments and runs make random inputs hit real ids.
 */
import { request as httpRequest } from "node:http";
import { connect } from "node:net";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KEEL_PREFIX, MLFLOW_PREFIXES } from "../../src/server/app.js";
import { trackingEndpoints } from "../../src/tracking/routes.js";
import { LIMITS } from "../../src/tracking/validation.js";
import type { TrackingService } from "../../src/tracking/service.js";
import { client, startTestApp, type TestApp } from "../helpers/app.js";

/** Each request must be answered within this many ms. */
const REQUEST_TIMEOUT_MS = 5000;
/** fast-check runs per (prefix, route, method) and per property: tuned so the file stays well under 40 s on 2 cores. */
const RUNS_PRIMARY = Number(process.env.KEEL_FUZZ_RUNS ?? 40);
const RUNS_AJAX = Math.max(5, Math.round(RUNS_PRIMARY / 3));

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

// ---- Junk ---------------------------------------------------------------------------------------

/** A value the serialiser writes verbatim into JSON text: numbers JSON.stringify cannot write, and invalid JSON. */
class Raw {
  constructor(readonly text: string) {}
}

/** A name that is new each time it is sent (so create/rename templates can succeed more than once). */
class Fresh {}
let freshCounter = 0;
const fresh = () => `fz-${process.pid}-${freshCounter++}`;

const RAW_TOKENS = [
  "1e400",
  "-1e400",
  "123456789012345678901234567890",
  "-9223372036854775809",
  "18446744073709551616",
  "-0",
  "1e-400",
  "NaN",
  "Infinity",
  "-Infinity",
  "undefined",
  "01",
  "1.",
  ".5",
  "+1",
  "0x10",
  '"\\ud800"',
  '"\\udfff\\ud800"',
  '"\\u0000"',
  '"a\\u0000b"',
  '"a\\qb"',
  "tru",
  "nul",
  "[",
  "{",
  "}",
  '"unterminated',
  "[1,]",
  '{"a":1,}',
  "'single'",
  "/* c */ 1",
];

const SPECIAL_STRINGS = [
  "",
  " ",
  "\u0000",
  "a\u0000b",
  "\ud800",
  "\udfff",
  "NaN",
  "nan",
  "Infinity",
  "-Infinity",
  "inf",
  "1e400",
  "-1e400",
  "1e308",
  "-1",
  "0",
  "-0",
  "00",
  "1.5",
  " 7 ",
  "0x1F",
  "9007199254740991",
  "9007199254740993",
  "2147483647",
  "2147483648",
  "-2147483649",
  "99999999999",
  "999999999999999",
  "9999999999999999999999",
  "null",
  "true",
  "false",
  "[]",
  "{}",
  '{"offset":1}',
  "'",
  '"',
  "`",
  "%",
  "_",
  "\\",
  "%_\\",
  "../../etc/passwd",
  "/abs/path",
  "a//b",
  "a/./b",
  "ACTIVE_ONLY",
  "DELETED_ONLY",
  "ALL",
  "3",
  "FINISHED",
  "lttb",
  "minmax",
  "timestamp",
  "mlflow.runName",
  "mlflow.log-model.history",
  "__proto__",
  "constructor",
  "toString",
  "hasOwnProperty",
  "é".repeat(300),
  "🚀".repeat(700),
  "x".repeat(251),
  "v".repeat(6001),
  "w".repeat(8001),
  "Ω≈ç√∫˜µ≤≥÷",
  "\u202e\u200b\ufeff",
  // Page tokens: valid base64 of the wrong things.
  Buffer.from('{"offset":-1}').toString("base64"),
  Buffer.from('{"offset":1e20}').toString("base64"),
  Buffer.from('{"offset":"5"}').toString("base64"),
  Buffer.from('{"offset":1.5}').toString("base64"),
  Buffer.from('{"offset":9007199254740991}').toString("base64"),
  Buffer.from('{"offset":1000000}').toString("base64"),
  Buffer.from("null").toString("base64"),
  Buffer.from("[]").toString("base64"),
  Buffer.from("\u0000\u00ff").toString("base64"),
  "====",
  "!!not base64!!",
];

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
const FILTER_OPS = ["=", "!=", "<", "<=", ">", ">=", "LIKE", "ILIKE", "IN", "NOT IN", "IS NULL", "IS NOT NULL", "==", "<>", "~", "like", "not in"];
const FILTER_VALUES = [
  "'x'",
  "'%'",
  "'%e%'",
  "'_'",
  "'\\%'",
  "''",
  '"yes"',
  "1",
  "-1",
  "1.5",
  "1e999",
  "-1e999",
  "99999999999",
  "9223372036854775808",
  "0.1",
  "1e-999",
  "('a', 'b')",
  "('1', '2', '99999999999')",
  "()",
  "(1, 2)",
  "('a',",
  "NULL",
  "'\u0000'",
  "'é🚀'",
  "x",
  "",
];

const filterArb = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .array(fc.tuple(fc.constantFrom(...FILTER_IDENTS), fc.constantFrom(...FILTER_OPS), fc.constantFrom(...FILTER_VALUES)), { minLength: 1, maxLength: 4 })
      .chain((parts) => fc.constantFrom(" and ", " AND ", " OR ", " ", ", ").map((j) => parts.map((p) => p.join(" ")).join(j))),
  },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 60 }) },
  { weight: 1, arbitrary: fc.constantFrom(...SPECIAL_STRINGS) },
);

const orderByArb = fc
  .tuple(fc.constantFrom(...FILTER_IDENTS, "start_time", "run_id", "metrics.nope"), fc.constantFrom("", " ASC", " DESC", " asc", " SIDEWAYS", " ASC DESC"))
  .map(([a, b]) => a + b);

/** Ids that exist, ids that do not, and ids of the wrong kind. */
function idArb(): fc.Arbitrary<string> {
  return fc.constantFrom(...seed.runIds, ...seed.experimentIds, "0", "0".repeat(32), "f".repeat(32), "F".repeat(32), "1", "-1", "2147483648", "99999999999");
}

const shortString = fc.oneof(fc.string({ maxLength: 20 }), fc.string({ unit: "grapheme", maxLength: 20 }), fc.string({ unit: "binary", maxLength: 20 }));

/** Strings a query string or a JSON string field might carry. */
function stringJunk(): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...SPECIAL_STRINGS) },
    { weight: 3, arbitrary: shortString },
    { weight: 2, arbitrary: idArb() },
    { weight: 1, arbitrary: fc.constantFrom(...seed.metricKeys) },
    { weight: 1, arbitrary: fc.integer().map(String) },
    { weight: 1, arbitrary: fc.double().map(String) },
    { weight: 1, arbitrary: filterArb },
    { weight: 1, arbitrary: orderByArb },
    // Long and incompressible: exercises length limits and index-size limits, not only 'xxxx…'.
    { weight: 1, arbitrary: fc.string({ unit: "grapheme", minLength: 2000, maxLength: 9000 }) },
  );
}

/** Any JSON-ish value for a field: wrong types, nulls, nested junk, huge numbers, raw tokens. */
function junk(): fc.Arbitrary<unknown> {
  const { value } = fc.letrec<{ value: unknown }>((tie) => ({
    value: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      { weight: 4, arbitrary: stringJunk() },
      { weight: 2, arbitrary: fc.oneof(fc.integer(), fc.double(), fc.maxSafeInteger(), fc.constantFrom(0, -0, 1e308, -1e308, 2 ** 53, 2 ** 63, 2 ** 64, 2147483648, -1, 0.5)) },
      { weight: 1, arbitrary: fc.constantFrom(null, true, false) },
      { weight: 1, arbitrary: fc.constantFrom(...RAW_TOKENS).map((s) => new Raw(s)) },
      { weight: 2, arbitrary: fc.array(tie("value"), { maxLength: 4 }) },
      { weight: 2, arbitrary: fc.dictionary(fc.oneof(shortString, fc.constantFrom("key", "value", "run_id", "timestamp", "step")), tie("value"), { maxKeys: 4 }) },
    ),
  }));
  return value;
}

// ---- Request templates: one valid request per route, which the generators then break -----------

type Template = Record<string, unknown>;

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
  };
  return table[path] ?? {};
}

const DROP = Symbol("drop");

/** Keeps, drops, replaces or recursively breaks each part of a valid value. */
function mutated(v: unknown, depth = 0): fc.Arbitrary<unknown> {
  const alts: fc.WeightedArbitrary<unknown>[] = [
    { weight: 5, arbitrary: fc.constant(v) },
    { weight: 2, arbitrary: junk() },
  ];
  if (Array.isArray(v) && depth < 3) {
    alts.push({ weight: 2, arbitrary: fc.tuple(...v.map((x) => mutated(x, depth + 1))) as fc.Arbitrary<unknown> });
    alts.push({ weight: 1, arbitrary: fc.constantFrom(0, 1, 2, 1001).map((n) => Array.from({ length: n }, (_, i) => v[i % Math.max(1, v.length)])) });
    alts.push({ weight: 1, arbitrary: fc.constant(v[0]) }); // a scalar where a list goes
  } else if (v !== null && typeof v === "object" && !(v instanceof Raw) && !(v instanceof Fresh) && depth < 3) {
    alts.push({ weight: 3, arbitrary: mutatedObject(v as Template, depth + 1) });
    alts.push({ weight: 1, arbitrary: fc.constant([v]) }); // an array where an object goes
  }
  return fc.oneof(...alts);
}

function mutatedObject(o: Template, depth = 0): fc.Arbitrary<Template> {
  const fields = Object.fromEntries(
    Object.entries(o).map(([k, v]) => [k, fc.oneof({ weight: 6, arbitrary: mutated(v, depth) }, { weight: 1, arbitrary: fc.constant<unknown>(DROP) })]),
  );
  const extra = fc.dictionary(fc.oneof(shortString, fc.constantFrom("run_uuid", "run_id", "experiment_id", "key", "value", "__proto__", "constructor")), junk(), {
    maxKeys: 2,
  });
  return fc.tuple(fc.record(fields), fc.option(extra, { freq: 4 })).map(([rec, ex]) => {
    const out: Template = {};
    for (const [k, v] of Object.entries(rec)) if (v !== DROP) out[k] = v;
    if (ex) for (const [k, v] of Object.entries(ex)) if (!(k in out)) Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
    return out;
  });
}

/** JSON text, writing Raw tokens verbatim (so bodies can carry 1e400, lone surrogates, or be invalid). */
function toJsonText(v: unknown): string {
  if (v instanceof Raw) return v.text;
  if (v instanceof Fresh) return JSON.stringify(fresh());
  if (Array.isArray(v)) return `[${v.map(toJsonText).join(",")}]`;
  if (v !== null && typeof v === "object") {
    return `{${Object.entries(v)
      .map(([k, x]) => `${JSON.stringify(k)}:${toJsonText(x)}`)
      .join(",")}}`;
  }
  return JSON.stringify(v) ?? "null";
}

// ---- Requests -----------------------------------------------------------------------------------

interface Req {
  method: string;
  path: string;
  query?: string;
  contentType?: string;
  body?: string | Uint8Array;
}

function describeReq(r: Req): string {
  const body = r.body === undefined ? "" : typeof r.body === "string" ? r.body : `<${r.body.length} bytes>`;
  return `${r.method} ${r.path}${r.query ? `?${r.query.slice(0, 300)}` : ""} [${r.contentType ?? "no content-type"}] ${body.slice(0, 400)}`;
}

/** Serialises a query message: arrays become repeated keys; objects and junk become strings. */
function toQuery(msg: Template): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(msg)) {
    for (const x of Array.isArray(v) ? v : [v]) {
      q.append(k, x instanceof Raw ? x.text : x instanceof Fresh ? fresh() : typeof x === "string" ? x : (JSON.stringify(x) ?? ""));
    }
  }
  return q.toString();
}

/** Keeps URLs under Node's 16 KiB header limit (the oversize case is tested on its own below). */
const MAX_QUERY = 12_000;

const RAW_QUERIES = [
  "%",
  "%%",
  "a=%ZZ",
  "run_id=%E0%A4%A",
  "run_id=%C0%AF",
  "run_id=%00",
  "&&&=&=",
  "=",
  "run_id[]=x",
  "run_id[0]=a&run_id[1]=b",
  "experiment_ids[0]=1",
  "a=b=c",
  "metric_key",
  "run_id&run_id&run_id",
  "experiment_id=0&experiment_id=0",
  "__proto__[x]=1",
  "constructor=1",
  `max_results=${"9".repeat(400)}`,
  "max_results=1e3",
  "max_results=-0",
  "max_results= 5",
  "page_token=%2B%2F%3D",
];

function getRequestArb(path: string, template: Template): fc.Arbitrary<Req> {
  const fromTemplate = mutatedObject(template).map((m) => toQuery(m));
  const randomPairs = fc
    .array(fc.tuple(fc.oneof(fc.constantFrom(...Object.keys(template), "run_id", "experiment_ids"), shortString), stringJunk()), { maxLength: 6 })
    .map((pairs) => {
      const q = new URLSearchParams();
      for (const [k, v] of pairs) q.append(k, v);
      return q.toString();
    });
  const raw = fc.oneof(fc.constantFrom(...RAW_QUERIES), fc.string({ unit: "grapheme", maxLength: 40 }));
  const intact = fc.constant(template).map((m) => toQuery(m));
  return fc
    .oneof({ weight: 2, arbitrary: intact }, { weight: 5, arbitrary: fromTemplate }, { weight: 2, arbitrary: randomPairs }, { weight: 1, arbitrary: raw })
    .filter((q) => q.length <= MAX_QUERY)
    .map((query) => ({ method: "GET", path, query }));
}

const CONTENT_TYPES = [
  "text/plain",
  "text/plain;charset=UTF-8",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "application/xml",
  "application/octet-stream",
  "",
  "application/json; charset=latin1",
  "APPLICATION/JSON",
  "application/json;charset=utf-8",
  "application/jsonx",
  "application/vnd.api+json",
  "json",
];

function postRequestArb(path: string, template: Template): fc.Arbitrary<Req> {
  const json = (body: string): Req => ({ method: "POST", path, contentType: "application/json", body });
  const mutatedBody = mutatedObject(template).map((m) => json(toJsonText(m)));
  const anyJson = fc.jsonValue({ maxDepth: 4 }).map((v) => json(JSON.stringify(v)));
  const notAnObject = fc.oneof(junk(), fc.array(mutatedObject(template), { maxLength: 2 })).map((v) => json(toJsonText(v)));
  const truncated = mutatedObject(template).chain((m) => {
    const text = toJsonText(m);
    return fc.nat({ max: Math.max(0, text.length - 1) }).map((n) => json(text.slice(0, n)));
  });
  const garbage = fc.oneof(fc.string({ unit: "binary", maxLength: 80 }), fc.constantFrom(...RAW_TOKENS)).map(json);
  const wrongType = fc
    .tuple(fc.constantFrom(...CONTENT_TYPES), mutatedObject(template))
    .map(([ct, m]): Req => ({ method: "POST", path, contentType: ct === "" ? undefined : ct, body: new TextEncoder().encode(toJsonText(m)) }));
  const empty = fc.constantFrom<Req>(
    { method: "POST", path, contentType: "application/json", body: "" },
    { method: "POST", path },
    { method: "POST", path, body: new Uint8Array() },
    { method: "POST", path, contentType: "application/json", body: " " },
    { method: "POST", path, contentType: "application/json", body: "null" },
  );
  const intact = fc.constant(template).map((m) => json(toJsonText(m)));
  return fc.oneof(
    { weight: 3, arbitrary: intact },
    { weight: 8, arbitrary: mutatedBody },
    { weight: 1, arbitrary: anyJson },
    { weight: 1, arbitrary: notAnObject },
    { weight: 1, arbitrary: truncated },
    { weight: 1, arbitrary: garbage },
    { weight: 1, arbitrary: wrongType },
    { weight: 1, arbitrary: empty },
  );
}

/** Random deletes and restores hit the seeded entities too: put them back as seeded before the next route. */
async function heal(): Promise<void> {
  const c = client(t.url);
  for (const id of seed.experimentIds) await c.post("experiments/restore", { experiment_id: id });
  for (const id of seed.runIds) await c.post(id === seed.deletedRunId ? "runs/delete" : "runs/restore", { run_id: id });
}

function getWithBody(url: string, headers: Record<string, string>, body: string | Uint8Array): Promise<{ res: { status: number }; text: string }> {
  return new Promise((resolve, reject) => {
    const r = httpRequest(url, { method: "GET", headers, timeout: REQUEST_TIMEOUT_MS }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d) => {
        text += d;
      });
      res.on("end", () => resolve({ res: { status: res.statusCode ?? 0 }, text }));
      res.on("error", reject);
    });
    r.on("timeout", () => r.destroy(new Error("timed out")));
    r.on("error", reject);
    r.end(body);
  });
}

/** Sends one request and checks principle 5 on the answer. */
async function check(req: Req): Promise<{ status: number; code?: string }> {
  const url = `${t.url}${req.path}${req.query ? `?${req.query}` : ""}`;
  const headers: Record<string, string> = {};
  if (req.contentType !== undefined) headers["content-type"] = req.contentType;
  let res: { status: number };
  let text: string;
  try {
    if (req.method === "GET" && req.body !== undefined) {
      // fetch refuses to send a body with GET; some clients do.
      ({ res, text } = await getWithBody(url, headers, req.body));
    } else {
      const r = await fetch(url, { method: req.method, headers, body: req.body, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
      res = r;
      text = await r.text();
    }
  } catch (err) {
    throw new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms (${(err as Error).message}): ${describeReq(req)}`);
  }
  const what = `${describeReq(req)}\n→ ${res.status} ${text.slice(0, 400)}`;
  expect(res.status, what).toBeGreaterThanOrEqual(200);
  expect(res.status, what).toBeLessThan(500);
  expect(res.status >= 300 && res.status < 400, what).toBe(false);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (res.status >= 400) {
    expect(body, what).toMatchObject({ error_code: expect.any(String), message: expect.any(String) });
    return { status: res.status, code: (body as { error_code: string }).error_code };
  }
  expect(body !== null && typeof body === "object" && !Array.isArray(body), what).toBe(true);
  return { status: res.status };
}

// ---- Properties ---------------------------------------------------------------------------------

async function fuzzRoute(method: string, fullPath: string, templateKey: string, numRuns: number, mustReach: boolean): Promise<void> {
  const template = templates(templateKey);
  const arb = method === "GET" ? getRequestArb(fullPath, template) : postRequestArb(fullPath, template);
  const seen = new Set<number>();
  let reached = 0;
  try {
    await fc.assert(
      fc.asyncProperty(arb, async (req) => {
        const { status, code } = await check(req);
        // Reached: past validation to an answer from the service (a 2xx, or "no such run/tag/…").
        if (status < 300 || code === "RESOURCE_DOES_NOT_EXIST") reached++;
        seen.add(status);
      }),
      { numRuns },
    );
  } finally {
    await heal();
  }
  // A route whose every request failed validation was not really exercised: its template must get requests through.
  if (mustReach) expect(reached, `${method} ${fullPath}: no request got past validation (answers: ${[...seen]})`).toBeGreaterThan(0);
}

describe.each(MLFLOW_PREFIXES)("MLflow routes under %s", (prefix) => {
  const numRuns = prefix === MLFLOW_PREFIXES[0] ? RUNS_PRIMARY : RUNS_AJAX;
  it.each(ENDPOINTS)("$method $path never answers 5xx, always MLflow-shaped, never hangs", async ({ method, path }) => {
    await fuzzRoute(method, `${prefix}${path}`, path, numRuns, numRuns === RUNS_PRIMARY);
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
      const concrete = r.path.replace(/\{[^}]+\}/g, () => encodeURIComponent(seed.runIds[0]));
      await fuzzRoute(r.method, concrete, r.path.slice(KEEL_PREFIX.length), RUNS_PRIMARY, true);
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
    const failures: string[] = [];
    for (const req of cases) {
      try {
        await check(req);
      } catch (err) {
        failures.push((err as Error).message.slice(0, 600));
      }
    }
    expect(failures).toEqual([]);
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
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    const fivexx = metrics.split("\n").filter((l) => l.startsWith("keel_http_requests_total") && /status="5\d\d"/.test(l));
    expect(fivexx).toEqual([]);
    for (const id of seed.runIds) expect((await c.get("runs/get", { run_id: id })).status).toBe(200);
    expect((await fetch(`${t.url}/health`)).status).toBe(200);
  });
});

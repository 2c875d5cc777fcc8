/**
 * Property-test machinery for principle 5 ("bad input gets a clear 4xx, never a 5xx, never a hang"),
 * shared by every domain's fuzz test: junk values, valid request templates broken in every way, bodies
 * with the wrong content type or none, and the check on each answer (a 2xx, or a 4xx in MLflow's error
 * shape, within a few seconds). A domain gives its seeded ids, words and search identifiers.
 */
import { request as httpRequest } from "node:http";
import fc from "fast-check";
import { expect } from "vitest";

/** Each request must be answered within this many ms. */
export const REQUEST_TIMEOUT_MS = 5000;
/** fast-check runs per (prefix, route, method) and per property: tuned so a file stays well under 40 s on 2 cores. */
export const RUNS_PRIMARY = Number(process.env.KEEL_FUZZ_RUNS ?? 40);
export const RUNS_AJAX = Math.max(5, Math.round(RUNS_PRIMARY / 3));

export type Template = Record<string, unknown>;

// ---- Junk ---------------------------------------------------------------------------------------

/** A value the serialiser writes verbatim into JSON text: numbers JSON.stringify cannot write, and invalid JSON. */
export class Raw {
  constructor(readonly text: string) {}
}

/** A name that is new each time it is sent (so create/rename templates can succeed more than once). */
export class Fresh {}
let freshCounter = 0;
const fresh = () => `fz-${process.pid}-${freshCounter++}`;

export const RAW_TOKENS = [
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

export const SPECIAL_STRINGS = [
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

const shortString = fc.oneof(fc.string({ maxLength: 20 }), fc.string({ unit: "grapheme", maxLength: 20 }), fc.string({ unit: "binary", maxLength: 20 }));

/** JSON text, writing Raw tokens verbatim (so bodies can carry 1e400, lone surrogates, or be invalid). */
export function toJsonText(v: unknown): string {
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

export interface Req {
  method: string;
  path: string;
  query?: string;
  contentType?: string;
  body?: string | Uint8Array;
}

export function describeReq(r: Req): string {
  const body = r.body === undefined ? "" : typeof r.body === "string" ? r.body : `<${r.body.length} bytes>`;
  return `${r.method} ${r.path}${r.query ? `?${r.query.slice(0, 300)}` : ""} [${r.contentType ?? "no content-type"}] ${body.slice(0, 400)}`;
}

/** Serialises a query message: arrays become repeated keys; objects and junk become strings. */
export function toQuery(msg: Template): string {
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

/** The server's request counters for 5xx answers (there must be none after a fuzz run). */
export async function serverErrorCounts(url: string): Promise<string[]> {
  const metrics = await (await fetch(`${url}/metrics`)).text();
  return metrics.split("\n").filter((l) => l.startsWith("keel_http_requests_total") && /status="5\d\d"/.test(l));
}

export interface FuzzTarget {
  url(): string;
  /** Ids of seeded entities (read when the generators are built, after seeding). */
  ids(): string[];
  /** Domain strings worth sending (keys, names). */
  words: string[];
  /** Search identifiers (with bad ones), so filters get past the first token often enough to reach the SQL. */
  filterIdents: string[];
  orderIdents: string[];
}

export function fuzzer(target: FuzzTarget) {
  const filterArb = fc.oneof(
    {
      weight: 4,
      arbitrary: fc
        .array(fc.tuple(fc.constantFrom(...target.filterIdents), fc.constantFrom(...FILTER_OPS), fc.constantFrom(...FILTER_VALUES)), { minLength: 1, maxLength: 4 })
        .chain((parts) => fc.constantFrom(" and ", " AND ", " OR ", " ", ", ").map((j) => parts.map((p) => p.join(" ")).join(j))),
    },
    { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 60 }) },
    { weight: 1, arbitrary: fc.constantFrom(...SPECIAL_STRINGS) },
  );

  const orderByArb = fc
    .tuple(fc.constantFrom(...target.orderIdents), fc.constantFrom("", " ASC", " DESC", " asc", " SIDEWAYS", " ASC DESC"))
    .map(([a, b]) => a + b);

  /** Ids that exist, ids that do not, and ids of the wrong kind. */
  function idArb(): fc.Arbitrary<string> {
    return fc.constantFrom(...target.ids(), "0", "0".repeat(32), "f".repeat(32), "F".repeat(32), "1", "-1", "2147483648", "99999999999");
  }

  /** Strings a query string or a JSON string field might carry. */
  function stringJunk(): fc.Arbitrary<string> {
    return fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom(...SPECIAL_STRINGS) },
      { weight: 3, arbitrary: shortString },
      { weight: 2, arbitrary: idArb() },
      { weight: 1, arbitrary: fc.constantFrom(...target.words) },
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

  function bodyRequestArb(method: string, path: string, template: Template): fc.Arbitrary<Req> {
    const json = (body: string): Req => ({ method, path, contentType: "application/json", body });
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
      .map(([ct, m]): Req => ({ method, path, contentType: ct === "" ? undefined : ct, body: new TextEncoder().encode(toJsonText(m)) }));
    const empty = fc.constantFrom<Req>(
      { method, path, contentType: "application/json", body: "" },
      { method, path },
      { method, path, body: new Uint8Array() },
      { method, path, contentType: "application/json", body: " " },
      { method, path, contentType: "application/json", body: "null" },
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

  /** Sends one request and checks principle 5 on the answer. */
  async function check(req: Req): Promise<{ status: number; code?: string }> {
    const url = `${target.url()}${req.path}${req.query ? `?${req.query}` : ""}`;
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

  /**
   * Sends `numRuns` generated requests (the template intact, broken and replaced) and checks principle 5 on
   * each; `heal` puts back what random deletes removed. With `mustReach`, at least one request must get
   * past validation (a 2xx or "no such …"), or the template is not exercising the route.
   */
  async function fuzzRoute(method: string, fullPath: string, template: Template, numRuns: number, mustReach: boolean, heal: () => Promise<void>): Promise<void> {
    const arb = method === "GET" ? getRequestArb(fullPath, template) : bodyRequestArb(method, fullPath, template);
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

  /** Checks each request in turn; the failures, clipped, so one run reports them all. */
  async function failuresOf(reqs: Req[], clip = 600): Promise<string[]> {
    const failures: string[] = [];
    for (const req of reqs) {
      try {
        await check(req);
      } catch (err) {
        failures.push((err as Error).message.slice(0, clip));
      }
    }
    return failures;
  }

  return { check, failuresOf, fuzzRoute };
}

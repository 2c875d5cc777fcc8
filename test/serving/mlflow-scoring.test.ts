/**
 * MLflow scoring (`/invocations`) against real ONNX models: every input format answers numpy's reference
 * numbers; tables map to inputs by the documented rules; bad requests are 400/415 in MLflow's shape.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rawRequest } from "../helpers/raw-http.js";
import { expectTensorClose, fixtureCases, getJson, nest, post, type RefTensor, type ServingTestApp, startServingApp } from "../helpers/serving.js";

let s: ServingTestApp;
const invoke = (model: string, body: unknown, headers: Record<string, string> = {}) =>
  post(`${s.url}/models/${model}/invocations`, typeof body === "string" ? body : (body as object), headers);
const csv = { "content-type": "text/csv" };

function expectPredictions(got: unknown, want: RefTensor): void {
  const flat = (got as unknown[]).flat(Number.POSITIVE_INFINITY);
  expect(got).toHaveLength(want.shape[0]);
  expectTensorClose({ name: want.name, shape: want.shape, data: flat }, want);
}

beforeAll(async () => {
  s = await startServingApp([
    { name: "mlp", fixture: "mlp_small" },
    { name: "two", fixture: "two_inputs" },
    { name: "emb", fixture: "embedding" },
    { name: "text", fixture: "text" },
    { name: "conv", fixture: "convnet" },
  ]);
});
afterAll(async () => s?.close());

describe("formats, against the reference numbers", () => {
  const cases = fixtureCases("mlp_small");
  const rows = (t: RefTensor) => nest(t.data, t.shape) as number[][];

  it("single 2-D input: dataframe_split, dataframe_records, instances, inputs, CSV", async () => {
    for (const c of cases) {
      const x = rows(c.inputs[0]);
      const columns = Array.from({ length: 30 }, (_, i) => `f${i}`);
      const bodies: [string, unknown, Record<string, string>][] = [
        ["dataframe_split", { dataframe_split: { columns, data: x } }, {}],
        ["dataframe_split without columns", { dataframe_split: { data: x } }, {}],
        ["dataframe_records", { dataframe_records: x.map((r) => Object.fromEntries(r.map((v, i) => [columns[i], v]))) }, {}],
        ["instances", { instances: x }, {}],
        ["inputs (tensor)", { inputs: x }, {}],
        ["inputs (by name) + params", { inputs: { input: x }, params: { threshold: 0.5 } }, {}],
        ["csv", `${columns.join(",")}\n${x.map((r) => r.join(",")).join("\r\n")}\n`, csv],
        ["json with charset", JSON.stringify({ instances: x }), { "content-type": "application/json; charset=utf-8" }],
      ];
      for (const [what, body, headers] of bodies) {
        const r = await invoke("mlp", body, headers);
        expect(r.status, `${what}: ${r.bytes}`).toBe(200);
        expectPredictions(r.json.predictions, c.outputs[0]);
      }
    }
  });

  it("several inputs by name, several outputs as an object", async () => {
    for (const c of fixtureCases("two_inputs")) {
      const [a, b] = c.inputs.map(rows);
      const n = a.length;
      const bodies: [string, unknown][] = [
        ["inputs", { inputs: { a, b } }],
        ["instances of objects", { instances: a.map((r, i) => ({ a: r, b: b[i] })) }],
        ["dataframe_split with array cells", { dataframe_split: { columns: ["b", "a"], data: a.map((r, i) => [b[i], r]) } }],
        ["dataframe_records with array cells", { dataframe_records: a.map((r, i) => ({ a: r, b: b[i] })) }],
      ];
      for (const [what, body] of bodies) {
        const r = await invoke("two", body);
        expect(r.status, `${what}: ${r.bytes}`).toBe(200);
        expect(Object.keys(r.json.predictions)).toEqual(["y", "product"]);
        expectPredictions(r.json.predictions.y, c.outputs[0]);
        expectPredictions(r.json.predictions.product, c.outputs[1]);
        expect(r.json.predictions.y).toHaveLength(n);
      }
    }
  });

  it("INT64 and BOOL inputs, INT64 outputs", async () => {
    for (const c of fixtureCases("embedding")) {
      const [ids, mask] = c.inputs.map((t) => nest(t.data, t.shape));
      const r = await invoke("emb", { inputs: { ids, mask } });
      expect(r.status, r.bytes.toString()).toBe(200);
      expectPredictions(r.json.predictions.scores, c.outputs[0]);
      expect(r.json.predictions.label).toEqual(c.outputs[1].data);
    }
  });

  it("BYTES: a column of strings from JSON and from CSV", async () => {
    const [c] = fixtureCases("text");
    const words = c.inputs[0].data as string[];
    const fromJson = await invoke("text", { dataframe_split: { columns: ["text"], data: words.map((w) => [w]) } });
    expect(fromJson.status, fromJson.bytes.toString()).toBe(200);
    expect(fromJson.json.predictions).toEqual({ upper: c.outputs[0].data, label: c.outputs[1].data });
    const quoted = words.map((w) => `"${w.replaceAll('"', '""')}"`).join("\n");
    const fromCsv = await invoke("text", `text\n${quoted}\n`, csv);
    expect(fromCsv.status, fromCsv.bytes.toString()).toBe(200);
    // The empty string survives as a quoted CSV field.
    expect(fromCsv.json.predictions).toEqual({ upper: c.outputs[0].data, label: c.outputs[1].data });
  });

  it("a 4-D image input through `inputs`", async () => {
    const [c] = fixtureCases("convnet");
    const r = await invoke("conv", { inputs: nest(c.inputs[0].data, c.inputs[0].shape) });
    expect(r.status).toBe(200);
    expectPredictions(r.json.predictions, c.outputs[0]);
  });

  it("/ping, /health, /version at the caller's prefix", async () => {
    for (const p of ["ping", "health"]) {
      const r = await fetch(`${s.url}/models/mlp/${p}`);
      expect(r.status).toBe(200);
    }
    const v = await fetch(`${s.url}/models/mlp/version`);
    expect(v.status).toBe(200);
    expect(await v.text()).toMatch(/^\d+\.\d+\.\d+/);
    const unknown = await getJson(`${s.url}/models/nope/ping`);
    expect(unknown.status).toBe(404);
    expect(unknown.json.error_code).toBe("RESOURCE_DOES_NOT_EXIST");
  });
});

describe("bad requests", () => {
  const x = [Array.from({ length: 30 }, (_, i) => i)];
  it("415 on other content types, and when none is sent", async () => {
    const r = await invoke("mlp", JSON.stringify({ instances: x }), { "content-type": "text/plain" });
    expect(r.status).toBe(415);
    expect(r.json).toMatchObject({ error_code: "BAD_REQUEST" });
    expect(r.json.message).toContain("Content-Type must be application/json or text/csv; got 'text/plain'");
    const none = await rawRequest(s.url, "POST", "/models/mlp/invocations", JSON.stringify({ instances: x }));
    expect(none.status).toBe(415);
    expect(JSON.parse(none.body.toString()).message).toContain("none was sent");
  });

  const cases: [string, string, unknown, Record<string, string>, string][] = [
    ["two formats", "mlp", { instances: x, inputs: x }, {}, "exactly one of 'dataframe_split', 'dataframe_records', 'instances', 'inputs'"],
    ["no format", "mlp", { data: x }, {}, "exactly one of"],
    ["params not an object", "mlp", { instances: x, params: [1] }, {}, "'params' must be an object"],
    ["malformed JSON", "mlp", "{oops", { "content-type": "application/json" }, "Malformed JSON"],
    ["wrong number of feature columns", "mlp", { dataframe_split: { columns: ["a", "b"], data: [[1, 2]] } }, {}, "Input 'input' takes 30 feature columns (shape [-1,30]); the table has 2"],
    ["ragged dataframe_split", "mlp", { dataframe_split: { columns: ["a", "b"], data: [[1, 2], [3]] } }, {}, "'dataframe_split.data[1]' has 1 values; there are 2 columns"],
    ["record lacking a column", "two", { dataframe_records: [{ a: [1, 2, 3, 4], b: [1, 2, 3] }, { a: [1, 2, 3, 4] }] }, {}, "'dataframe_records[1]' lacks column 'b'"],
    ["unknown column", "two", { dataframe_split: { columns: ["a", "c"], data: [[[1, 2, 3, 4], [1, 2, 3]]] } }, {}, "Column 'c' matches no input of model 'two'"],
    ["missing input", "two", { inputs: { a: [[1, 2, 3, 4]] } }, {}, "Missing input 'b'"],
    ["tensor list for a two-input model", "two", { instances: [[1, 2]] }, {}, "Model 'two' has inputs 'a', 'b'"],
    ["a non-number in a numeric column", "mlp", `${"c,".repeat(29)}c\n${"1,".repeat(29)}abc\n`, csv, "Input 'input': element 29 is \"abc\"; FP32 data must be numbers"],
    ["CSV row of the wrong width", "mlp", "a,b\n1,2,3\n", csv, "CSV row 1 has 3 fields; the header has 2"],
    ["ragged nested inputs", "two", { inputs: { a: [[1, 2, 3, 4], [1, 2]], b: [[1, 2, 3], [1, 2, 3]] } }, {}, "Input 'a': data[1] has 2 elements"],
    ["INT64 input given floats", "emb", { inputs: { ids: [[1.5, 2, 3, 4, 5]], mask: [[true, true, true, true, true]] } }, {}, "Input 'ids': element 0 is 1.5"],
    ["deep nesting", "mlp", { inputs: JSON.parse(`${"[".repeat(40)}1${"]".repeat(40)}`) }, {}, "nested deeper than 32"],
  ];
  for (const [what, model, body, headers, msg] of cases) {
    it(what, async () => {
      const r = await invoke(model, body, headers);
      expect(r.status, r.bytes.toString()).toBe(400);
      expect(r.json.error_code).toBe("BAD_REQUEST");
      expect(r.json.message).toContain(msg);
    });
  }
});

describe("fuzz: junk is a 4xx in MLflow's shape, never a 5xx", () => {
  it("random bodies in every format, for one- and two-input models", async () => {
    const value = fc.letrec((tie) => ({
      v: fc.oneof({ depthSize: "small" }, fc.integer(), fc.double(), fc.boolean(), fc.string({ maxLength: 3 }), fc.constant(null), fc.array(tie("v"), { maxLength: 4 }), fc.dictionary(fc.constantFrom("a", "b", "input", "x"), tie("v"), { maxKeys: 3 })),
    })).v;
    const body = fc.oneof(
      fc.record({ dataframe_split: fc.record({ columns: value, data: value }, { requiredKeys: [] }) }),
      fc.record({ dataframe_records: value }),
      fc.record({ instances: value }),
      fc.record({ inputs: value, params: value }, { requiredKeys: ["inputs"] }),
      fc.dictionary(fc.string({ maxLength: 4 }), value, { maxKeys: 3 }),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom("mlp", "two", "emb", "text"), body, fc.boolean(), async (model, b, asCsv) => {
        const r = asCsv ? await invoke(model, JSON.stringify(b).replaceAll("[", "\n").replaceAll("]", ","), csv) : await invoke(model, b);
        if (![200, 400].includes(r.status)) expect.fail(`${r.status} ${r.bytes.toString().slice(0, 300)} for ${JSON.stringify(b).slice(0, 300)}`);
        if (r.status === 400) expect(r.json.error_code).toBe("BAD_REQUEST");
      }),
      { numRuns: Number(process.env.KEEL_FUZZ_RUNS ?? 150) },
    );
  });
});

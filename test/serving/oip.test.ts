/**
 * Open Inference Protocol v2 against real ONNX models: served outputs equal numpy's reference numbers over
 * JSON (flat and nested) and the binary tensor extension, for FP32, INT64, BOOL and BYTES; metadata and
 * health endpoints; every malformed request a 400 naming the input; 413 past the body limit.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rawRequest } from "../helpers/raw-http.js";
import {
  binaryBody,
  expectTensorClose,
  type FixtureName,
  fixtureCases,
  getJson,
  nest,
  parseBinaryAnswer,
  post,
  type RefTensor,
  type ServingTestApp,
  startServingApp,
  toBinary,
} from "../helpers/serving.js";

let s: ServingTestApp;
const infer = (model: string, body: unknown, headers: Record<string, string> = {}) => post(`${s.url}/v2/models/${model}/infer`, body as object, headers);
const jsonInput = (t: RefTensor, nested = false) => ({ name: t.name, datatype: t.datatype, shape: t.shape, data: nested ? nest(t.data, t.shape) : t.data });
const FIXTURES: FixtureName[] = ["mlp_small", "mlp_medium", "convnet", "embedding", "two_inputs", "text"];
const x30 = Array.from({ length: 30 }, (_, i) => i / 10 - 1.5);

beforeAll(async () => {
  s = await startServingApp([...FIXTURES.map((f) => ({ name: f, fixture: f })), { name: "strict", fixture: "mlp_small", policy: { allowNonFinite: false } }]);
});
afterAll(async () => s?.close());

describe("reference outputs", () => {
  for (const f of FIXTURES) {
    it(`${f}: JSON flat and nested`, async () => {
      for (const c of fixtureCases(f)) {
        for (const nested of [false, true]) {
          const r = await infer(f, { id: `case-${nested}`, inputs: c.inputs.map((t) => jsonInput(t, nested)) });
          expect(r.status, r.bytes.toString()).toBe(200);
          expect(r.json).toMatchObject({ model_name: f, model_version: "1", id: `case-${nested}` });
          expect(r.json.outputs.map((o: { name: string }) => o.name)).toEqual(c.outputs.map((o) => o.name));
          c.outputs.forEach((want, i) => {
            expect(r.json.outputs[i].datatype).toBe(want.datatype);
            expectTensorClose(r.json.outputs[i], want);
          });
        }
      }
    });

    it(`${f}: binary inputs and outputs`, async () => {
      for (const c of fixtureCases(f)) {
        const header = {
          inputs: c.inputs.map((t) => ({ name: t.name, datatype: t.datatype, shape: t.shape, parameters: { binary_data_size: toBinary(t).length } })),
          parameters: { binary_data_output: true },
        };
        const { body, headers } = binaryBody(header, c.inputs.map(toBinary));
        const r = await infer(f, body, headers);
        expect(r.status, r.bytes.toString()).toBe(200);
        expect(r.headers.get("content-type")).toBe("application/octet-stream");
        const answer = parseBinaryAnswer(r.bytes, Number(r.headers.get("inference-header-content-length")));
        for (const [i, want] of c.outputs.entries()) expectTensorClose(answer.outputs[i], want);
      }
    });
  }

  it("outputs are selected and ordered by the request, each in JSON or binary as asked", async () => {
    const [c] = fixtureCases("two_inputs");
    const r = await infer("two_inputs", {
      inputs: c.inputs.map((t) => jsonInput(t)),
      outputs: [{ name: "product", parameters: { binary_data: true } }, { name: "y" }],
    });
    expect(r.status).toBe(200);
    const answer = parseBinaryAnswer(r.bytes, Number(r.headers.get("inference-header-content-length")));
    expect(answer.outputs.map((o: { name: string }) => o.name)).toEqual(["product", "y"]);
    expect(answer.outputs[0].parameters.binary_data_size).toBe(4);
    expectTensorClose(answer.outputs[0], c.outputs[1]);
    expectTensorClose(answer.outputs[1], c.outputs[0]);

    const one = await infer("two_inputs", { inputs: c.inputs.map((t) => jsonInput(t)), outputs: [{ name: "y" }], parameters: { binary_data_output: true } });
    const a1 = parseBinaryAnswer(one.bytes, Number(one.headers.get("inference-header-content-length")));
    expect(a1.outputs).toHaveLength(1);
    expectTensorClose(a1.outputs[0], c.outputs[0]);
  });

  it("a mix of JSON and binary inputs, the version in the path, a generated id", async () => {
    const [c] = fixtureCases("embedding");
    const [ids, mask] = c.inputs;
    const { body, headers } = binaryBody(
      { inputs: [jsonInput(ids), { name: mask.name, datatype: "BOOL", shape: mask.shape, parameters: { binary_data_size: mask.data.length } }] },
      [toBinary(mask)],
    );
    const r = await post(`${s.url}/v2/models/embedding/versions/1/infer`, body, headers);
    expect(r.status).toBe(200);
    expect(r.json.model_version).toBe("1");
    expect(typeof r.json.id).toBe("string");
    expectTensorClose(r.json.outputs[0], c.outputs[0]);
  });

  it("INT64 values past 2^53 travel as exact digits; non-finite floats as strings, allowed by default", async () => {
    const r = await infer("embedding", {
      inputs: [
        { name: "ids", datatype: "INT64", shape: [1, 5], data: ["1", 2, "3", 4, "5"] },
        { name: "mask", datatype: "BOOL", shape: [1, 5], data: [true, false, 1, 0, true] },
      ],
    });
    expect(r.status, r.bytes.toString()).toBe(200);
    // Python's json module writes bare NaN; accepted and passed to the model.
    const nan = await post(`${s.url}/v2/models/mlp_small/infer`, `{"inputs":[{"name":"input","datatype":"FP32","shape":[1,30],"data":[NaN,${x30.slice(1).join(",")}]}]}`);
    expect(nan.status).toBe(200);
    expect(nan.json.outputs[0].data).toEqual(["NaN", "NaN"]);
  });
});

describe("metadata and health", () => {
  it("server, model and version metadata; readiness", async () => {
    const meta = (await getJson(`${s.url}/v2`)).json;
    expect(meta).toMatchObject({ name: "keel", extensions: ["binary_tensor_data"] });
    for (const path of ["/v2/models/two_inputs", "/v2/models/two_inputs/versions/1"]) {
      const m = (await getJson(`${s.url}${path}`)).json;
      expect(m).toEqual({
        name: "two_inputs",
        versions: ["1"],
        platform: "onnxruntime_onnx",
        inputs: [
          { name: "a", datatype: "FP32", shape: [-1, 4] },
          { name: "b", datatype: "FP32", shape: [-1, 3] },
        ],
        outputs: [
          { name: "y", datatype: "FP32", shape: [-1, 2] },
          { name: "product", datatype: "FP32", shape: [-1, 1] },
        ],
      });
    }
    const text = (await getJson(`${s.url}/v2/models/text`)).json;
    expect(text.inputs).toEqual([{ name: "text", datatype: "BYTES", shape: [-1] }]);
    for (const path of ["/v2/health/live", "/v2/health/ready", "/v2/models/text/ready", "/v2/models/text/versions/1/ready"]) {
      const r = await fetch(`${s.url}${path}`);
      expect(r.status, path).toBe(200);
      expect(await r.text()).toBe("");
    }
  });

  it("unknown models, versions and endpoints are 404s in OIP's error shape", async () => {
    for (const [path, msg] of [
      ["/v2/models/nope", "Unknown model 'nope'"],
      ["/v2/models/text/versions/7", "Model 'text' has no version '7'"],
      ["/v2/models/nope/ready", "Unknown model 'nope'"],
      ["/v2/whatever", "No endpoint GET /v2/whatever"],
    ]) {
      const r = await getJson(`${s.url}${path}`);
      expect(r.status, path).toBe(404);
      expect(r.json.error).toContain(msg);
    }
    const r = await infer("nope", { inputs: [] });
    expect(r.status).toBe(404);
    expect(r.json.error).toContain("Unknown model 'nope'");
  });
});

describe("bad input: a 400 naming the input, never a 5xx", () => {
  const cases: [string, string, unknown, string][] = [
    ["unknown input", "mlp_small", { inputs: [{ name: "bogus", datatype: "FP32", shape: [1, 30], data: x30 }] }, "Unknown input 'bogus'"],
    ["missing input", "two_inputs", { inputs: [{ name: "a", datatype: "FP32", shape: [1, 4], data: [1, 2, 3, 4] }] }, "Missing input 'b'"],
    ["input twice", "mlp_small", { inputs: [0, 1].map(() => ({ name: "input", datatype: "FP32", shape: [1, 30], data: x30 })) }, "Input 'input' is given more than once"],
    ["wrong datatype", "mlp_small", { inputs: [{ name: "input", datatype: "FP64", shape: [1, 30], data: x30 }] }, "Input 'input': datatype FP64 does not match the model's FP32"],
    ["unknown datatype", "mlp_small", { inputs: [{ name: "input", datatype: "FLOAT", shape: [1, 30], data: x30 }] }, "Input 'input': unknown datatype 'FLOAT'"],
    ["wrong rank", "mlp_small", { inputs: [{ name: "input", datatype: "FP32", shape: [30], data: x30 }] }, "Input 'input': shape has 1 dimensions; the model expects 2"],
    ["wrong fixed dim", "mlp_small", { inputs: [{ name: "input", datatype: "FP32", shape: [1, 29], data: x30.slice(1) }] }, "Input 'input': shape [1,29] does not match the model's [-1,30] at dimension 1"],
    ["negative dim", "mlp_small", { inputs: [{ name: "input", datatype: "FP32", shape: [-1, 30], data: x30 }] }, "Input 'input': dimension 0 of the shape is -1"],
    ["shape product ≠ element count", "mlp_small", { inputs: [{ name: "input", datatype: "FP32", shape: [2, 30], data: [...x30, ...x30.slice(1)] }] }, "Input 'input': data has 59 values; shape [2,30] needs 60"],
    ["nested data not matching the shape", "mlp_small", { inputs: [{ name: "input", datatype: "FP32", shape: [2, 30], data: [x30, x30.slice(1)] }] }, "Input 'input': data[1] has 29 elements"],
    ["a string in FP32 data", "mlp_small", { inputs: [{ name: "input", datatype: "FP32", shape: [1, 30], data: ["a", ...x30.slice(1)] }] }, 'Input \'input\': element 0 is "a"; FP32 data must be numbers'],
    ["INT64 out of range", "embedding", { inputs: [{ name: "ids", datatype: "INT64", shape: [1, 5], data: [1, 2, 3, 4, "9223372036854775808"] }, { name: "mask", datatype: "BOOL", shape: [1, 5], data: [true, true, true, true, true] }] }, "Input 'ids': element 4"],
    ["INT64 not an integer", "embedding", { inputs: [{ name: "ids", datatype: "INT64", shape: [1, 5], data: [1, 2.5, 3, 4, 5] }, { name: "mask", datatype: "BOOL", shape: [1, 5], data: [true, true, true, true, true] }] }, "Input 'ids': element 1 is 2.5"],
    ["BOOL not a boolean", "embedding", { inputs: [{ name: "ids", datatype: "INT64", shape: [1, 5], data: [1, 2, 3, 4, 5] }, { name: "mask", datatype: "BOOL", shape: [1, 5], data: [true, "yes", true, true, true] }] }, "Input 'mask': element 1"],
    ["BYTES not a string", "text", { inputs: [{ name: "text", datatype: "BYTES", shape: [2], data: ["cat", 7] }] }, "Input 'text': element 1 is 7; BYTES data must be strings"],
    ["inputs disagree on the batch size", "two_inputs", { inputs: [{ name: "a", datatype: "FP32", shape: [2, 4], data: Array(8).fill(0) }, { name: "b", datatype: "FP32", shape: [3, 3], data: Array(9).fill(0) }] }, "Inputs 'a' and 'b' disagree on dimension 'batch': 2 and 3"],
    ["NaN where the model refuses it", "strict", { inputs: [{ name: "input", datatype: "FP32", shape: [1, 30], data: [...x30.slice(0, 3), "NaN", ...x30.slice(4)] }] }, "Input 'input': element 3 is NaN; this model does not accept NaN or Infinity"],
    ["Infinity where the model refuses it", "strict", { inputs: [{ name: "input", datatype: "FP32", shape: [1, 30], data: [1e39, ...x30.slice(1)] }] }, "Input 'input': element 0 is Infinity"],
    ["unknown output", "mlp_small", { inputs: [{ name: "input", datatype: "FP32", shape: [1, 30], data: x30 }], outputs: [{ name: "zzz" }] }, "Unknown output 'zzz'"],
    ["no inputs", "mlp_small", { inputs: [] }, "'inputs' must be a non-empty array; model 'mlp_small' needs 'input'"],
    ["the model fails on the values (embedding index out of range)", "embedding", { inputs: [{ name: "ids", datatype: "INT64", shape: [1, 5], data: [1, 2, 3, 4, 999] }, { name: "mask", datatype: "BOOL", shape: [1, 5], data: [true, true, true, true, true] }] }, "The model could not run on this input"],
  ];
  for (const [what, model, body, msg] of cases) {
    it(what, async () => {
      const r = await infer(model, body);
      expect(r.status, r.bytes.toString()).toBe(400);
      expect(r.json.error).toContain(msg);
    });
  }

  it("a 10,000-dimensional shape is refused from the header alone", async () => {
    const t0 = performance.now();
    const r = await infer("mlp_small", { inputs: [{ name: "input", datatype: "FP32", shape: Array(10_000).fill(1), data: [1] }] });
    expect(r.status).toBe(400);
    expect(r.json.error).toContain("Input 'input': shape has 10000 dimensions; the model expects 2");
    expect(performance.now() - t0).toBeLessThan(1000);
    const text = await infer("text", { inputs: [{ name: "text", datatype: "BYTES", shape: Array(10_000).fill(2), data: ["a"] }] });
    expect(text.status).toBe(400);
    expect(text.json.error).toContain("Input 'text': shape has 10000 dimensions");
  });

  it("huge claimed sizes are refused at once, without allocating them", async () => {
    const before = process.memoryUsage().arrayBuffers;
    // 3·10^9 elements: past the per-input limit from the shape alone.
    const claims = await infer("mlp_small", { inputs: [{ name: "input", datatype: "FP32", shape: [100_000_000, 30], data: x30 }] });
    expect(claims.status).toBe(400);
    expect(claims.json.error).toContain("Input 'input': shape [100000000,30] claims 3000000000 elements");
    // 1.2 GB claimed in binary, 120 bytes sent.
    const big = binaryBody({ inputs: [{ name: "input", datatype: "FP32", shape: [10_000_000, 30], parameters: { binary_data_size: 1_200_000_000 } }] }, [toBinary({ name: "input", datatype: "FP32", shape: [1, 30], data: x30 })]);
    const r = await infer("mlp_small", big.body, big.headers);
    expect(r.status).toBe(400);
    expect(r.json.error).toContain("Input 'input': binary_data_size is 1200000000 bytes, but only 120 bytes of binary data are left in the body");
    // A BYTES element claiming 4 GiB.
    const bytes = binaryBody({ inputs: [{ name: "text", datatype: "BYTES", shape: [1], parameters: { binary_data_size: 8 } }] }, [Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4])]);
    const rb = await infer("text", bytes.body, bytes.headers);
    expect(rb.status).toBe(400);
    expect(rb.json.error).toContain("Input 'text': element 0 claims 4294967295 bytes; only 4 remain");
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 1024 * 1024);
  });

  it("binary sizes that disagree with the body or the shape", async () => {
    const t = { name: "input", datatype: "FP32", shape: [1, 30], data: x30 };
    const part = toBinary(t);
    const header = { inputs: [{ name: "input", datatype: "FP32", shape: [1, 30], parameters: { binary_data_size: 120 } }] };
    // Header length past the body.
    const { body } = binaryBody(header, [part]);
    const r1 = await infer("mlp_small", body, { "inference-header-content-length": String(body.length + 1) });
    expect(r1.status).toBe(400);
    expect(r1.json.error).toContain(`Inference-Header-Content-Length is ${body.length + 1}, but the body has only ${body.length} bytes`);
    // Truncated binary part.
    const cut = binaryBody(header, [part.subarray(0, 100)]);
    const r2 = await infer("mlp_small", cut.body, cut.headers);
    expect(r2.status).toBe(400);
    expect(r2.json.error).toContain("Input 'input': binary_data_size is 120 bytes, but only 100 bytes of binary data are left in the body (truncated request?)");
    // Size that is not the shape's.
    const odd = binaryBody({ inputs: [{ ...header.inputs[0], parameters: { binary_data_size: 116 } }] }, [part.subarray(0, 116)]);
    const r3 = await infer("mlp_small", odd.body, odd.headers);
    expect(r3.status).toBe(400);
    expect(r3.json.error).toContain("Input 'input': binary_data_size is 116 bytes; shape [1,30] of FP32 takes 120");
    // Bytes left over after the last binary input.
    const extra = binaryBody(header, [part, Buffer.from([1, 2, 3])]);
    const r4 = await infer("mlp_small", extra.body, extra.headers);
    expect(r4.status).toBe(400);
    expect(r4.json.error).toContain("3 bytes of binary data follow the last input");
    // binary_data_size without the header that says where the JSON ends.
    const r5 = await infer("mlp_small", JSON.stringify(header), {});
    expect(r5.status).toBe(400);
    expect(r5.json.error).toContain("Input 'input' has binary_data_size but the request has no Inference-Header-Content-Length header");
    // Truncated second input of two.
    const [c] = fixtureCases("two_inputs");
    const parts = c.inputs.map(toBinary);
    const two = binaryBody(
      { inputs: c.inputs.map((i, k) => ({ name: i.name, datatype: i.datatype, shape: i.shape, parameters: { binary_data_size: parts[k].length } })) },
      [parts[0], parts[1].subarray(0, 5)],
    );
    const r6 = await infer("two_inputs", two.body, two.headers);
    expect(r6.status).toBe(400);
    expect(r6.json.error).toContain("Input 'b': binary_data_size is 12 bytes, but only 5 bytes");
    // A garbage header length.
    const r7 = await infer("mlp_small", body, { "inference-header-content-length": "12abc" });
    expect(r7.status).toBe(400);
    expect(r7.json.error).toContain("Inference-Header-Content-Length must be a byte count");
  });

  it("malformed bodies, ids, parameters and timeouts", async () => {
    const checks: [string | Buffer, Record<string, string>, string][] = [
      ["{not json", { "content-type": "application/json" }, "Malformed JSON in the request"],
      ["", {}, "The request body is empty"],
      ["[1,2]", {}, "The request must be a JSON object with 'inputs'"],
      [JSON.stringify({ id: 5, inputs: [] }), {}, "'id' must be a string"],
      [JSON.stringify({ inputs: [{ name: "input", datatype: "FP32", shape: [1, 30], data: x30 }], parameters: { binary_data_output: "yes" } }), {}, "parameter 'binary_data_output' must be true or false"],
      [JSON.stringify({ inputs: [{ name: "input", datatype: "FP32", shape: [1, 30], data: x30 }] }), { "keel-timeout-ms": "soon" }, "Keel-Timeout-Ms must be a whole number"],
    ];
    for (const [body, headers, msg] of checks) {
      const r = await infer("mlp_small", body, headers);
      expect(r.status, msg).toBe(400);
      expect(r.json.error).toContain(msg);
    }
    // No Content-Type at all is fine for OIP (Triton's clients do not always send one).
    const raw = await rawRequest(s.url, "POST", "/v2/models/mlp_small/infer", JSON.stringify({ inputs: [{ name: "input", datatype: "FP32", shape: [1, 30], data: x30 }] }));
    expect(raw.status).toBe(200);
  });
});

describe("fuzz: junk requests are 4xx, never 5xx", () => {
  const junk = fc.oneof(
    fc.constant(undefined),
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double(),
    fc.string({ maxLength: 12 }),
    fc.constantFrom("input", "FP32", "BYTES", "INT64", "text", "ids", "mask"),
    fc.array(fc.oneof(fc.integer({ min: -2, max: 40 }), fc.double(), fc.string({ maxLength: 3 })), { maxLength: 6 }),
    fc.array(fc.array(fc.integer({ min: -1, max: 3 }), { maxLength: 4 }), { maxLength: 4 }),
    fc.dictionary(fc.constantFrom("binary_data_size", "binary_data", "binary_data_output", "x"), fc.oneof(fc.integer({ min: -5, max: 200 }), fc.boolean())),
  );
  const input = fc.record({ name: junk, datatype: junk, shape: junk, data: junk, parameters: junk }, { requiredKeys: [] });
  const request = fc.record({ id: junk, inputs: fc.oneof(junk, fc.array(input, { maxLength: 3 })), outputs: fc.oneof(junk, fc.array(fc.record({ name: junk, parameters: junk }), { maxLength: 2 })), parameters: junk }, { requiredKeys: [] });

  it("JSON and binary bodies", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("mlp_small", "embedding", "text", "two_inputs"),
        request,
        fc.uint8Array({ maxLength: 64 }),
        fc.option(fc.integer({ min: -3, max: 400 }).map(String)),
        async (model, body, tail, headerLength) => {
          const json = Buffer.from(JSON.stringify(body) ?? "");
          const headers: Record<string, string> = headerLength === null ? {} : { "inference-header-content-length": headerLength };
          const r = await infer(model, Buffer.concat([json, Buffer.from(tail)]), headers);
          if (r.status >= 500 || r.status < 200) expect.fail(`${r.status} ${r.bytes.toString().slice(0, 300)} for ${JSON.stringify(body)?.slice(0, 300)}`);
          if (r.status >= 400) expect(typeof r.json.error).toBe("string");
        },
      ),
      { numRuns: Number(process.env.KEEL_FUZZ_RUNS ?? 150) },
    );
  });

  it("near-valid requests: one field of a good request changed", async () => {
    const datatypes = ["BOOL", "UINT8", "INT32", "INT64", "FP16", "FP32", "FP64", "BYTES", "fp32"];
    await fc.assert(
      fc.asyncProperty(
        fc.record(
          {
            datatype: fc.constantFrom(...datatypes),
            shape: fc.array(fc.integer({ min: -1, max: 40 }), { maxLength: 3 }),
            data: fc.oneof(fc.array(fc.double(), { maxLength: 70 }), fc.array(fc.array(fc.integer(), { maxLength: 31 }), { maxLength: 3 }), fc.array(fc.string({ maxLength: 2 }), { maxLength: 31 })),
            size: fc.integer({ min: 0, max: 300 }),
          },
          { requiredKeys: [] },
        ),
        fc.uint8Array({ maxLength: 300 }),
        async (change, tail) => {
          const inp: Record<string, unknown> = { name: "input", datatype: change.datatype ?? "FP32", shape: change.shape ?? [1, 30] };
          let body: Buffer;
          let headers: Record<string, string> = {};
          if (change.size !== undefined) {
            inp.parameters = { binary_data_size: change.size };
            ({ body, headers } = binaryBody({ inputs: [inp] }, [Buffer.from(tail)]));
          } else {
            inp.data = change.data ?? x30;
            body = Buffer.from(JSON.stringify({ inputs: [inp] }));
          }
          const r = await infer("mlp_small", body, headers);
          if (r.status !== 200 && r.status !== 400) expect.fail(`${r.status} ${r.bytes.toString().slice(0, 300)} for ${JSON.stringify(inp).slice(0, 300)}`);
        },
      ),
      { numRuns: Number(process.env.KEEL_FUZZ_RUNS ?? 150) },
    );
  });
});

describe("body size limit", () => {
  let small: ServingTestApp;
  beforeAll(async () => {
    small = await startServingApp([{ name: "m", fixture: "mlp_small" }], { maxBodyBytes: 4096 });
  });
  afterAll(async () => small?.close());

  it("413 past the limit, in each protocol's shape; a huge Content-Length is refused before its body arrives", async () => {
    const big = { inputs: [{ name: "input", datatype: "FP32", shape: [20, 30], data: Array(600).fill(0.123456789) }] };
    const r = await post(`${small.url}/v2/models/m/infer`, big);
    expect(r.status).toBe(413);
    expect(r.json.error).toContain("larger than this server accepts");
    const m = await post(`${small.url}/models/m/invocations`, { instances: Array(20).fill(Array(30).fill(0.123456789)) });
    expect(m.status).toBe(413);
    expect(m.json.error_code).toBe("BAD_REQUEST");
    const ok = await post(`${small.url}/v2/models/m/infer`, { inputs: [{ name: "input", datatype: "FP32", shape: [1, 30], data: x30 }] });
    expect(ok.status).toBe(200);

    const answer = await new Promise<string>((resolve, reject) => {
      import("node:net").then(({ connect }) => {
        const u = new URL(small.url);
        const sock = connect(Number(u.port), u.hostname, () => {
          sock.write(`POST /v2/models/m/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10000000000\r\n\r\n{"inputs":`);
        });
        let got = "";
        sock.on("data", (d) => {
          got += d.toString();
          if (got.includes("\r\n\r\n")) {
            sock.destroy();
            resolve(got);
          }
        });
        sock.on("error", reject);
        setTimeout(() => reject(new Error("no answer to a 10 GB Content-Length")), 5000);
      });
    });
    expect(answer).toMatch(/^HTTP\/1.1 413/);
  });
});

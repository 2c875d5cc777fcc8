/**
 * The ONNX runtime wrapper: metadata from the model (OIP datatypes, -1 for dynamic dims), warm-up at load,
 * runs that match numpy's reference, thread options, clear load errors, draining dispose; and every OIP
 * datatype through a real session (JSON and binary).
 */
import { readFileSync } from "node:fs";
import Fastify from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeOnnxModel } from "../../src/onnx/index.js";
import { ServingError } from "../../src/serving/errors.js";
import { localModel } from "../../src/serving/local-model.js";
import { staticRepository } from "../../src/serving/model.js";
import { oipRoutes } from "../../src/serving/oip-routes.js";
import { ModelLoadError, ModelRuntime } from "../../src/serving/runtime.js";
import type { Datatype, Tensor } from "../../src/serving/tensor.js";
import { binaryBody, expectTensorClose, type FixtureName, fixtureCases, fixturePath, parseBinaryAnswer, post, type RefTensor } from "../helpers/serving.js";

function refToTensor(t: RefTensor): Tensor {
  const data =
    t.datatype === "FP32"
      ? Float32Array.from(t.data as number[])
      : t.datatype === "INT64"
        ? BigInt64Array.from((t.data as number[]).map((v) => BigInt(v)))
        : t.datatype === "BOOL"
          ? Uint8Array.from((t.data as boolean[]).map(Number))
          : (t.data as string[]);
  return { name: t.name, datatype: t.datatype as Datatype, shape: t.shape, data };
}
const plain = (t: Tensor) => ({ name: t.name, shape: t.shape, data: Array.from(t.data as ArrayLike<unknown>, (v) => (typeof v === "bigint" ? Number(v) : v)) });

describe("ModelRuntime", () => {
  it("describes every fixture's inputs and outputs, warms up, and reproduces the reference", async () => {
    const expected: Record<FixtureName, [string, string, number[]][]> = {
      mlp_small: [["input", "FP32", [-1, 30]]],
      mlp_medium: [["input", "FP32", [-1, 30]]],
      convnet: [["image", "FP32", [-1, 3, 64, 64]]],
      embedding: [
        ["ids", "INT64", [-1, 5]],
        ["mask", "BOOL", [-1, 5]],
      ],
      two_inputs: [
        ["a", "FP32", [-1, 4]],
        ["b", "FP32", [-1, 3]],
      ],
      text: [["text", "BYTES", [-1]]],
    };
    for (const [name, inputs] of Object.entries(expected) as [FixtureName, [string, string, number[]][]][]) {
      const rt = await ModelRuntime.load({ path: fixturePath(name) }, { intraOpThreads: 1 });
      try {
        expect(rt.inputs.map((i) => [i.name, i.datatype, i.shape])).toEqual(inputs);
        expect(rt.inputs[0].dimNames?.[0]).toBeTypeOf("string");
        expect(rt.warmup).toMatchObject({ ok: true });
        expect(rt.warmup?.ms).toBeGreaterThanOrEqual(0);
        for (const c of fixtureCases(name)) {
          const out = await rt.run(c.inputs.map(refToTensor));
          expect(out.map((o) => o.datatype)).toEqual(c.outputs.map((o) => o.datatype));
          for (const [i, want] of c.outputs.entries()) expectTensorClose(plain(out[i]), want);
        }
      } finally {
        await rt.dispose();
      }
    }
  });

  it("loads from bytes with thread options; returns outputs in the order asked", async () => {
    const bytes = readFileSync(fixturePath("two_inputs"));
    const rt = await ModelRuntime.load({ bytes }, { intraOpThreads: 1, interOpThreads: 2 });
    const [c] = fixtureCases("two_inputs");
    const out = await rt.run(c.inputs.map(refToTensor).reverse(), ["product", "y"]);
    expect(out.map((o) => o.name)).toEqual(["product", "y"]);
    expectTensorClose(plain(out[0]), c.outputs[1]);
    expect(rt.outputs.map((o) => [o.name, o.shape])).toEqual([
      ["y", [-1, 2]],
      ["product", [-1, 1]],
    ]);
    await rt.dispose();
  });

  it("refuses what is not a model, with a clear error", async () => {
    await expect(ModelRuntime.load({ bytes: Buffer.from("definitely not onnx") })).rejects.toThrow(ModelLoadError);
    await expect(ModelRuntime.load({ bytes: new Uint8Array(0) })).rejects.toThrow(/Not an ONNX model|empty|no graph/);
    await expect(ModelRuntime.load({ path: "/nonexistent/model.onnx" })).rejects.toThrow(/Cannot read the model file .*no such file/);
  });

  it("a model that cannot run on warm-up zeros still loads, and says why", async () => {
    // Reshape [n] -> [2, -1] fails for n = 1.
    const bytes = encodeOnnxModel({
      graph: {
        name: "reshape",
        nodes: [{ opType: "Reshape", inputs: ["x", "shape"], outputs: ["y"] }],
        initializers: [{ name: "shape", dtype: "INT64", dims: [2], data: [2n, -1n] }],
        inputs: [{ name: "x", dtype: "FLOAT", shape: ["n"] }],
        outputs: [{ name: "y", dtype: "FLOAT", shape: [2, null] }],
      },
    });
    const rt = await ModelRuntime.load({ bytes });
    expect(rt.inputs).toEqual([{ name: "x", datatype: "FP32", shape: [-1], dimNames: ["n"] }]);
    expect(rt.warmup?.ok).toBe(false);
    expect(rt.warmup?.error).toContain("The model could not run on this input");
    const [y] = await rt.run([{ name: "x", datatype: "FP32", shape: [4], data: Float32Array.from([1, 2, 3, 4]) }]);
    expect(y.shape).toEqual([2, 2]);
    await rt.dispose();
  });

  it("an input of unknown rank accepts any shape; warm-up is skipped", async () => {
    const bytes = encodeOnnxModel({
      graph: { name: "id", nodes: [{ opType: "Identity", inputs: ["x"], outputs: ["y"] }], inputs: [{ name: "x", dtype: "FLOAT", shape: null }], outputs: [{ name: "y", dtype: "FLOAT" }] },
    });
    const rt = await ModelRuntime.load({ bytes });
    expect(rt.inputs[0]).toMatchObject({ anyRank: true, shape: [-1] });
    expect(rt.warmup).toMatchObject({ ok: false, error: expect.stringContaining("no declared rank") });
    const [y] = await rt.run([{ name: "x", datatype: "FP32", shape: [1, 2, 1], data: Float32Array.from([5, 6]) }]);
    expect(Array.from(y.data as Float32Array)).toEqual([5, 6]);
    await rt.dispose();
  });

  it("on a worker thread: the same answers for every fixture, concurrent runs, clear errors, and 503 after dispose", async () => {
    for (const name of ["mlp_small", "convnet", "embedding", "two_inputs", "text"] as FixtureName[]) {
      const rt = await ModelRuntime.load({ bytes: readFileSync(fixturePath(name)) }, { intraOpThreads: 1, workerThread: true });
      try {
        expect(rt.warmup).toMatchObject({ ok: true });
        const cases = fixtureCases(name);
        // Several runs in flight at once: each answer goes back to its own caller.
        const outs = await Promise.all(cases.map((c) => rt.run(c.inputs.map(refToTensor))));
        for (const [k, c] of cases.entries()) for (const [i, want] of c.outputs.entries()) expectTensorClose(plain(outs[k][i]), want);
      } finally {
        await rt.dispose();
      }
    }
    const rt = await ModelRuntime.load({ path: fixturePath("mlp_small") }, { workerThread: true });
    // A value the model cannot take is the caller's 400, as on the main thread.
    const bad = await rt.run([{ name: "input", datatype: "FP32", shape: [1, 29], data: new Float32Array(29) }]).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(ServingError);
    expect((bad as ServingError).status).toBe(400);
    await rt.dispose();
    expect(((await rt.run([{ name: "input", datatype: "FP32", shape: [1, 30], data: new Float32Array(30) }]).catch((e: unknown) => e)) as ServingError).status).toBe(503);
    await expect(ModelRuntime.load({ bytes: Buffer.from("not a model at all") }, { workerThread: true })).rejects.toThrow(ModelLoadError);
  });

  it("dispose waits for runs in flight, then refuses new ones with 503", async () => {
    const rt = await ModelRuntime.load({ path: fixturePath("mlp_medium") }, { intraOpThreads: 1 });
    const x: Tensor = { name: "input", datatype: "FP32", shape: [256, 30], data: new Float32Array(256 * 30) };
    const running = rt.run([x]);
    const disposed = rt.dispose();
    const [out] = await running;
    expect(out.shape).toEqual([256, 2]);
    await disposed;
    const err = await rt.run([x]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServingError);
    expect((err as ServingError).status).toBe(503);
  });
});

describe("every OIP datatype through a session", () => {
  const TYPES: [Datatype, string, unknown[]][] = [
    ["BOOL", "BOOL", [true, false, true]],
    ["UINT8", "UINT8", [0, 7, 255]],
    ["UINT16", "UINT16", [0, 7, 65535]],
    ["UINT32", "UINT32", [0, 7, 4294967295]],
    ["UINT64", "UINT64", [0, 7, "18446744073709551615"]],
    ["INT8", "INT8", [-128, 0, 127]],
    ["INT16", "INT16", [-32768, 0, 32767]],
    ["INT32", "INT32", [-2147483648, 0, 2147483647]],
    ["INT64", "INT64", ["-9223372036854775808", 0, "9223372036854775807"]],
    ["FP16", "FLOAT16", [0.5, -2, 65504]],
    ["FP32", "FLOAT", [0.5, -2.25, 3e38]],
    ["FP64", "DOUBLE", [0.1, -2.5, 1e300]],
    ["BYTES", "STRING", ["a", "", "ünïcödé"]],
  ];
  let url: string;
  let close: () => Promise<void>;
  beforeAll(async () => {
    const bytes = encodeOnnxModel({
      graph: {
        name: "identity",
        nodes: TYPES.map(([d]) => ({ opType: "Identity", inputs: [`in_${d}`], outputs: [`out_${d}`] })),
        inputs: TYPES.map(([d, onnx]) => ({ name: `in_${d}`, dtype: onnx, shape: ["n"] })),
        outputs: TYPES.map(([d, onnx]) => ({ name: `out_${d}`, dtype: onnx, shape: ["n"] })),
      },
    });
    const rt = await ModelRuntime.load({ bytes });
    expect(rt.warmup?.ok).toBe(true);
    const app = Fastify();
    await app.register(oipRoutes({ repository: staticRepository([localModel(rt, { name: "id" })]) }));
    url = await app.listen({ host: "127.0.0.1", port: 0 });
    close = async () => {
      await app.close();
      await rt.dispose();
    };
  });
  afterAll(async () => close?.());

  it("JSON in, JSON out: values round-trip exactly (INT64/UINT64 digits included)", async () => {
    const r = await post(`${url}/v2/models/id/infer`, { inputs: TYPES.map(([d, , data]) => ({ name: `in_${d}`, datatype: d, shape: [3], data })) });
    expect(r.status, r.bytes.toString()).toBe(200);
    // INT64 digits are exact in the JSON text, whatever a JSON parser makes of them.
    expect(r.bytes.toString()).toContain('"data":[-9223372036854775808,0,9223372036854775807]');
    expect(r.bytes.toString()).toContain('"data":[0,7,18446744073709551615]');
    for (const [i, [d, , data]] of TYPES.entries()) {
      const o = r.json.outputs[i];
      expect(o).toMatchObject({ name: `out_${d}`, datatype: d, shape: [3] });
      if (d === "INT64" || d === "UINT64") continue;
      if (d === "FP32") expect(o.data).toEqual((data as number[]).map(Math.fround));
      else expect(o.data, d).toEqual(data);
    }
  });

  it("binary in, binary out: the same bytes come back", async () => {
    const json = await post(`${url}/v2/models/id/infer`, {
      inputs: TYPES.map(([d, , data]) => ({ name: `in_${d}`, datatype: d, shape: [3], data })),
      parameters: { binary_data_output: true },
    });
    const first = json.bytes.subarray(Number(json.headers.get("inference-header-content-length")));
    const head = JSON.parse(json.bytes.subarray(0, Number(json.headers.get("inference-header-content-length"))).toString());
    let pos = 0;
    const parts = head.outputs.map((o: { parameters: { binary_data_size: number } }) => {
      const p = first.subarray(pos, pos + o.parameters.binary_data_size);
      pos += o.parameters.binary_data_size;
      return p;
    });
    const { body, headers } = binaryBody(
      { inputs: TYPES.map(([d], i) => ({ name: `in_${d}`, datatype: d, shape: [3], parameters: { binary_data_size: parts[i].length } })), parameters: { binary_data_output: true } },
      parts,
    );
    const back = await post(`${url}/v2/models/id/infer`, body, headers);
    expect(back.status, back.bytes.toString()).toBe(200);
    expect(back.bytes.subarray(Number(back.headers.get("inference-header-content-length")))).toEqual(first);
    const bools = parseBinaryAnswer(back.bytes, Number(back.headers.get("inference-header-content-length")));
    expect(bools.outputs[0].data).toEqual([true, false, true]);
    expect(bools.outputs[12].data).toEqual(["a", "", "ünïcödé"]);
  });

  it("values out of a datatype's range are 400s naming the input", async () => {
    for (const [d, bad] of [
      ["UINT8", 256],
      ["INT8", -129],
      ["UINT16", -1],
      ["INT32", 2 ** 31],
      ["UINT64", -1],
    ] as [Datatype, number][]) {
      const inputs = TYPES.map(([t, , data]) => ({ name: `in_${t}`, datatype: t, shape: [3], data: t === d ? [bad, 0, 0] : data }));
      const r = await post(`${url}/v2/models/id/infer`, { inputs });
      expect(r.status, d).toBe(400);
      expect(r.json.error).toContain(`Input 'in_${d}': element 0 is ${bad}`);
    }
  });
});

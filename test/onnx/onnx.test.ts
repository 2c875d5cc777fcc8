/**
 * The ONNX codec: protobuf wire format both ways, signatures read from real .onnx files (our writer's,
 * checked with onnx.checker when they were made, and one exported by PyTorch), only the clear error on
 * anything else, and random access that reads a big model's metadata without its weights.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type ByteSource,
  encodeOnnxModel,
  logisticRegressionModel,
  OnnxFormatError,
  ProtobufError,
  Reader,
  readOnnxSignature,
  readOnnxSignatureFrom,
  Writer,
} from "../../src/onnx/index.js";
import { decodeVarint } from "../../src/onnx/protobuf.js";
import { FIXTURES } from "../fixtures/onnx/generate.js";

const FIXTURE_DIR = join(import.meta.dirname, "../fixtures/onnx");
const fixture = (name: string) => new Uint8Array(readFileSync(join(FIXTURE_DIR, name)));

describe("protobuf wire format", () => {
  it("round-trips varints, including int64 negatives and values past 32 bits", () => {
    for (const v of [0, 1, 127, 128, 300, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 53 - 1, -1, -2, -(2 ** 31), -(2 ** 53 - 1)]) {
      const b = new Writer().varint(v).finish();
      expect(decodeVarint(b, 0), String(v)).toEqual([v, b.length]);
      if (v < 0) expect(b.length).toBe(10);
    }
    fc.assert(
      fc.property(fc.maxSafeInteger(), (v) => {
        const b = new Writer().varint(v).finish();
        expect(decodeVarint(b, 0)[0]).toBe(v);
      }),
    );
  });

  it("round-trips every wire type through a message and a nested message", () => {
    const inner = new Writer().string(1, "héllo").int(2, -5);
    const w = new Writer().int(1, 42).fixed32(2, 0xdeadbeef).fixed64(3, 2n ** 40n + 7n).message(4, inner).float(5, 1.5).double(6, -2.25).packedInts(7, [1, 300, 70000]);
    const r = new Reader(w.finish());
    const fields = [];
    while (!r.done()) fields.push(r.next());
    expect(fields.map((f) => [f.field, f.wire])).toEqual([
      [1, 0],
      [2, 5],
      [3, 1],
      [4, 2],
      [5, 5],
      [6, 1],
      [7, 2],
    ]);
    expect(fields[0].value).toBe(42);
    expect(fields[1].value).toBe(0xdeadbeef);
    expect(fields[2].value).toBe(2 ** 40 + 7);
    const sub = r.sub(fields[3]);
    const s1 = sub.next();
    expect(sub.string(s1)).toBe("héllo");
    expect(sub.int(sub.next())).toBe(-5);
    expect(new DataView(r.buf.buffer, r.buf.byteOffset + fields[4].start, 4).getFloat32(0, true)).toBe(1.5);
    expect(new DataView(r.buf.buffer, r.buf.byteOffset + fields[5].start, 8).getFloat64(0, true)).toBe(-2.25);
    expect(r.ints(fields[6])).toEqual([1, 300, 70000]);
  });

  it("refuses truncated and malformed input with ProtobufError", () => {
    const bad = [
      [0x08], // tag, no value
      [0x0a, 0x05, 1, 2], // LEN claims 5, has 2
      [0x00], // field 0
      [0x0b], // start group
      [0x0f], // wire type 7
      [0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], // varint over 10 bytes
      [0x0d, 1, 2], // truncated fixed32
    ];
    for (const b of bad) expect(() => new Reader(Uint8Array.from(b)).next(), JSON.stringify(b)).toThrow(ProtobufError);
  });
});

describe("readOnnxSignature", () => {
  it("reads the logistic regression our writer makes (and the committed fixture is exactly the writer's output)", () => {
    const bytes = fixture("logistic-regression.onnx");
    expect(Buffer.from(bytes).equals(Buffer.from(FIXTURES["logistic-regression.onnx"]()))).toBe(true);
    expect(readOnnxSignature(bytes)).toEqual({
      ir_version: 8,
      opset: 13,
      opset_imports: [{ domain: "", version: 13 }],
      producer: { name: "keel", version: "fixture" },
      inputs: [{ name: "x", dtype: "FLOAT", datatype: "FP32", shape: ["batch", 4] }],
      outputs: [{ name: "probability", dtype: "FLOAT", datatype: "FP32", shape: ["batch", 1] }],
    });
  });

  it("reads int64 and double values, scalars, unknown dims and several opset domains", () => {
    const bytes = fixture("kitchen-sink.onnx");
    expect(Buffer.from(bytes).equals(Buffer.from(FIXTURES["kitchen-sink.onnx"]()))).toBe(true);
    const sig = readOnnxSignature(bytes);
    expect(sig.opset).toBe(13);
    expect(sig.opset_imports).toEqual([
      { domain: "", version: 13 },
      { domain: "ai.onnx.ml", version: 3 },
    ]);
    expect(sig.inputs).toEqual([
      { name: "x", dtype: "FLOAT", datatype: "FP32", shape: ["N", 3] },
      { name: "ids", dtype: "INT64", datatype: "INT64", shape: [null] },
      { name: "z", dtype: "DOUBLE", datatype: "FP64", shape: [2, "k", null] },
    ]);
    expect(sig.outputs).toEqual([
      { name: "y", dtype: "FLOAT", datatype: "FP32", shape: ["N", 2] },
      { name: "count", dtype: "INT64", datatype: "INT64", shape: [] },
      { name: "z_out", dtype: "DOUBLE", datatype: "FP64", shape: [2, "k", null] },
    ]);
  });

  it("reads a model exported by PyTorch, leaving out the weights it also lists as graph inputs", () => {
    const sig = readOnnxSignature(fixture("torch-two-inputs.onnx"));
    expect(sig).toMatchObject({ ir_version: 7, opset: 13, producer: { name: "pytorch", version: "1.13.0" } });
    expect(sig.inputs).toEqual([
      { name: "tokens", dtype: "INT64", datatype: "INT64", shape: ["batch", "sequence"] },
      { name: "features", dtype: "FLOAT", datatype: "FP32", shape: ["batch", 4] },
    ]);
    expect(sig.outputs).toEqual([
      { name: "probabilities", dtype: "FLOAT", datatype: "FP32", shape: ["batch", 2] },
      { name: "embedding", dtype: "FLOAT", datatype: "FP32", shape: ["batch", 3] },
    ]);
  });

  it("reports unknown rank, non-tensor types and element types OIP lacks", () => {
    // TypeProto built by hand: sequence<tensor(FLOAT16)>, map<INT64, tensor(FLOAT)>, optional<tensor(BFLOAT16)>, no type at all.
    const tensor = (elem: number, dims?: number[]) => {
      const t = new Writer().int(1, elem);
      if (dims) t.message(2, dims.reduce((s, d) => s.message(1, new Writer().int(1, d)), new Writer()));
      return new Writer().message(1, t);
    };
    const value = (name: string, type?: Writer) => {
      const v = new Writer().string(1, name);
      return type ? v.message(2, type) : v;
    };
    const graph = new Writer()
      .string(2, "g")
      .message(11, value("unknown_rank", tensor(1)))
      .message(11, value("seq", new Writer().message(4, new Writer().message(1, tensor(10, [3])))))
      .message(11, value("map", new Writer().message(5, new Writer().int(1, 7).message(2, tensor(1, [])))))
      .message(11, value("opt", new Writer().message(9, new Writer().message(1, tensor(16, [2])))))
      .message(12, value("untyped"))
      .message(12, value("complex", tensor(14, [1])));
    const model = new Writer().int(1, 9).message(7, graph).message(8, new Writer().int(2, 21)).finish();
    const sig = readOnnxSignature(model);
    expect(sig.inputs).toEqual([
      { name: "unknown_rank", dtype: "FLOAT", datatype: "FP32", shape: null },
      { name: "seq", dtype: "FLOAT16", datatype: "FP16", shape: [3], kind: "sequence<tensor>" },
      { name: "map", dtype: "FLOAT", datatype: "FP32", shape: [], kind: "map<INT64,tensor>" },
      { name: "opt", dtype: "BFLOAT16", datatype: "BF16", shape: [2], kind: "optional<tensor>" },
    ]);
    expect(sig.outputs).toEqual([
      { name: "untyped", dtype: "UNDEFINED", datatype: null, shape: null, kind: "unknown" },
      { name: "complex", dtype: "COMPLEX64", datatype: null, shape: [1] },
    ]);
    expect(sig.opset).toBe(21);
  });

  it("says clearly when a file is not ONNX or is cut short", () => {
    const lr = fixture("logistic-regression.onnx");
    const cases: [Uint8Array, RegExp][] = [
      [new Uint8Array(0), /empty/],
      [new TextEncoder().encode("this is not a model"), /Not a valid ONNX model/],
      [new TextEncoder().encode("PK\u0003\u0004 a zip file"), /Not a valid ONNX model/],
      [new Writer().int(1, 8).finish(), /no graph/],
      [new Writer().message(7, new Writer().string(2, "g")).finish(), /no IR version/],
      [lr.subarray(0, lr.length - 7), /truncated|claims/],
      [lr.subarray(0, 40), /truncated|claims/],
    ];
    for (const [bytes, msg] of cases) {
      expect(() => readOnnxSignature(bytes)).toThrow(OnnxFormatError);
      expect(() => readOnnxSignature(bytes)).toThrow(msg);
    }
  });

  it("never throws anything but OnnxFormatError on random bytes, truncations or corruptions of a real model", () => {
    const models = [fixture("logistic-regression.onnx"), fixture("kitchen-sink.onnx"), fixture("torch-two-inputs.onnx")];
    const check = (bytes: Uint8Array) => {
      try {
        readOnnxSignature(bytes);
      } catch (err) {
        if (!(err instanceof OnnxFormatError)) throw err;
      }
    };
    fc.assert(fc.property(fc.uint8Array({ maxLength: 512 }), check), { numRuns: 2000 });
    fc.assert(
      fc.property(fc.constantFrom(...models), fc.nat(), (m, cut) => check(m.subarray(0, cut % (m.length + 1)))),
      { numRuns: 1000 },
    );
    fc.assert(
      fc.property(fc.constantFrom(...models), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }), (m, edits) => {
        const b = Uint8Array.from(m);
        for (const [at, v] of edits) b[at % b.length] = v;
        check(b);
      }),
      { numRuns: 2000 },
    );
  });
});

describe("encodeOnnxModel", () => {
  it("writes nodes with attributes, int64 and float initializers, and reads back what it wrote", () => {
    const bytes = encodeOnnxModel({
      producerName: "test",
      opsetImports: [{ domain: "", version: 17 }],
      graph: {
        name: "g",
        nodes: [
          { opType: "Gemm", inputs: ["a", "B"], outputs: ["c"], attributes: { transB: { i: 1 }, alpha: { f: 0.5 }, note: { s: "x" }, pads: { ints: [0, -1] }, scales: { floats: [1, 2] } } },
        ],
        initializers: [
          { name: "B", dtype: "FLOAT", dims: [2, 2], data: new Float32Array([1, 2, 3, 4]) },
          { name: "idx", dtype: "INT64", dims: [3], data: [1n, -2n, 2n ** 40n] },
        ],
        inputs: [
          { name: "a", dtype: "FLOAT", shape: ["n", 2] },
          { name: "B", dtype: "FLOAT", shape: [2, 2] },
        ],
        outputs: [{ name: "c", dtype: "FLOAT", shape: ["n", 2] }],
      },
    });
    const sig = readOnnxSignature(bytes);
    // B is an initializer: a weight, not an input.
    expect(sig.inputs.map((i) => i.name)).toEqual(["a"]);
    expect(sig).toMatchObject({ ir_version: 8, opset: 17, producer: { name: "test", version: "" } });

    // The int64 initializer's raw_data is little-endian two's complement.
    const model = new Reader(bytes);
    let graph: Reader | undefined;
    while (!model.done()) {
      const f = model.next();
      if (f.field === 7) graph = model.sub(f);
    }
    const raws: Uint8Array[] = [];
    while (graph && !graph.done()) {
      const f = graph.next();
      if (f.field !== 5) continue;
      const t = graph.sub(f);
      while (!t.done()) {
        const g = t.next();
        if (g.field === 9) raws.push(t.bytes(g));
      }
    }
    const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.length);
    expect([0, 1, 2, 3].map((i) => view(raws[0]).getFloat32(i * 4, true))).toEqual([1, 2, 3, 4]);
    expect([0, 1, 2].map((i) => view(raws[1]).getBigInt64(i * 8, true))).toEqual([1n, -2n, 2n ** 40n]);
  });

  it("refuses data that does not match the dims", () => {
    expect(() =>
      encodeOnnxModel({ graph: { name: "g", nodes: [], initializers: [{ name: "w", dtype: "FLOAT", dims: [2, 2], data: [1, 2, 3] }], inputs: [], outputs: [] } }),
    ).toThrow(/4 values\) but 3/);
    expect(() => logisticRegressionModel({ weights: [[1, 2], [3]], bias: [0, 0] })).toThrow(/weights/);
  });
});

describe("readOnnxSignatureFrom (random access)", () => {
  /** A model with `mb` MiB of weights before its inputs, as protobuf serializers order the graph's fields. */
  function bigModel(mb: number): Uint8Array {
    const n = (mb * 1024 * 1024) / 4;
    return encodeOnnxModel({
      graph: {
        name: "big",
        nodes: [{ opType: "MatMul", inputs: ["x", "W"], outputs: ["y"] }],
        initializers: [
          { name: "W", dtype: "FLOAT", dims: [n / 16, 16], data: new Float32Array(n) },
          { name: "W2", dtype: "FLOAT", dims: [n], data: new Float32Array(n) },
        ],
        inputs: [
          { name: "x", dtype: "FLOAT", shape: ["batch", n / 16] },
          { name: "W", dtype: "FLOAT", shape: [n / 16, 16] },
        ],
        outputs: [{ name: "y", dtype: "FLOAT", shape: ["batch", 16] }],
      },
    });
  }

  function source(bytes: Uint8Array) {
    const reads: [number, number][] = [];
    const s: ByteSource = {
      size: bytes.length,
      read: async (offset, length) => {
        reads.push([offset, length]);
        return bytes.slice(offset, offset + length);
      },
    };
    return { s, reads, total: () => reads.reduce((a, [, l]) => a + l, 0) };
  }

  it("reads a 24 MiB model's signature fetching a few kB, never its weights", async () => {
    const bytes = bigModel(12);
    const src = source(bytes);
    const sig = await readOnnxSignatureFrom(src.s);
    expect(sig).toEqual(readOnnxSignature(bytes));
    expect(sig.inputs.map((i) => i.name)).toEqual(["x"]);
    expect(src.total()).toBeLessThan(256 * 1024);
  });

  it("reads small files in one request, and stops at the read budget or a short read with OnnxFormatError", async () => {
    const small = fixture("kitchen-sink.onnx");
    const one = source(small);
    await readOnnxSignatureFrom(one.s);
    expect(one.reads).toEqual([[0, small.length]]);

    const big = bigModel(12);
    await expect(readOnnxSignatureFrom(source(big).s, { maxBytesRead: 1000 })).rejects.toThrow(/more than 1000 bytes/);
    const short: ByteSource = { size: big.length, read: async (o, l) => big.slice(o, Math.min(o + l, big.length - 10, 20_000)) };
    await expect(readOnnxSignatureFrom(short)).rejects.toThrow(OnnxFormatError);
    await expect(readOnnxSignatureFrom({ size: 0, read: async () => new Uint8Array(0) })).rejects.toThrow(/empty/);
    await expect(readOnnxSignatureFrom({ size: 2 ** 32, read: async () => new Uint8Array(0) })).rejects.toThrow(/2 GiB/);
  });
});

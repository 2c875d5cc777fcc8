/** Tensor helpers: rows concatenated and split back (what the batcher relies on), FP16, CSV, lenient JSON. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseCsv } from "../../src/serving/csv.js";
import { fromHalfBits, toHalfBits } from "../../src/serving/fp16.js";
import { nestedJson, parseJsonLenient } from "../../src/serving/json-tensor.js";
import { batchKey, concatRows, elementCount, splitRows, type Tensor } from "../../src/serving/tensor.js";

const f32 = (name: string, shape: number[], values: number[]): Tensor => ({ name, datatype: "FP32", shape, data: Float32Array.from(values) });

describe("concatRows / splitRows", () => {
  it("concatenates each input along dim 0 (inputs matched by name) and splits outputs back by rows", () => {
    const r1 = [f32("a", [1, 2], [1, 2]), { name: "s", datatype: "BYTES", shape: [1], data: ["x"] } as Tensor];
    const r2 = [{ name: "s", datatype: "BYTES", shape: [2], data: ["y", "z"] } as Tensor, f32("a", [2, 2], [3, 4, 5, 6])];
    const batch = concatRows([r1, r2]);
    expect(batch.map((t) => t.name)).toEqual(["a", "s"]);
    expect(batch[0].shape).toEqual([3, 2]);
    expect(Array.from(batch[0].data as Float32Array)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(batch[1]).toEqual({ name: "s", datatype: "BYTES", shape: [3], data: ["x", "y", "z"] });

    const out = { name: "o", datatype: "INT64", shape: [3, 1], data: BigInt64Array.from([10n, 20n, 30n]) } as Tensor;
    const [o1, o2] = splitRows([out], [1, 2]);
    expect(o1[0].shape).toEqual([1, 1]);
    expect(Array.from(o1[0].data as BigInt64Array)).toEqual([10n]);
    expect(o2[0].shape).toEqual([2, 1]);
    expect(Array.from(o2[0].data as BigInt64Array)).toEqual([20n, 30n]);
  });

  it("one request passes through; requests with zero rows are kept", () => {
    const r = [f32("a", [2, 1], [1, 2])];
    expect(concatRows([r])).toEqual(r);
    const [a, b, c] = splitRows([f32("o", [2, 1], [7, 8])], [0, 2, 0]);
    expect(a[0].shape).toEqual([0, 1]);
    expect(Array.from(b[0].data as Float32Array)).toEqual([7, 8]);
    expect(c[0].data.length).toBe(0);
  });

  it("refuses what cannot be batched or split", () => {
    expect(() => concatRows([[f32("a", [1, 2], [1, 2])], [f32("a", [1, 3], [1, 2, 3])]])).toThrow(/differ after dim 0/);
    expect(() => concatRows([[f32("a", [1], [1])], [{ name: "a", datatype: "FP64", shape: [1], data: Float64Array.from([1]) }]])).toThrow(/FP64 and FP32/);
    expect(() => concatRows([[f32("a", [1], [1])], [f32("b", [1], [1])]])).toThrow(/lacks input 'a'/);
    expect(() => splitRows([f32("o", [2], [1, 2])], [1, 2])).toThrow(/not the batch's 3 rows/);
    expect(batchKey([f32("a", [1, 2], [1, 2])])).toBe(batchKey([f32("a", [5, 2], Array(10).fill(0))]));
    expect(batchKey([f32("a", [1, 2], [1, 2])])).not.toBe(batchKey([f32("a", [1, 3], [1, 2, 3])]));
  });

  it("property: split(concat(requests)) gives each request its own rows back", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 8 }), fc.integer({ min: 1, max: 4 }), (rows, width) => {
        let next = 0;
        const requests = rows.map((n) => [f32("x", [n, width], Array.from({ length: n * width }, () => next++))]);
        const batch = concatRows(requests);
        const parts = splitRows(batch, rows);
        parts.forEach((p, i) => {
          expect(p[0].shape).toEqual(requests[i][0].shape);
          expect(Array.from(p[0].data as Float32Array)).toEqual(Array.from(requests[i][0].data as Float32Array));
        });
      }),
    );
  });

  it("element counts stop at 2^53 instead of losing precision", () => {
    expect(elementCount([])).toBe(1);
    expect(elementCount([2, 3, 0])).toBe(0);
    expect(elementCount(Array(100).fill(1e6))).toBe(Number.POSITIVE_INFINITY);
  });
});

describe("FP16", () => {
  it("round-trips every half value and rounds to nearest even", () => {
    for (let bits = 0; bits < 0x10000; bits++) {
      const v = fromHalfBits(bits);
      if (Number.isNaN(v)) expect(Number.isNaN(fromHalfBits(toHalfBits(v)))).toBe(true);
      else expect(toHalfBits(v), `bits ${bits}`).toBe(bits);
    }
    expect(toHalfBits(65520)).toBe(0x7c00); // rounds up to Infinity
    expect(fromHalfBits(toHalfBits(1 + 2 ** -11))).toBe(1); // tie to even
    expect(fromHalfBits(toHalfBits(1e-8))).toBe(0);
  });
});

describe("CSV and JSON text", () => {
  it("parses quoting, CRLF, blank lines and a row of one empty quoted value", () => {
    expect(parseCsv('a,"b, c"\r\n1,"say ""hi"""\n\n"",x\n')).toEqual({ columns: ["a", "b, c"], rows: [["1", 'say "hi"'], ["", "x"]] });
    expect(parseCsv('t\n""\nz')).toEqual({ columns: ["t"], rows: [[""], ["z"]] });
    expect(() => parseCsv('a\n"open')).toThrow(/not closed/);
    expect(() => parseCsv("")).toThrow(/empty/);
  });

  it("accepts Python's bare NaN/Infinity outside strings only", () => {
    expect(parseJsonLenient('{"a":[NaN,-Infinity,Infinity],"s":"NaN Infinity"}')).toEqual({ a: ["NaN", "-Infinity", "Infinity"], s: "NaN Infinity" });
    expect(parseJsonLenient('{"s":"a\\"NaN"}')).toEqual({ s: 'a"NaN' });
    expect(() => parseJsonLenient("{nope")).toThrow();
  });

  it("nests output values by shape", () => {
    expect(nestedJson(f32("o", [2, 2], [1, 2, 3, Number.NaN]))).toBe('[[1,2],[3,"NaN"]]');
    expect(nestedJson(f32("o", [], [4]))).toBe("4");
    expect(nestedJson({ name: "b", datatype: "BOOL", shape: [2, 0], data: new Uint8Array(0) })).toBe("[[],[]]");
  });
});

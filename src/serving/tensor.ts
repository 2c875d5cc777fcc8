/**
 * Tensors as serving handles them: an Open Inference Protocol v2 datatype, a shape and row-major data in
 * the typed array that datatype maps to. Conversions to and from onnxruntime tensors, and the row
 * operations the dynamic batcher needs (concatenate requests along dim 0, split the batch's outputs back).
 */
import type * as Ort from "onnxruntime-node";

export const DATATYPES = ["BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64", "FP16", "FP32", "FP64", "BYTES"] as const;
export type Datatype = (typeof DATATYPES)[number];

/** BYTES elements: text from JSON, raw bytes from the binary extension (both are UTF-8 strings to onnxruntime). */
export type BytesData = (string | Uint8Array)[];
export type NumericData = Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array | Float32Array | Float64Array;
export type BigIntData = BigInt64Array | BigUint64Array;
/**
 * BOOL is a Uint8Array of 0/1; FP16 is a Uint16Array of half-precision bit patterns (Node 20 has no
 * Float16Array); INT64/UINT64 are BigInt arrays.
 */
export type TensorData = NumericData | BigIntData | BytesData;

export interface Tensor {
  name: string;
  datatype: Datatype;
  /** Row-major dimensions; dim 0 is the batch (row) dimension for the row helpers below. */
  shape: number[];
  data: TensorData;
}

type OrtType = Ort.Tensor.Type;

interface DatatypeInfo {
  /** Bytes per element in the binary extension; 0 for BYTES (length-prefixed, variable). */
  bytes: number;
  ort: OrtType;
  make(n: number): TensorData;
}

export const DATATYPE_INFO: Record<Datatype, DatatypeInfo> = {
  BOOL: { bytes: 1, ort: "bool", make: (n) => new Uint8Array(n) },
  UINT8: { bytes: 1, ort: "uint8", make: (n) => new Uint8Array(n) },
  UINT16: { bytes: 2, ort: "uint16", make: (n) => new Uint16Array(n) },
  UINT32: { bytes: 4, ort: "uint32", make: (n) => new Uint32Array(n) },
  UINT64: { bytes: 8, ort: "uint64", make: (n) => new BigUint64Array(n) },
  INT8: { bytes: 1, ort: "int8", make: (n) => new Int8Array(n) },
  INT16: { bytes: 2, ort: "int16", make: (n) => new Int16Array(n) },
  INT32: { bytes: 4, ort: "int32", make: (n) => new Int32Array(n) },
  INT64: { bytes: 8, ort: "int64", make: (n) => new BigInt64Array(n) },
  FP16: { bytes: 2, ort: "float16", make: (n) => new Uint16Array(n) },
  FP32: { bytes: 4, ort: "float32", make: (n) => new Float32Array(n) },
  FP64: { bytes: 8, ort: "float64", make: (n) => new Float64Array(n) },
  BYTES: { bytes: 0, ort: "string", make: (n) => new Array<string>(n).fill("") },
};

const BY_ORT = new Map<string, Datatype>(DATATYPES.map((d) => [DATATYPE_INFO[d].ort, d]));

export function isDatatype(value: unknown): value is Datatype {
  return typeof value === "string" && Object.hasOwn(DATATYPE_INFO, value);
}

/** The OIP datatype of an onnxruntime type name, or undefined (int4, uint4, …: not servable over OIP). */
export function datatypeOfOrt(type: string): Datatype | undefined {
  return BY_ORT.get(type);
}

/** Elements a shape holds; Infinity when the product is past 2^53 (no real tensor is). */
export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    n *= d;
    if (n > Number.MAX_SAFE_INTEGER) return Number.POSITIVE_INFINITY;
  }
  return n;
}

export function allocate(datatype: Datatype, n: number): TensorData {
  return DATATYPE_INFO[datatype].make(n);
}

/** True for the datatypes whose data is a BigInt array. */
export const isBigIntType = (d: Datatype): boolean => d === "INT64" || d === "UINT64";

/**
 * `n` elements of a fixed-size datatype from little-endian bytes (the binary extension's layout), copied
 * into a fresh, aligned array: a view into the request body could be misaligned and would pin the body.
 * BOOL bytes are normalized to 0/1. Every platform onnxruntime-node ships for is little-endian.
 */
export function fromLittleEndian(datatype: Datatype, bytes: Uint8Array, n: number): TensorData {
  const out = allocate(datatype, n) as NumericData | BigIntData;
  const size = DATATYPE_INFO[datatype].bytes;
  new Uint8Array(out.buffer, out.byteOffset, n * size).set(bytes.subarray(0, n * size));
  if (datatype === "BOOL") for (let i = 0; i < n; i++) if (out[i] as number) out[i] = 1;
  return out;
}

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

export const bytesOf = (v: string | Uint8Array): Uint8Array => (typeof v === "string" ? utf8.encode(v) : v);
export const textOf = (v: string | Uint8Array): string => (typeof v === "string" ? v : utf8Decoder.decode(v));

/**
 * A tensor's data as the binary extension lays it out: a view of a typed array's bytes (no copy), or for
 * BYTES each element as a 4-byte little-endian length followed by its bytes.
 */
export function toLittleEndian(t: Tensor): Uint8Array {
  if (t.datatype !== "BYTES") {
    const a = t.data as NumericData | BigIntData;
    return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  }
  const parts = (t.data as BytesData).map(bytesOf);
  let size = 0;
  for (const p of parts) size += 4 + p.length;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let pos = 0;
  for (const p of parts) {
    view.setUint32(pos, p.length, true);
    out.set(p, pos + 4);
    pos += 4 + p.length;
  }
  return out;
}

/** onnxruntime-node's module, loaded by ort.ts; passed in so this file never loads it. */
export type OrtModule = typeof Ort;

export function toOrtTensor(ort: OrtModule, t: Tensor): Ort.Tensor {
  const type = DATATYPE_INFO[t.datatype].ort;
  if (t.datatype === "BYTES") return new ort.Tensor("string", (t.data as BytesData).map(textOf), t.shape);
  return new ort.Tensor(type as "float32", t.data as Float32Array, t.shape);
}

export function fromOrtTensor(name: string, v: Ort.Tensor): Tensor {
  const datatype = datatypeOfOrt(v.type);
  if (!datatype) throw new Error(`Output '${name}' has element type ${v.type}, which the Open Inference Protocol cannot carry.`);
  let data = v.data as TensorData;
  // A runtime with Float16Array would hand numbers back; keep FP16 as bits everywhere.
  if (datatype === "FP16" && !(data instanceof Uint16Array)) {
    const a = data as unknown as { buffer: ArrayBufferLike; byteOffset: number; length: number };
    data = new Uint16Array(a.buffer, a.byteOffset, a.length);
  }
  return { name, datatype, shape: Array.from(v.dims), data };
}

// ---- Rows: what the dynamic batcher needs ---------------------------------------------------------

/** Rows (dim 0) of a tensor; a scalar has none and cannot be batched. */
export function rowCount(t: Tensor): number {
  if (t.shape.length === 0) throw new Error(`Tensor '${t.name}' is a scalar: it has no rows to batch.`);
  return t.shape[0];
}

/**
 * Requests with equal keys can be concatenated along dim 0: same input names in the same order, same
 * datatypes, same dims after the first.
 */
export function batchKey(tensors: readonly Tensor[]): string {
  let key = "";
  for (const t of tensors) key += `${t.name}\u0000${t.datatype}\u0000${t.shape.slice(1).join(",")}\u0001`;
  return key;
}

/**
 * One batch from several requests' inputs: each input concatenated along dim 0, in the order of the first
 * request's inputs (others are matched by name). Throws when the requests do not share a batchKey (after
 * ordering by name).
 */
export function concatRows(requests: readonly (readonly Tensor[])[]): Tensor[] {
  if (requests.length === 0) throw new Error("concatRows needs at least one request.");
  if (requests.length === 1) return requests[0].slice();
  const first = requests[0];
  return first.map((proto, i) => {
    const parts = requests.map((r) => {
      const t = r[i]?.name === proto.name ? r[i] : r.find((x) => x.name === proto.name);
      if (!t) throw new Error(`Cannot batch: a request lacks input '${proto.name}'.`);
      if (t.datatype !== proto.datatype) throw new Error(`Cannot batch input '${proto.name}': ${t.datatype} and ${proto.datatype}.`);
      if (t.shape.length !== proto.shape.length || t.shape.some((d, k) => k > 0 && d !== proto.shape[k])) {
        throw new Error(`Cannot batch input '${proto.name}': shapes [${t.shape}] and [${proto.shape}] differ after dim 0.`);
      }
      rowCount(t);
      return t;
    });
    let rows = 0;
    for (const p of parts) rows += p.shape[0];
    const shape = [rows, ...proto.shape.slice(1)];
    if (proto.datatype === "BYTES") {
      const data: BytesData = [];
      for (const p of parts) for (const v of p.data as BytesData) data.push(v);
      return { name: proto.name, datatype: proto.datatype, shape, data };
    }
    let total = 0;
    for (const p of parts) total += (p.data as NumericData).length;
    const out = allocate(proto.datatype, total) as NumericData;
    let pos = 0;
    for (const p of parts) {
      const d = p.data as NumericData;
      (out as Float32Array).set(d as Float32Array, pos);
      pos += d.length;
    }
    return { name: proto.name, datatype: proto.datatype, shape, data: out };
  });
}

/**
 * The batch's outputs split back into one list per request, by the rows each request brought. Each
 * output's dim 0 must be the batch's total rows. Typed-array parts are views of the batch's arrays.
 */
export function splitRows(outputs: readonly Tensor[], rowCounts: readonly number[]): Tensor[][] {
  let total = 0;
  for (const r of rowCounts) total += r;
  const result: Tensor[][] = rowCounts.map(() => []);
  for (const o of outputs) {
    if (o.shape.length === 0 || o.shape[0] !== total) {
      throw new Error(`Cannot split output '${o.name}' (shape [${o.shape}]) into requests: its dim 0 is not the batch's ${total} rows.`);
    }
    const rowSize = total === 0 ? 0 : o.data.length / total;
    let row = 0;
    rowCounts.forEach((rows, i) => {
      const from = row * rowSize;
      const to = (row + rows) * rowSize;
      const data = o.datatype === "BYTES" ? (o.data as BytesData).slice(from, to) : (o.data as NumericData).subarray(from, to);
      result[i].push({ name: o.name, datatype: o.datatype, shape: [rows, ...o.shape.slice(1)], data });
      row += rows;
    });
  }
  return result;
}

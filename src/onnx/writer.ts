/**
 * Writes ONNX models: the subset of ModelProto a small model needs (a graph of nodes with attributes,
 * initializers as raw_data, typed and shaped inputs and outputs, opset imports). Enough for `keel
 * quickstart` to save a model it trained in TypeScript, and for tests to make real .onnx files.
 * Fields are written in field-number order, as protobuf's own serializers do.
 */
import { dataTypeByName } from "./dtypes.js";
import { Writer } from "./protobuf.js";
import type { Dim } from "./signature.js";

/** Element types a tensor can be written with (as raw_data, little-endian). */
export type WritableDtype = "FLOAT" | "DOUBLE" | "INT64" | "INT32" | "INT8" | "UINT8" | "BOOL";

export interface OnnxTensorInit {
  name: string;
  dtype: WritableDtype;
  dims: number[];
  /** Row-major values; as many as the dims' product. */
  data: ArrayLike<number> | ArrayLike<bigint>;
}

export interface OnnxValueInit {
  name: string;
  /** Any ONNX element type name (FLOAT, INT64, STRING, …). */
  dtype: string;
  /** Null or absent: unknown rank. Numbers are fixed sizes, strings symbolic (dim_param), null unknown. */
  shape?: Dim[] | null;
}

export type OnnxAttribute = { f: number } | { i: number | bigint } | { s: string } | { floats: number[] } | { ints: (number | bigint)[] } | { t: OnnxTensorInit };

export interface OnnxNodeInit {
  opType: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  domain?: string;
  attributes?: Record<string, OnnxAttribute>;
}

export interface OnnxModelInit {
  /** Defaults to 8 (ONNX 1.10–1.12 read it; newer runtimes read every older IR). */
  irVersion?: number;
  /** Defaults to the default domain at opset 13. */
  opsetImports?: { domain: string; version: number }[];
  producerName?: string;
  producerVersion?: string;
  docString?: string;
  graph: {
    name: string;
    nodes: OnnxNodeInit[];
    initializers?: OnnxTensorInit[];
    inputs: OnnxValueInit[];
    outputs: OnnxValueInit[];
    docString?: string;
  };
}

// AttributeProto.AttributeType
const ATTR = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7 } as const;

function elemType(name: string): number {
  const dt = dataTypeByName(name);
  if (!dt) throw new Error(`Unknown ONNX element type '${name}'.`);
  return dt.code;
}

/** TensorProto { dims = 1; data_type = 2; name = 8; raw_data = 9 } */
export function encodeTensor(t: OnnxTensorInit): Writer {
  const count = t.dims.reduce((a, b) => a * b, 1);
  if (t.data.length !== count) throw new Error(`Tensor '${t.name}' has dims [${t.dims.join(", ")}] (${count} values) but ${t.data.length} values were given.`);
  const size = dataTypeByName(t.dtype)?.bytes ?? 0;
  const raw = new Uint8Array(count * size);
  const view = new DataView(raw.buffer);
  for (let i = 0; i < count; i++) {
    const v = t.data[i];
    switch (t.dtype) {
      case "FLOAT":
        view.setFloat32(i * 4, Number(v), true);
        break;
      case "DOUBLE":
        view.setFloat64(i * 8, Number(v), true);
        break;
      case "INT64":
        view.setBigInt64(i * 8, BigInt(v), true);
        break;
      case "INT32":
        view.setInt32(i * 4, Number(v), true);
        break;
      case "INT8":
        view.setInt8(i, Number(v));
        break;
      case "UINT8":
        view.setUint8(i, Number(v));
        break;
      case "BOOL":
        view.setUint8(i, Number(v) ? 1 : 0);
        break;
    }
  }
  const w = new Writer();
  for (const d of t.dims) w.int(1, d);
  w.int(2, elemType(t.dtype));
  w.string(8, t.name);
  w.bytes(9, raw);
  return w;
}

/** ValueInfoProto { name = 1; type = 2: TypeProto { tensor_type = 1: { elem_type = 1; shape = 2 } } } */
function encodeValueInfo(v: OnnxValueInit): Writer {
  const tensor = new Writer().int(1, elemType(v.dtype));
  if (v.shape) {
    const shape = new Writer();
    for (const d of v.shape) {
      const dim = new Writer();
      if (typeof d === "number") dim.int(1, d);
      else if (typeof d === "string") dim.string(2, d);
      shape.message(1, dim);
    }
    tensor.message(2, shape);
  }
  return new Writer().string(1, v.name).message(2, new Writer().message(1, tensor));
}

/** AttributeProto { name = 1; f = 2; i = 3; s = 4; t = 5; floats = 7; ints = 8; type = 20 } */
function encodeAttribute(name: string, a: OnnxAttribute): Writer {
  const w = new Writer().string(1, name);
  if ("f" in a) return w.float(2, a.f).int(20, ATTR.FLOAT);
  if ("i" in a) return w.int(3, a.i).int(20, ATTR.INT);
  if ("s" in a) return w.string(4, a.s).int(20, ATTR.STRING);
  if ("t" in a) return w.message(5, encodeTensor(a.t)).int(20, ATTR.TENSOR);
  if ("floats" in a) {
    for (const f of a.floats) w.float(7, f);
    return w.int(20, ATTR.FLOATS);
  }
  for (const i of a.ints) w.int(8, i);
  return w.int(20, ATTR.INTS);
}

/** NodeProto { input = 1; output = 2; name = 3; op_type = 4; attribute = 5; domain = 7 } */
function encodeNode(n: OnnxNodeInit): Writer {
  const w = new Writer();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  if (n.name) w.string(3, n.name);
  w.string(4, n.opType);
  for (const [name, a] of Object.entries(n.attributes ?? {})) w.message(5, encodeAttribute(name, a));
  if (n.domain) w.string(7, n.domain);
  return w;
}

/** The model as the bytes of an .onnx file. */
export function encodeOnnxModel(m: OnnxModelInit): Uint8Array {
  const g = new Writer();
  for (const n of m.graph.nodes) g.message(1, encodeNode(n));
  g.string(2, m.graph.name);
  for (const t of m.graph.initializers ?? []) g.message(5, encodeTensor(t));
  if (m.graph.docString) g.string(10, m.graph.docString);
  for (const v of m.graph.inputs) g.message(11, encodeValueInfo(v));
  for (const v of m.graph.outputs) g.message(12, encodeValueInfo(v));

  const w = new Writer().int(1, m.irVersion ?? 8);
  if (m.producerName) w.string(2, m.producerName);
  if (m.producerVersion) w.string(3, m.producerVersion);
  if (m.docString) w.string(6, m.docString);
  w.message(7, g);
  for (const o of m.opsetImports ?? [{ domain: "", version: 13 }]) {
    const op = new Writer();
    if (o.domain) op.string(1, o.domain);
    w.message(8, op.int(2, o.version));
  }
  return w.finish();
}

/**
 * A logistic regression as ONNX: probability = Sigmoid(MatMul(x, W) + b), with `x` of shape
 * [batch, features] (FLOAT) and `probability` of shape [batch, classes]. `weights` is [features][classes].
 */
export function logisticRegressionModel(opts: {
  weights: number[][];
  bias: number[];
  inputName?: string;
  outputName?: string;
  producerVersion?: string;
}): Uint8Array {
  const features = opts.weights.length;
  const classes = opts.bias.length;
  if (!features || opts.weights.some((row) => row.length !== classes)) throw new Error(`weights must be [features][${classes}] to match the bias.`);
  const x = opts.inputName ?? "x";
  const y = opts.outputName ?? "probability";
  return encodeOnnxModel({
    producerName: "keel",
    producerVersion: opts.producerVersion ?? "",
    graph: {
      name: "logistic_regression",
      nodes: [
        { opType: "MatMul", inputs: [x, "W"], outputs: ["xW"], name: "matmul" },
        { opType: "Add", inputs: ["xW", "b"], outputs: ["logits"], name: "add" },
        { opType: "Sigmoid", inputs: ["logits"], outputs: [y], name: "sigmoid" },
      ],
      initializers: [
        { name: "W", dtype: "FLOAT", dims: [features, classes], data: opts.weights.flat() },
        { name: "b", dtype: "FLOAT", dims: [classes], data: opts.bias },
      ],
      inputs: [{ name: x, dtype: "FLOAT", shape: ["batch", features] }],
      outputs: [{ name: y, dtype: "FLOAT", shape: ["batch", classes] }],
    },
  });
}

/**
 * An ONNX model's signature read from the file itself: the graph's inputs and outputs (names, element
 * types, shapes), its IR version, opsets and producer. Only the bytes that hold these are read: a reader
 * given random access (readOnnxSignatureFrom) steps over nodes and initializer data without fetching
 * them, so a 2 GB model costs a few small reads. Graph inputs that are also initializers are weights, not
 * inputs, and are left out (older exporters list every weight as an input).
 *
 * One parser serves both entry points: it is a generator that yields the byte ranges it needs and is fed
 * them, by a loop over an in-memory buffer or over an async source.
 */
import { dataTypeByCode } from "./dtypes.js";
import { decodeTag, decodeVarint, expectWire, ProtobufError, Reader, WIRE } from "./protobuf.js";

/** A dimension: a fixed size, a symbolic name (dim_param, e.g. "batch"), or null when neither is set. */
export type Dim = number | string | null;

export interface OnnxValue {
  name: string;
  /** ONNX element type name (FLOAT, INT64, …); UNDEFINED when the file does not say. */
  dtype: string;
  /** The Open Inference Protocol v2 datatype (FP32, INT64, …), or null where OIP has none. */
  datatype: string | null;
  /** Null when the rank is unknown (no shape in the file); [] for a scalar. */
  shape: Dim[] | null;
  /** Only for values that are not plain tensors: e.g. "sequence<tensor>", "map<INT64,tensor>", "sparse_tensor". */
  kind?: string;
}

export interface OnnxSignature {
  ir_version: number;
  /** The opset of the default (ai.onnx) domain, or null when the model imports none. */
  opset: number | null;
  opset_imports: { domain: string; version: number }[];
  producer: { name: string; version: string };
  inputs: OnnxValue[];
  outputs: OnnxValue[];
}

/** The one error a reader throws: the bytes are not an ONNX model (or not a whole one). */
export class OnnxFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "OnnxFormatError";
  }
}

export const ONNX_LIMITS = {
  /** Protobuf messages cannot exceed 2 GiB; larger models keep weights in external data files. */
  maxFileBytes: 2 ** 31,
  /** Inputs or outputs in one graph. */
  maxValues: 10_000,
  /** One ValueInfoProto, opset import or string field read whole. */
  maxFieldBytes: 1024 * 1024,
  /** Nesting of sequence/optional/map types. */
  maxTypeDepth: 16,
  /** Bytes an async read may fetch in all (nodes are stepped over in blocks; weights are skipped). */
  maxBytesRead: 64 * 1024 * 1024,
  /** Files up to this size are read whole in one request. */
  wholeFileBytes: 8 * 1024 * 1024,
} as const;

interface Need {
  offset: number;
  length: number;
}
type Parse<T> = Generator<Need, T, Uint8Array>;

function* need(offset: number, length: number): Parse<Uint8Array> {
  return yield { offset, length };
}

interface Header {
  field: number;
  wire: number;
  /** Varint value (wire type 0); payload length (LEN). */
  value: number;
  /** Payload range (LEN). */
  start: number;
  end: number;
  /** Where the next field begins. */
  next: number;
}

/** The field starting at `pos` of a message ending at `end`, reading only its tag and length (≤ 15 bytes). */
function* header(pos: number, end: number): Parse<Header> {
  const n = Math.min(15, end - pos);
  const buf = yield* need(pos, n);
  const h = decodeTag(buf, 0, n);
  let p = h.size;
  switch (h.wire) {
    case WIRE.VARINT: {
      const [v, m] = decodeVarint(buf, p, n);
      return { field: h.field, wire: h.wire, value: v, start: pos + p, end: pos + p + m, next: pos + p + m };
    }
    case WIRE.FIXED32:
    case WIRE.FIXED64: {
      const size = h.wire === WIRE.FIXED32 ? 4 : 8;
      if (pos + p + size > end) throw new ProtobufError(`truncated fixed-width field ${h.field} at byte ${pos}`);
      return { field: h.field, wire: h.wire, value: 0, start: pos + p, end: pos + p + size, next: pos + p + size };
    }
    default: {
      const [len, m] = decodeVarint(buf, p, n);
      p += m;
      if (len < 0 || pos + p + len > end) throw new ProtobufError(`field ${h.field} at byte ${pos} claims ${len} bytes; only ${end - pos - p} remain`);
      return { field: h.field, wire: h.wire, value: len, start: pos + p, end: pos + p + len, next: pos + p + len };
    }
  }
}

function* payload(h: Header, what: string): Parse<Reader> {
  expectWire(h, WIRE.LEN);
  if (h.value > ONNX_LIMITS.maxFieldBytes) throw new OnnxFormatError(`Not a usable ONNX model: its ${what} is ${h.value} bytes (limit ${ONNX_LIMITS.maxFieldBytes}).`);
  const buf = yield* need(h.start, h.value);
  return new Reader(buf);
}

function* parseModel(size: number): Parse<OnnxSignature> {
  let irVersion: number | undefined;
  let sawGraph = false;
  const producer = { name: "", version: "" };
  const opsets: { domain: string; version: number }[] = [];
  const graph: GraphParts = { inputs: [], outputs: [], initializers: new Set() };
  for (let pos = 0; pos < size; ) {
    const h = yield* header(pos, size);
    pos = h.next;
    switch (h.field) {
      case 1:
        expectWire(h, WIRE.VARINT);
        irVersion = h.value;
        break;
      case 2:
        producer.name = text(yield* payload(h, "producer name"));
        break;
      case 3:
        producer.version = text(yield* payload(h, "producer version"));
        break;
      case 7:
        expectWire(h, WIRE.LEN);
        sawGraph = true;
        yield* parseGraph(h.start, h.end, graph);
        break;
      case 8:
        opsets.push(parseOpset(yield* payload(h, "opset import")));
        break;
    }
  }
  if (!sawGraph) throw new OnnxFormatError("Not an ONNX model: it has no graph.");
  if (irVersion === undefined || irVersion < 1) throw new OnnxFormatError("Not an ONNX model: it has no IR version.");
  const main = opsets.filter((o) => o.domain === "" || o.domain === "ai.onnx").at(-1);
  return {
    ir_version: irVersion,
    opset: main?.version ?? null,
    opset_imports: opsets,
    producer,
    inputs: graph.inputs.filter((v) => !graph.initializers.has(v.name)),
    outputs: graph.outputs,
  };
}

interface GraphParts {
  inputs: OnnxValue[];
  outputs: OnnxValue[];
  initializers: Set<string>;
}

function* parseGraph(start: number, end: number, out: GraphParts): Parse<void> {
  for (let pos = start; pos < end; ) {
    const h = yield* header(pos, end);
    pos = h.next;
    switch (h.field) {
      case 5: // initializer: TensorProto; only its name matters
        expectWire(h, WIRE.LEN);
        out.initializers.add(yield* tensorName(h.start, h.end));
        break;
      case 15: // sparse_initializer: SparseTensorProto { values = 1: TensorProto }
        expectWire(h, WIRE.LEN);
        for (let p = h.start; p < h.end; ) {
          const s = yield* header(p, h.end);
          p = s.next;
          if (s.field === 1) {
            expectWire(s, WIRE.LEN);
            out.initializers.add(yield* tensorName(s.start, s.end));
          }
        }
        break;
      case 11:
      case 12: {
        const list = h.field === 11 ? out.inputs : out.outputs;
        if (list.length >= ONNX_LIMITS.maxValues) throw new OnnxFormatError(`Not a usable ONNX model: more than ${ONNX_LIMITS.maxValues} graph ${h.field === 11 ? "inputs" : "outputs"}.`);
        list.push(parseValueInfo(yield* payload(h, "graph input/output")));
        break;
      }
    }
  }
}

/** A TensorProto's name (field 8), stepping over its data fields without reading them. */
function* tensorName(start: number, end: number): Parse<string> {
  let name = "";
  for (let pos = start; pos < end; ) {
    const h = yield* header(pos, end);
    pos = h.next;
    if (h.field === 8) name = text(yield* payload(h, "tensor name"));
  }
  return name;
}

const utf8 = new TextDecoder("utf-8");

/** A whole field's bytes as text (the reader was made over exactly that field). */
function text(r: Reader): string {
  return utf8.decode(r.buf.subarray(r.pos, r.end));
}

function parseOpset(r: Reader): { domain: string; version: number } {
  const o = { domain: "", version: 0 };
  while (!r.done()) {
    const f = r.next();
    if (f.field === 1) o.domain = r.string(f);
    else if (f.field === 2) o.version = r.int(f);
  }
  return o;
}

interface TypeInfo {
  elem: number;
  shape: Dim[] | null;
  kind: string;
}

function parseValueInfo(r: Reader): OnnxValue {
  let name = "";
  let type: TypeInfo | undefined;
  while (!r.done()) {
    const f = r.next();
    if (f.field === 1) name = r.string(f);
    else if (f.field === 2) type = parseType(r.sub(f), 0);
  }
  const t = type ?? { elem: 0, shape: null, kind: "unknown" };
  const dt = dataTypeByCode(t.elem);
  const v: OnnxValue = { name, dtype: dt.name, datatype: dt.oip, shape: t.shape };
  if (t.kind !== "tensor") v.kind = t.kind;
  return v;
}

/** TypeProto: the innermost tensor's element type and shape, and the containers around it. */
function parseType(r: Reader, depth: number): TypeInfo {
  if (depth > ONNX_LIMITS.maxTypeDepth) throw new OnnxFormatError(`Not a usable ONNX model: types nested deeper than ${ONNX_LIMITS.maxTypeDepth}.`);
  let out: TypeInfo = { elem: 0, shape: null, kind: "unknown" };
  while (!r.done()) {
    const f = r.next();
    switch (f.field) {
      case 1: // tensor_type
      case 8: // sparse_tensor_type: same layout
        out = { ...parseTensorType(r.sub(f)), kind: f.field === 1 ? "tensor" : "sparse_tensor" };
        break;
      case 4: // sequence_type { elem_type = 1 }
      case 9: {
        // optional_type { elem_type = 1 }
        const inner = innerType(r.sub(f), 1, depth);
        out = { ...inner, kind: `${f.field === 4 ? "sequence" : "optional"}<${inner.kind}>` };
        break;
      }
      case 5: {
        // map_type { key_type = 1 (element type), value_type = 2 }
        const m = r.sub(f);
        let key = 0;
        let value: TypeInfo = { elem: 0, shape: null, kind: "unknown" };
        while (!m.done()) {
          const g = m.next();
          if (g.field === 1) key = m.int(g);
          else if (g.field === 2) value = parseType(m.sub(g), depth + 1);
        }
        out = { ...value, kind: `map<${dataTypeByCode(key).name},${value.kind}>` };
        break;
      }
    }
  }
  return out;
}

function innerType(r: Reader, field: number, depth: number): TypeInfo {
  let inner: TypeInfo = { elem: 0, shape: null, kind: "unknown" };
  while (!r.done()) {
    const f = r.next();
    if (f.field === field) inner = parseType(r.sub(f), depth + 1);
  }
  return inner;
}

/** TypeProto.Tensor { elem_type = 1; shape = 2: TensorShapeProto { dim = 1 { dim_value = 1 | dim_param = 2 } } } */
function parseTensorType(r: Reader): { elem: number; shape: Dim[] | null } {
  let elem = 0;
  let shape: Dim[] | null = null;
  while (!r.done()) {
    const f = r.next();
    if (f.field === 1) elem = r.int(f);
    else if (f.field === 2) {
      shape = [];
      const s = r.sub(f);
      while (!s.done()) {
        const d = s.next();
        if (d.field !== 1) continue;
        const dim = s.sub(d);
        let value: Dim = null;
        while (!dim.done()) {
          const g = dim.next();
          if (g.field === 1) value = dim.int(g);
          else if (g.field === 2) value = dim.string(g);
        }
        shape.push(value);
      }
    }
  }
  return { elem, shape };
}

function wrap(err: unknown): unknown {
  if (err instanceof ProtobufError) return new OnnxFormatError(`Not a valid ONNX model (or a truncated one): ${err.message}.`);
  return err;
}

/** The signature of the ONNX model in `bytes`. Throws OnnxFormatError, and only that, when they are not one. */
export function readOnnxSignature(bytes: Uint8Array): OnnxSignature {
  if (bytes.length === 0) throw new OnnxFormatError("Not an ONNX model: the file is empty.");
  try {
    const g = parseModel(bytes.length);
    let step = g.next();
    while (!step.done) {
      const { offset, length } = step.value;
      step = g.next(bytes.subarray(offset, offset + length));
    }
    return step.value;
  } catch (err) {
    throw wrap(err);
  }
}

/** Random access to a file: `read` resolves with exactly the bytes asked for (the range lies within `size`). */
export interface ByteSource {
  size: number;
  read(offset: number, length: number): Promise<Uint8Array>;
}

/**
 * The signature of the ONNX model `source` holds, fetching only what it needs: small files whole, larger
 * ones in blocks that grow while reads are sequential and start small again after a jump, within
 * ONNX_LIMITS.maxBytesRead in all. Throws OnnxFormatError for what is not an ONNX model; errors of the
 * source itself pass through.
 */
export async function readOnnxSignatureFrom(source: ByteSource, opts: { maxBytesRead?: number } = {}): Promise<OnnxSignature> {
  const { size } = source;
  if (size === 0) throw new OnnxFormatError("Not an ONNX model: the file is empty.");
  if (size > ONNX_LIMITS.maxFileBytes) throw new OnnxFormatError(`Not a usable ONNX model: ${size} bytes is past protobuf's 2 GiB limit.`);
  if (size <= ONNX_LIMITS.wholeFileBytes) return readOnnxSignature(await source.read(0, size));
  const budget = opts.maxBytesRead ?? ONNX_LIMITS.maxBytesRead;
  const MIN_BLOCK = 16 * 1024;
  const MAX_BLOCK = 1024 * 1024;
  let fetched = 0;
  let block: Uint8Array = new Uint8Array(0);
  let blockStart = 0;
  let blockSize = MIN_BLOCK;
  const fetch = async (offset: number, length: number): Promise<Uint8Array> => {
    if (offset >= blockStart && offset + length <= blockStart + block.length) return block.subarray(offset - blockStart, offset - blockStart + length);
    const sequential = offset === blockStart + block.length;
    blockSize = sequential ? Math.min(blockSize * 2, MAX_BLOCK) : MIN_BLOCK;
    const want = Math.min(Math.max(length, blockSize), size - offset);
    fetched += want;
    if (fetched > budget) throw new OnnxFormatError(`Not a usable ONNX model: its graph metadata needs more than ${budget} bytes read.`);
    block = await source.read(offset, want);
    blockStart = offset;
    if (block.length < length) throw new OnnxFormatError(`Not a valid ONNX model: the file ended at byte ${offset + block.length} of ${size}.`);
    return block.subarray(0, length);
  };
  try {
    const g = parseModel(size);
    let step = g.next();
    while (!step.done) step = g.next(await fetch(step.value.offset, step.value.length));
    return step.value;
  } catch (err) {
    throw wrap(err);
  }
}

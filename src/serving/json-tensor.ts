/**
 * Tensor data in JSON, both ways. In: row-major values, flat or nested exactly as the shape says, each
 * checked for its datatype (integers in range, booleans, strings for BYTES). Floats may also be the
 * strings "NaN", "Infinity" and "-Infinity" (JSON has no such numbers; see also parseJsonLenient). Out:
 * JSON text written directly (exact INT64 digits, non-finite floats as those strings).
 */
import { badInput } from "./errors.js";
import { fromHalfBits, toHalfBits } from "./fp16.js";
import { allocate, type BytesData, type Datatype, type NumericData, type Tensor, type TensorData, textOf } from "./tensor.js";
import { describeShape } from "./validate.js";

const INT_RANGE: Partial<Record<Datatype, [number, number]>> = {
  INT8: [-128, 127],
  UINT8: [0, 255],
  INT16: [-32768, 32767],
  UINT16: [0, 65535],
  INT32: [-(2 ** 31), 2 ** 31 - 1],
  UINT32: [0, 2 ** 32 - 1],
};
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

const NON_FINITE: Record<string, number> = {
  NaN: Number.NaN,
  nan: Number.NaN,
  Infinity: Number.POSITIVE_INFINITY,
  "+Infinity": Number.POSITIVE_INFINITY,
  inf: Number.POSITIVE_INFINITY,
  "-Infinity": Number.NEGATIVE_INFINITY,
  "-inf": Number.NEGATIVE_INFINITY,
};

type Put = (v: unknown, i: number) => void;

function badValue(name: string, datatype: Datatype, v: unknown, i: number, what: string): never {
  const shown = typeof v === "string" ? JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v) : Array.isArray(v) ? "an array" : String(v);
  throw badInput(`Input '${name}': element ${i} is ${shown}; ${datatype} data must be ${what}.`);
}

function writer(name: string, datatype: Datatype, out: TensorData): Put {
  switch (datatype) {
    case "FP32":
    case "FP64": {
      const a = out as Float32Array | Float64Array;
      return (v, i) => {
        if (typeof v === "number") a[i] = v;
        else if (typeof v === "string" && Object.hasOwn(NON_FINITE, v)) a[i] = NON_FINITE[v];
        else badValue(name, datatype, v, i, 'numbers (or "NaN", "Infinity", "-Infinity")');
      };
    }
    case "FP16": {
      const a = out as Uint16Array;
      return (v, i) => {
        if (typeof v === "number") a[i] = toHalfBits(v);
        else if (typeof v === "string" && Object.hasOwn(NON_FINITE, v)) a[i] = toHalfBits(NON_FINITE[v]);
        else badValue(name, datatype, v, i, 'numbers (or "NaN", "Infinity", "-Infinity")');
      };
    }
    case "BOOL": {
      const a = out as Uint8Array;
      return (v, i) => {
        if (v === true || v === 1) a[i] = 1;
        else if (v === false || v === 0) a[i] = 0;
        else badValue(name, datatype, v, i, "true or false");
      };
    }
    case "INT64":
    case "UINT64": {
      const a = out as BigInt64Array | BigUint64Array;
      const [min, max] = datatype === "INT64" ? [INT64_MIN, INT64_MAX] : [0n, UINT64_MAX];
      const what = `integers from ${min} to ${max} (numbers, or strings of digits for values past 2^53)`;
      return (v, i) => {
        let b: bigint | undefined;
        if (typeof v === "number" && Number.isInteger(v)) b = BigInt(v);
        else if (typeof v === "string" && /^-?\d{1,20}$/.test(v)) b = BigInt(v);
        if (b === undefined || b < min || b > max) badValue(name, datatype, v, i, what);
        a[i] = b as bigint;
      };
    }
    case "BYTES": {
      const a = out as BytesData;
      return (v, i) => {
        if (typeof v === "string") a[i] = v;
        else badValue(name, datatype, v, i, "strings");
      };
    }
    default: {
      const a = out as NumericData;
      const [min, max] = INT_RANGE[datatype] as [number, number];
      return (v, i) => {
        if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) badValue(name, datatype, v, i, `integers from ${min} to ${max}`);
        a[i] = v as number;
      };
    }
  }
}

/**
 * An input's JSON `data` as a typed array of `count` elements: flat (count values) or nested exactly as
 * `shape` says. A mismatch names the input and where it is.
 */
export function decodeJsonData(name: string, datatype: Datatype, shape: readonly number[], count: number, data: unknown): TensorData {
  if (!Array.isArray(data)) throw badInput(`Input '${name}': 'data' must be an array (flat or nested as the shape ${describeShape(shape)}).`);
  const out = allocate(datatype, count);
  const put = writer(name, datatype, out);
  const flat = shape.length <= 1 || data.length === 0 || !Array.isArray(data[0]);
  if (flat) {
    if (data.length !== count) throw badInput(`Input '${name}': data has ${data.length} values; shape ${describeShape(shape)} needs ${count}.`);
    for (let i = 0; i < count; i++) put(data[i], i);
    return out;
  }
  let pos = 0;
  const walk = (arr: unknown[], depth: number, path: string): void => {
    if (arr.length !== shape[depth]) {
      throw badInput(`Input '${name}': data${path} has ${arr.length} elements; shape ${describeShape(shape)} needs ${shape[depth]} at dimension ${depth} (or send all ${count} values flat).`);
    }
    if (depth === shape.length - 1) {
      for (let i = 0; i < arr.length; i++) put(arr[i], pos++);
      return;
    }
    for (let i = 0; i < arr.length; i++) {
      const sub = arr[i];
      if (!Array.isArray(sub)) throw badInput(`Input '${name}': data${path}[${i}] is not an array; nested data must follow the shape ${describeShape(shape)}.`);
      walk(sub, depth + 1, `${path}[${i}]`);
    }
  };
  walk(data, 0, "");
  return out;
}

/**
 * JSON.parse, and when that fails on the bare NaN/Infinity tokens Python's json module writes (the MLflow
 * client, pandas), again with them quoted (outside strings only).
 */
export function parseJsonLenient(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    if (!/NaN|Infinity/.test(text)) throw err;
    return JSON.parse(quoteNonFinite(text));
  }
}

function quoteNonFinite(text: string): string {
  let out = "";
  let last = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) {
      inString = true;
      continue;
    }
    for (const token of ["-Infinity", "Infinity", "NaN"]) {
      if (text.startsWith(token, i)) {
        out += `${text.slice(last, i)}"${token}"`;
        i += token.length - 1;
        last = i + 1;
        break;
      }
    }
  }
  return out + text.slice(last);
}

// ---- Out -------------------------------------------------------------------------------------------

function floatText(v: number): string {
  if (Number.isFinite(v)) return String(v);
  return Number.isNaN(v) ? '"NaN"' : v > 0 ? '"Infinity"' : '"-Infinity"';
}

/** Element i of a tensor as JSON text. */
function elementText(t: Tensor): (i: number) => string {
  const d = t.data;
  switch (t.datatype) {
    case "FP32":
    case "FP64":
      return (i) => floatText((d as Float64Array)[i]);
    case "FP16":
      return (i) => floatText(fromHalfBits((d as Uint16Array)[i]));
    case "BOOL":
      return (i) => ((d as Uint8Array)[i] ? "true" : "false");
    case "BYTES":
      return (i) => JSON.stringify(textOf((d as BytesData)[i]));
    default:
      return (i) => String((d as NumericData | BigInt64Array)[i]);
  }
}

/** A tensor's data as a flat JSON array (OIP answers). */
export function flatJson(t: Tensor): string {
  const n = t.data.length;
  if (t.datatype === "FP32" || t.datatype === "FP64") {
    const a = t.data as Float32Array;
    let s = "[";
    for (let i = 0; i < n; i++) {
      const v = a[i];
      s += (i ? "," : "") + (Number.isFinite(v) ? String(v) : floatText(v));
    }
    return `${s}]`;
  }
  const el = elementText(t);
  const parts = new Array<string>(n);
  for (let i = 0; i < n; i++) parts[i] = el(i);
  return `[${parts.join(",")}]`;
}

/** A tensor's data as JSON arrays nested by its shape (MLflow predictions); a scalar is its value. */
export function nestedJson(t: Tensor): string {
  const el = elementText(t);
  const shape = t.shape;
  if (shape.length === 0) return t.data.length ? el(0) : "null";
  let pos = 0;
  const walk = (depth: number): string => {
    const n = shape[depth];
    const parts = new Array<string>(n);
    for (let i = 0; i < n; i++) parts[i] = depth === shape.length - 1 ? el(pos++) : walk(depth + 1);
    return `[${parts.join(",")}]`;
  };
  return walk(0);
}

/**
 * The `signature:` block of an MLflow MLmodel file, without a YAML library. MLflow writes the MLmodel with
 * PyYAML's safe_dump, and the signature's `inputs`, `outputs` and `params` as JSON strings inside it:
 *
 *   signature:
 *     inputs: '[{"type": "double", "name": "x", "required": true}, {"type": "tensor",
 *       "tensor-spec": {"dtype": "float32", "shape": [-1, 4]}}]'
 *     outputs: '[{"type": "long", "required": true}]'
 *     params: null
 *
 * So this reads just that much YAML: a top-level mapping key, its indented child keys, and their scalars
 * (plain, 'single-' or "double-quoted", folded over several lines as PyYAML wraps them at 80 columns).
 * Anything else in the file is skipped unread. Malformed input throws MlmodelError with what was wrong.
 */
import type { Dim } from "../onnx/index.js";
import { dataTypeByName } from "../onnx/index.js";

export class MlmodelError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MlmodelError";
  }
}

/** One input or output as the registry reports it, whatever the model's format. */
export interface SignatureValue {
  /** Null for MLflow specs without a name (an unnamed column or tensor). */
  name: string | null;
  /** ONNX element type name where one fits (DOUBLE, INT64, STRING, …), else the MLflow type upper-cased (DATETIME, ARRAY, OBJECT, MAP). */
  dtype: string;
  /** Open Inference Protocol v2 datatype (FP64, INT64, BYTES, …), or null. */
  datatype: string | null;
  /** Tensors: their shape (-1 read as null, unknown); columns: [null], one value per row; null when unknown. */
  shape: Dim[] | null;
  /** Absent for a plain tensor; "column" for an MLflow column spec; e.g. "sequence<tensor>" for ONNX containers. */
  kind?: string;
  /** The type exactly as MLflow wrote it (column type such as "double", or the tensor's numpy dtype such as "float32"). */
  mlflow_type?: string;
  required?: boolean;
}

export interface MlmodelSignature {
  inputs: SignatureValue[];
  outputs: SignatureValue[];
  /** MLflow's inference params (name, type, default, shape), as written. */
  params?: unknown[];
}

/** MLflow column types → ONNX element type names. */
const COLUMN_TYPES: Record<string, string> = {
  boolean: "BOOL",
  integer: "INT32",
  long: "INT64",
  float: "FLOAT",
  double: "DOUBLE",
  string: "STRING",
  binary: "STRING",
};

/** numpy dtype names → ONNX element type names. */
const NUMPY_TYPES: Record<string, string> = {
  bool: "BOOL",
  int8: "INT8",
  int16: "INT16",
  int32: "INT32",
  int64: "INT64",
  uint8: "UINT8",
  uint16: "UINT16",
  uint32: "UINT32",
  uint64: "UINT64",
  float16: "FLOAT16",
  float32: "FLOAT",
  float64: "DOUBLE",
  object: "STRING",
  str: "STRING",
  bytes: "STRING",
};

/** numpy's short type codes (as str() of a dtype with a byte order shows them: "<f8", "|b1", "<U5"). */
const NUMPY_CODES: Record<string, string> = {
  "?": "BOOL",
  b1: "BOOL",
  i1: "INT8",
  i2: "INT16",
  i4: "INT32",
  i8: "INT64",
  u1: "UINT8",
  u2: "UINT16",
  u4: "UINT32",
  u8: "UINT64",
  f2: "FLOAT16",
  f4: "FLOAT",
  f8: "DOUBLE",
};

/**
 * The signature in an MLmodel file's text, or undefined when it has none (no `signature:` key, or
 * `signature: null`).
 */
export function parseMlmodelSignature(text: string): MlmodelSignature | undefined {
  const block = topLevelBlock(text.replace(/\r\n?/g, "\n").split("\n"), "signature");
  if (block === undefined) return undefined;
  const fields = childScalars(block.lines, block.inline);
  if (fields === undefined) return undefined;
  const inputs = specList(fields.get("inputs"), "inputs");
  const outputs = specList(fields.get("outputs"), "outputs");
  const sig: MlmodelSignature = { inputs: inputs.map((s, i) => toValue(s, `inputs[${i}]`)), outputs: outputs.map((s, i) => toValue(s, `outputs[${i}]`)) };
  const params = fields.get("params");
  if (params !== undefined && params !== null) sig.params = jsonList(params, "params");
  return sig;
}

/** The lines under a top-level `key:` (up to the next top-level key), and what follows the colon on its own line. */
function topLevelBlock(lines: string[], key: string): { lines: string[]; inline: string } | undefined {
  const head = new RegExp(`^${key}:(?:\\s+(.*))?$`);
  const at = lines.findIndex((l) => head.test(l));
  if (at < 0) return undefined;
  const inline = (head.exec(lines[at])?.[1] ?? "").trim();
  const out: string[] = [];
  for (let i = at + 1; i < lines.length; i++) {
    const l = lines[i];
    if (l !== "" && !/^\s/.test(l) && !l.startsWith("#")) break;
    out.push(l);
  }
  return { lines: out, inline };
}

/** The child keys of a block mapping and their scalar values (null for YAML null); undefined for `key: null`. */
function childScalars(lines: string[], inline: string): Map<string, string | null> | undefined {
  if (inline !== "") {
    if (isNull(stripComment(inline))) return undefined;
    if (inline.startsWith("{")) throw new MlmodelError("the signature is a YAML flow mapping; only the block form MLflow writes is read");
    throw new MlmodelError(`'signature:' is followed by '${clip(inline)}', not a mapping`);
  }
  const out = new Map<string, string | null>();
  const indentOf = (l: string) => l.length - l.trimStart().length;
  const first = lines.find((l) => l.trim() !== "" && !l.trim().startsWith("#"));
  if (first === undefined) return undefined;
  const indent = indentOf(first);
  for (let i = 0; i < lines.length; ) {
    const l = lines[i];
    if (l.trim() === "" || l.trim().startsWith("#")) {
      i++;
      continue;
    }
    if (indentOf(l) !== indent) throw new MlmodelError(`unexpected indentation in the signature block: '${clip(l.trim())}'`);
    const m = /^([A-Za-z_][\w-]*):(?:\s+(.*))?$/.exec(l.trim());
    if (!m) throw new MlmodelError(`expected 'key: value' in the signature block, found '${clip(l.trim())}'`);
    // The value's continuation lines: every following line indented deeper (or blank, inside a quoted scalar).
    let j = i + 1;
    while (j < lines.length && (lines[j].trim() === "" || indentOf(lines[j]) > indent)) j++;
    while (j > i + 1 && lines[j - 1].trim() === "") j--;
    out.set(m[1], scalar([m[2] ?? "", ...lines.slice(i + 1, j)], m[1]));
    i = j;
  }
  return out;
}

function isNull(s: string): boolean {
  return s === "" || s === "null" || s === "Null" || s === "NULL" || s === "~";
}

function stripComment(s: string): string {
  const at = s.search(/\s#/);
  return (at < 0 ? s : s.slice(0, at)).trim();
}

/** A YAML scalar that may span lines: the first line's text after `key:` and its continuation lines. */
function scalar(parts: string[], key: string): string | null {
  // The value may start on the line after its key.
  if (parts[0].trim() === "" && parts.length > 1) parts = parts.slice(1);
  const first = parts[0].trim();
  if (first.startsWith("'")) return singleQuoted(parts, key);
  if (first.startsWith('"')) return doubleQuoted(parts, key);
  if (first.startsWith("|") || first.startsWith(">")) throw new MlmodelError(`'${key}' is a YAML block scalar; MLflow writes quoted strings`);
  const plain = fold(parts.map((p) => stripComment(p)));
  return isNull(plain) ? null : plain;
}

/** YAML line folding: one line break between text becomes a space, each blank line a newline. */
function fold(lines: string[]): string {
  let out = "";
  let breaks = 0;
  lines.forEach((raw, i) => {
    const l = i === 0 ? raw.trimEnd() : raw.trim();
    if (l === "" && i > 0) {
      breaks++;
      return;
    }
    if (i > 0) out += breaks ? "\n".repeat(breaks) : " ";
    breaks = 0;
    out += l;
  });
  return out;
}

function singleQuoted(parts: string[], key: string): string {
  const text = fold(parts.map((p, i) => (i === 0 ? p.trimStart() : p)));
  let out = "";
  for (let i = 1; i < text.length; i++) {
    const c = text[i];
    if (c !== "'") {
      out += c;
      continue;
    }
    if (text[i + 1] === "'") {
      out += "'";
      i++;
      continue;
    }
    if (stripComment(text.slice(i + 1)) !== "") throw new MlmodelError(`text after the closing quote of '${key}'`);
    return out;
  }
  throw new MlmodelError(`the quoted value of '${key}' never ends (truncated file?)`);
}

const ESCAPES: Record<string, string> = {
  "0": "\0",
  a: "\x07",
  b: "\b",
  t: "\t",
  "\t": "\t",
  n: "\n",
  v: "\v",
  f: "\f",
  r: "\r",
  e: "\x1b",
  " ": " ",
  '"': '"',
  "/": "/",
  "\\": "\\",
  N: "\u0085",
  _: "\u00a0",
  L: "\u2028",
  P: "\u2029",
};

function doubleQuoted(parts: string[], key: string): string {
  // An escaped line break (a backslash ending the line) joins the lines with nothing between them.
  const lines = parts.map((p, i) => (i === 0 ? p.trimStart() : p));
  const joined: string[] = [];
  for (const l of lines) {
    const prev = joined.at(-1);
    if (prev !== undefined && /(^|[^\\])(\\\\)*\\$/.test(prev.trimEnd())) joined[joined.length - 1] = prev.trimEnd().slice(0, -1) + l.trimStart();
    else joined.push(l);
  }
  const text = fold(joined);
  let out = "";
  for (let i = 1; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      if (stripComment(text.slice(i + 1)) !== "") throw new MlmodelError(`text after the closing quote of '${key}'`);
      return out;
    }
    if (c !== "\\") {
      out += c;
      continue;
    }
    const e = text[++i];
    if (e === undefined) break;
    if (e in ESCAPES) {
      out += ESCAPES[e];
      continue;
    }
    const width = e === "x" ? 2 : e === "u" ? 4 : e === "U" ? 8 : 0;
    const hex = text.slice(i + 1, i + 1 + width);
    if (!width || !/^[0-9a-fA-F]+$/.test(hex) || hex.length !== width) throw new MlmodelError(`invalid escape '\\${e}' in '${key}'`);
    const code = Number.parseInt(hex, 16);
    if (code > 0x10ffff) throw new MlmodelError(`invalid escape '\\${e}${hex}' in '${key}'`);
    out += String.fromCodePoint(code);
    i += width;
  }
  throw new MlmodelError(`the quoted value of '${key}' never ends (truncated file?)`);
}

function jsonList(text: string, field: string): unknown[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new MlmodelError(`signature ${field} is not JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(parsed)) throw new MlmodelError(`signature ${field} is not a JSON list`);
  return parsed;
}

function specList(text: string | null | undefined, field: string): Record<string, unknown>[] {
  if (text === undefined || text === null) return [];
  return jsonList(text, field).map((s, i) => {
    if (typeof s !== "object" || s === null || Array.isArray(s)) throw new MlmodelError(`signature ${field}[${i}] is not an object`);
    return s as Record<string, unknown>;
  });
}

/** One MLflow ColSpec or TensorSpec as a SignatureValue. */
function toValue(spec: Record<string, unknown>, where: string): SignatureValue {
  const name = typeof spec.name === "string" ? spec.name : null;
  const required = typeof spec.required === "boolean" ? { required: spec.required } : {};
  if (typeof spec.type !== "string") throw new MlmodelError(`signature ${where} has no type`);
  if (spec.type === "tensor") {
    const t = spec["tensor-spec"] as { dtype?: unknown; shape?: unknown } | undefined;
    if (!t || typeof t !== "object" || typeof t.dtype !== "string") throw new MlmodelError(`signature ${where} is a tensor without a 'tensor-spec' dtype`);
    const np = t.dtype.replace(/^[<>=|]/, "");
    const onnx = NUMPY_TYPES[np] ?? NUMPY_CODES[np] ?? (/^[USO]\d*$/.test(np) ? "STRING" : undefined);
    let shape: Dim[] | null = null;
    if (Array.isArray(t.shape)) {
      shape = t.shape.map((d) => (typeof d === "number" && Number.isInteger(d) && d >= 0 ? d : null));
    }
    return { name, ...typed(onnx ?? np.toUpperCase()), shape, mlflow_type: t.dtype, ...required };
  }
  const onnx = COLUMN_TYPES[spec.type];
  return { name, ...typed(onnx ?? spec.type.toUpperCase()), shape: [null], kind: "column", mlflow_type: spec.type, ...required };
}

function typed(dtype: string): { dtype: string; datatype: string | null } {
  return { dtype, datatype: dataTypeByName(dtype)?.oip ?? null };
}

function clip(s: string): string {
  return s.length > 80 ? `${s.slice(0, 80)}…` : s;
}

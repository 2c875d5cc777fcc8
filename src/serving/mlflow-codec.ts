/**
 * MLflow's scoring protocol (`POST /invocations`) mapped onto a model's tensor inputs.
 *
 * Formats: JSON with exactly one of `dataframe_split`, `dataframe_records`, `instances`, `inputs` (and
 * optionally `params`), or `text/csv` with a header row. How tables map to inputs:
 * - Feature columns: a model with ONE input, sent a table whose columns are not just that input's name,
 *   gets the columns in the order given as the input's last dimension: rows × columns fills a 2-D input
 *   [N, C] (a 1-D input takes a single column as [N]). Column names are not matched to anything.
 * - Named columns: otherwise every column names an input. A column of scalars fills a 1-D input [N] or a
 *   2-D input [N, 1]; a column whose cells are arrays fills [N, …cell shape]. Unknown columns and missing
 *   inputs are 400s naming them.
 * - `instances`: a list of objects is named columns, one object per row; a list of values is the single
 *   input's tensor, its shape read from the nesting ([N, …]).
 * - `inputs`: an object maps input names to tensors (shape from the nesting); a list is the single input's tensor.
 * Values are cast to each input's datatype (CSV cells are parsed for it; an empty cell is NaN for floats,
 * as in pandas). Answers are `{"predictions": …}`: the output's values nested by its shape, or, for a
 * model with several outputs, an object of them by name.
 */
import { badInput, unsupportedMediaType } from "./errors.js";
import { parseCsv } from "./csv.js";
import { decodeJsonData, nestedJson, parseJsonLenient } from "./json-tensor.js";
import type { InputPolicy, ModelMetadata, TensorSpec } from "./model.js";
import type { Datatype, Tensor } from "./tensor.js";
import { checkDatatype, checkFinite, checkShape, describeShape, inputSpec, MAX_RANK, orderInputs } from "./validate.js";

export interface Invocation {
  inputs: Tensor[];
  params?: Record<string, unknown>;
}

const FORMATS = ["dataframe_split", "dataframe_records", "instances", "inputs"] as const;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** A table: rows of cells; CSV cells are strings still to be parsed for their input's datatype. */
interface Frame {
  columns: string[];
  rows: unknown[][];
  csv: boolean;
}

export function decodeInvocation(contentType: string | undefined, body: Buffer | undefined, meta: ModelMetadata, policy?: InputPolicy): Invocation {
  const media = (contentType ?? "").split(";")[0].trim().toLowerCase();
  if (media !== "application/json" && media !== "text/csv") {
    throw unsupportedMediaType(`Content-Type must be application/json or text/csv${media ? `; got '${media.slice(0, 60)}'` : " (none was sent)"}.`);
  }
  if (!body || body.length === 0) throw badInput("The request body is empty.");
  const inv = media === "text/csv" ? { inputs: frameToTensors(csvFrame(body), meta) } : decodeJson(body, meta);
  for (const t of inv.inputs) checkFinite(t, policy);
  return { ...inv, inputs: orderInputs(meta, inv.inputs) };
}

function csvFrame(body: Buffer): Frame {
  const { columns, rows } = parseCsv(body.toString("utf8"));
  return { columns, rows, csv: true };
}

function decodeJson(body: Buffer, meta: ModelMetadata): Invocation {
  let doc: unknown;
  try {
    doc = parseJsonLenient(body.toString("utf8"));
  } catch (err) {
    throw badInput(`Malformed JSON in the request: ${(err as Error).message}`);
  }
  const expectation = `a JSON object with exactly one of ${FORMATS.map((f) => `'${f}'`).join(", ")} (and optionally 'params')`;
  if (!isObject(doc)) throw badInput(`The request must be ${expectation}.`);
  const keys = Object.keys(doc);
  const given = FORMATS.filter((f) => Object.hasOwn(doc, f));
  const unknown = keys.filter((k) => k !== "params" && !(FORMATS as readonly string[]).includes(k));
  if (given.length !== 1 || unknown.length) throw badInput(`The request must be ${expectation}; it has ${keys.length ? keys.map((k) => `'${k.slice(0, 40)}'`).join(", ") : "no fields"}.`);
  let params: Record<string, unknown> | undefined;
  if (doc.params !== undefined && doc.params !== null) {
    if (!isObject(doc.params)) throw badInput("'params' must be an object of parameter names to values.");
    params = doc.params;
  }
  const value = doc[given[0]];
  let inputs: Tensor[];
  switch (given[0]) {
    case "dataframe_split":
      inputs = frameToTensors(splitFrame(value, meta), meta);
      break;
    case "dataframe_records":
      inputs = frameToTensors(recordsFrame(value, "dataframe_records"), meta);
      break;
    case "instances":
      inputs = instances(value, meta);
      break;
    default:
      inputs = tensorInputs(value, meta);
  }
  return params ? { inputs, params } : { inputs };
}

function splitFrame(v: unknown, meta: ModelMetadata): Frame {
  if (!isObject(v) || !Array.isArray(v.data)) throw badInput("'dataframe_split' must be {\"columns\": [...], \"data\": [[...], ...]}.");
  const rows = v.data as unknown[];
  let columns: string[];
  if (v.columns === undefined || v.columns === null) {
    if (meta.inputs.length !== 1) throw badInput(`'dataframe_split' needs 'columns' naming the inputs: model '${meta.name}' has ${meta.inputs.length}.`);
    const width = Array.isArray(rows[0]) ? rows[0].length : 0;
    columns = Array.from({ length: width }, (_, i) => String(i));
  } else {
    if (!Array.isArray(v.columns) || !v.columns.every((c) => typeof c === "string" || typeof c === "number")) throw badInput("'dataframe_split.columns' must be an array of column names.");
    columns = v.columns.map(String);
  }
  rows.forEach((r, i) => {
    if (!Array.isArray(r)) throw badInput(`'dataframe_split.data[${i}]' must be an array (one row).`);
    if (r.length !== columns.length) throw badInput(`'dataframe_split.data[${i}]' has ${r.length} values; there are ${columns.length} columns.`);
  });
  return { columns, rows: rows as unknown[][], csv: false };
}

function recordsFrame(v: unknown, what: string): Frame {
  if (!Array.isArray(v) || v.length === 0) throw badInput(`'${what}' must be a non-empty array of objects, one per row.`);
  if (!isObject(v[0])) throw badInput(`'${what}[0]' must be an object of column names to values.`);
  const columns = Object.keys(v[0]);
  const rows = v.map((r, i) => {
    if (!isObject(r)) throw badInput(`'${what}[${i}]' must be an object of column names to values.`);
    const row = columns.map((c) => {
      if (!Object.hasOwn(r, c)) throw badInput(`'${what}[${i}]' lacks column '${c}' (row 0 has it).`);
      return r[c];
    });
    if (Object.keys(r).length !== columns.length) {
      const extra = Object.keys(r).find((k) => !columns.includes(k));
      throw badInput(`'${what}[${i}]' has column '${extra}', which row 0 lacks.`);
    }
    return row;
  });
  return { columns, rows, csv: false };
}

function instances(v: unknown, meta: ModelMetadata): Tensor[] {
  if (!Array.isArray(v) || v.length === 0) throw badInput("'instances' must be a non-empty array.");
  if (isObject(v[0])) return namedColumns(recordsFrame(v, "instances"), meta);
  return [tensorFromNested(singleInput(meta, "instances"), v)];
}

function tensorInputs(v: unknown, meta: ModelMetadata): Tensor[] {
  if (Array.isArray(v)) return [tensorFromNested(singleInput(meta, "inputs"), v)];
  if (!isObject(v)) throw badInput("'inputs' must be a tensor (nested array) or an object of input names to tensors.");
  return Object.entries(v).map(([name, value]) => tensorFromNested(inputSpec(meta, name), value));
}

function singleInput(meta: ModelMetadata, what: string): TensorSpec {
  if (meta.inputs.length !== 1) {
    throw badInput(`Model '${meta.name}' has inputs ${meta.inputs.map((i) => `'${i.name}'`).join(", ")}: send '${what}' as ${what === "inputs" ? "an object of input names to tensors" : "objects of input names to values"}.`);
  }
  return meta.inputs[0];
}

/** A tensor whose shape is read from the nesting of `value` (a scalar is shape []). */
function tensorFromNested(spec: TensorSpec, value: unknown): Tensor {
  const shape: number[] = [];
  for (let v = value; Array.isArray(v); v = v[0]) {
    if (shape.length >= MAX_RANK) throw badInput(`Input '${spec.name}': data is nested deeper than ${MAX_RANK} levels.`);
    shape.push(v.length);
    if (v.length === 0) break;
  }
  return build(spec, shape, Array.isArray(value) ? value : [value]);
}

function build(spec: TensorSpec, shape: number[], data: unknown[]): Tensor {
  const datatype = checkDatatype(spec, spec.datatype);
  const checked = checkShape(spec, shape);
  return { name: spec.name, datatype, shape: checked.shape, data: decodeJsonData(spec.name, datatype, checked.shape, checked.count, data) };
}

function frameToTensors(frame: Frame, meta: ModelMetadata): Tensor[] {
  const single = meta.inputs.length === 1 ? meta.inputs[0] : undefined;
  if (single && !(frame.columns.length === 1 && frame.columns[0] === single.name)) return [featureColumns(frame, single)];
  return namedColumns(frame, meta);
}

function featureColumns(frame: Frame, spec: TensorSpec): Tensor {
  const n = frame.rows.length;
  const c = frame.columns.length;
  const rank = spec.anyRank ? 2 : spec.shape.length;
  let shape: number[];
  if (rank === 2) shape = [n, c];
  else if (rank === 1 && c === 1) shape = [n];
  else {
    throw badInput(
      `Input '${spec.name}' has shape ${describeShape(spec.shape)}: a table of ${c} columns maps to a 2-D input (rows × columns)${rank === 1 ? " or, with one column, a 1-D one" : ""}; send this model's input with 'inputs' or 'instances'.`,
    );
  }
  const width = spec.anyRank ? -1 : spec.shape[rank - 1];
  if (rank === 2 && width >= 0 && width !== c) {
    throw badInput(`Input '${spec.name}' takes ${width} feature columns (shape ${describeShape(spec.shape)}); the table has ${c}.`);
  }
  const flat: unknown[] = new Array(n * c);
  for (let i = 0; i < n; i++) for (let j = 0; j < c; j++) flat[i * c + j] = frame.csv ? csvCell(frame.rows[i][j] as string, spec.datatype) : frame.rows[i][j];
  return build(spec, shape, flat);
}

function namedColumns(frame: Frame, meta: ModelMetadata): Tensor[] {
  const n = frame.rows.length;
  return frame.columns.map((col, j) => {
    if (!meta.inputs.some((s) => s.name === col)) {
      throw badInput(`Column '${col.slice(0, 100)}' matches no input of model '${meta.name}' (inputs: ${meta.inputs.map((i) => `'${i.name}'`).join(", ")}).`);
    }
    const spec = inputSpec(meta, col);
    const cells = frame.rows.map((r) => (frame.csv ? csvCell(r[j] as string, spec.datatype) : r[j]));
    if (n > 0 && Array.isArray(cells[0])) return tensorFromNested(spec, cells);
    const rank = spec.anyRank ? 1 : spec.shape.length;
    if (rank === 1) return build(spec, [n], cells);
    if (rank === 2 && (spec.shape[1] === 1 || spec.shape[1] === -1)) return build(spec, [n, 1], cells);
    throw badInput(`Input '${spec.name}' has shape ${describeShape(spec.shape)}: a column of single values fills [rows] or [rows, 1]; put arrays in its cells, or use 'inputs'.`);
  });
}

const NUMBER = /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/;
const FLOAT_WORDS: Record<string, string> = { "": "NaN", nan: "NaN", NaN: "NaN", inf: "Infinity", "+inf": "Infinity", "-inf": "-Infinity", Infinity: "Infinity", "-Infinity": "-Infinity" };

/** A CSV cell as the JSON value its input's datatype expects; left as text when it is none (the decoder names it). */
function csvCell(s: string, datatype: Datatype): unknown {
  if (datatype === "BYTES") return s;
  if (datatype === "BOOL") {
    const l = s.trim().toLowerCase();
    return l === "true" || l === "1" ? true : l === "false" || l === "0" ? false : s;
  }
  // Digits stay text for 64-bit integers: a number past 2^53 would lose its last digits.
  if ((datatype === "INT64" || datatype === "UINT64") && /^\s*-?\d{1,20}\s*$/.test(s)) return s.trim();
  if (NUMBER.test(s)) return Number(s);
  if (datatype === "FP32" || datatype === "FP64" || datatype === "FP16") return FLOAT_WORDS[s.trim()] ?? s;
  return s;
}

/** `{"predictions": …}`: one output's values nested by its shape, or an object of several outputs by name. */
export function encodePredictions(outputs: readonly Tensor[]): string {
  if (outputs.length === 1) return `{"predictions":${nestedJson(outputs[0])}}`;
  return `{"predictions":{${outputs.map((t) => `${JSON.stringify(t.name)}:${nestedJson(t)}`).join(",")}}}`;
}

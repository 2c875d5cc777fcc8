/**
 * Requests checked against the model's signature, before any tensor data is read or allocated: input
 * names, datatypes, ranks and dims first (so a 10,000-dimensional shape or a claimed 10^15 elements is
 * refused from the JSON header alone), then, once decoded, non-finite floats where the model's policy
 * refuses them. Every message names the input.
 */
import { badInput } from "./errors.js";
import { fromHalfBits } from "./fp16.js";
import type { InputPolicy, ModelMetadata, TensorSpec } from "./model.js";
import { type Datatype, elementCount, isDatatype, type Tensor } from "./tensor.js";

/** No ONNX model we know of has inputs of higher rank; a longer shape is refused before it is walked. */
export const MAX_RANK = 32;
/** Elements in one input (2^31): past it the claimed size alone is the problem, whatever the body holds. */
export const MAX_ELEMENTS = 2 ** 31;

export const describeShape = (shape: readonly number[]): string => `[${shape.join(",")}]`;

function listNames(specs: readonly { name: string }[]): string {
  const names = specs.slice(0, 20).map((s) => `'${s.name}'`);
  return specs.length > 20 ? `${names.join(", ")} and ${specs.length - 20} more` : names.join(", ");
}

/** The model's input called `name`, or a 400 listing the ones it has. */
export function inputSpec(meta: ModelMetadata, name: unknown): TensorSpec {
  if (typeof name !== "string" || name === "") throw badInput("Every input needs a 'name' (a non-empty string).");
  const spec = meta.inputs.find((s) => s.name === name);
  if (!spec) throw badInput(`Unknown input '${clip(name)}': model '${meta.name}' has inputs ${listNames(meta.inputs)}.`);
  return spec;
}

/** The model's output called `name`, or a 400 listing the ones it has. */
export function outputSpec(meta: ModelMetadata, name: unknown): TensorSpec {
  if (typeof name !== "string" || name === "") throw badInput("Every requested output needs a 'name' (a non-empty string).");
  const spec = meta.outputs.find((s) => s.name === name);
  if (!spec) throw badInput(`Unknown output '${clip(name)}': model '${meta.name}' has outputs ${listNames(meta.outputs)}.`);
  return spec;
}

const clip = (s: string): string => (s.length > 100 ? `${s.slice(0, 100)}…` : s);

/** The datatype an input declares, checked against the model's. */
export function checkDatatype(spec: TensorSpec, datatype: unknown): Datatype {
  if (!isDatatype(datatype)) {
    throw badInput(`Input '${spec.name}': ${typeof datatype === "string" ? `unknown datatype '${clip(datatype)}'` : "'datatype' is missing"}; the model expects ${spec.datatype}.`);
  }
  if (datatype !== spec.datatype) throw badInput(`Input '${spec.name}': datatype ${datatype} does not match the model's ${spec.datatype}.`);
  return datatype;
}

/**
 * The shape an input declares, checked against the model's (rank, fixed dims; -1 accepts any size) and
 * the element count it implies. The rank is checked before the dims are read.
 */
export function checkShape(spec: TensorSpec, shape: unknown): { shape: number[]; count: number } {
  if (!Array.isArray(shape)) throw badInput(`Input '${spec.name}': 'shape' must be an array of dimension sizes, e.g. ${describeShape(spec.shape)}.`);
  const expect = spec.anyRank ? undefined : spec.shape.length;
  if (shape.length > MAX_RANK || (expect !== undefined && shape.length !== expect)) {
    throw badInput(`Input '${spec.name}': shape has ${shape.length} dimensions; the model expects ${expect ?? `at most ${MAX_RANK}`}${expect !== undefined ? ` (${describeShape(spec.shape)}, -1 = any size)` : ""}.`);
  }
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i];
    if (typeof d !== "number" || !Number.isSafeInteger(d) || d < 0) {
      throw badInput(`Input '${spec.name}': dimension ${i} of the shape is ${clip(JSON.stringify(d) ?? String(d))}; dimensions are non-negative integers.`);
    }
    const want = expect === undefined ? -1 : spec.shape[i];
    if (want >= 0 && d !== want) {
      throw badInput(`Input '${spec.name}': shape ${describeShape(shape)} does not match the model's ${describeShape(spec.shape)} at dimension ${i} (-1 = any size).`);
    }
  }
  const count = elementCount(shape);
  if (count > MAX_ELEMENTS) throw badInput(`Input '${spec.name}': shape ${describeShape(shape)} claims ${count} elements; at most ${MAX_ELEMENTS} are accepted.`);
  return { shape: shape as number[], count };
}

/**
 * Inputs of one request, in the model's input order: none missing, none twice, and dims that share a
 * symbolic name (ONNX dim_param, e.g. every input's "batch") of equal size.
 */
export function orderInputs(meta: ModelMetadata, inputs: readonly Tensor[]): Tensor[] {
  const byName = new Map<string, Tensor>();
  for (const t of inputs) {
    if (byName.has(t.name)) throw badInput(`Input '${t.name}' is given more than once.`);
    byName.set(t.name, t);
  }
  const named = new Map<string, { size: number; input: string }>();
  return meta.inputs.map((spec) => {
    const t = byName.get(spec.name);
    if (!t) throw badInput(`Missing input '${spec.name}': model '${meta.name}' needs ${listNames(meta.inputs)}.`);
    spec.dimNames?.forEach((dim, i) => {
      if (dim === null) return;
      const seen = named.get(dim);
      if (!seen) named.set(dim, { size: t.shape[i], input: spec.name });
      else if (seen.size !== t.shape[i]) {
        throw badInput(`Inputs '${seen.input}' and '${spec.name}' disagree on dimension '${dim}': ${seen.size} and ${t.shape[i]}.`);
      }
    });
    return t;
  });
}

/** Refuses NaN and ±Infinity in floating-point inputs when the model's policy does. */
export function checkFinite(t: Tensor, policy: InputPolicy | undefined): void {
  if (policy?.allowNonFinite ?? true) return;
  if (t.datatype !== "FP32" && t.datatype !== "FP64" && t.datatype !== "FP16") return;
  const data = t.data as Float32Array | Float64Array | Uint16Array;
  const half = t.datatype === "FP16";
  for (let i = 0; i < data.length; i++) {
    const v = half ? fromHalfBits(data[i]) : data[i];
    if (!Number.isFinite(v)) throw badInput(`Input '${t.name}': element ${i} is ${v}; this model does not accept NaN or Infinity.`);
  }
}

/**
 * Open Inference Protocol v2 (KServe / Triton) inference requests and answers, JSON and the binary tensor
 * extension (Triton's binary_tensor_data).
 *
 * Sizes are checked against the body actually received before anything is allocated: the JSON header's
 * length against the body, each input's binary_data_size against the bytes left after the previous ones,
 * each BYTES element's length prefix against its input's part. So a request claiming terabytes costs what
 * its real body costs, and is a 400 naming the input.
 */
import { badInput } from "./errors.js";
import { decodeJsonData, flatJson, parseJsonLenient } from "./json-tensor.js";
import type { InputPolicy, ModelMetadata } from "./model.js";
import { type BytesData, DATATYPE_INFO, type Datatype, fromLittleEndian, type Tensor, type TensorData, toLittleEndian } from "./tensor.js";
import { checkDatatype, checkFinite, checkShape, describeShape, inputSpec, orderInputs, outputSpec } from "./validate.js";

export const HEADER_LENGTH = "inference-header-content-length";

export interface RequestedOutput {
  name: string;
  /** Answer this output's data in the binary part. */
  binary: boolean;
}

export interface OipRequest {
  id?: string;
  parameters?: Record<string, unknown>;
  /** Validated, in the model's input order. */
  inputs: Tensor[];
  /** The outputs asked for by name; undefined: all of them. */
  outputs?: RequestedOutput[];
  /** The request-level binary_data_output: the default for outputs not named. */
  binaryByDefault: boolean;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function optionalObject(v: unknown, what: string): Record<string, unknown> | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) throw badInput(`'${what}' must be an object.`);
  return v;
}

function optionalBool(params: Record<string, unknown> | undefined, key: string, what: string): boolean | undefined {
  const v = params?.[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "boolean") throw badInput(`${what}: parameter '${key}' must be true or false.`);
  return v;
}

/** Splits a body into its JSON header and binary part by Inference-Header-Content-Length. */
function splitBody(body: Buffer, headerLength: string | string[] | undefined): { json: Buffer; binary: Buffer } {
  if (headerLength === undefined) return { json: body, binary: body.subarray(body.length) };
  const text = Array.isArray(headerLength) ? headerLength[0] : headerLength;
  if (!/^\d{1,15}$/.test(text.trim())) throw badInput(`Inference-Header-Content-Length must be a byte count; got '${text.slice(0, 40)}'.`);
  const n = Number(text.trim());
  if (n > body.length) throw badInput(`Inference-Header-Content-Length is ${n}, but the body has only ${body.length} bytes.`);
  return { json: body.subarray(0, n), binary: body.subarray(n) };
}

/** BYTES elements from their binary layout (4-byte little-endian length, then the bytes), exactly `count` of them. */
function decodeBinaryBytes(name: string, part: Buffer, count: number): BytesData {
  const out: BytesData = new Array(count);
  let pos = 0;
  for (let i = 0; i < count; i++) {
    if (pos + 4 > part.length) throw badInput(`Input '${name}': binary data ends inside the length prefix of element ${i} (of ${count}).`);
    const len = part.readUInt32LE(pos);
    pos += 4;
    if (len > part.length - pos) throw badInput(`Input '${name}': element ${i} claims ${len} bytes; only ${part.length - pos} remain in its binary data.`);
    out[i] = new Uint8Array(part.buffer, part.byteOffset + pos, len).slice();
    pos += len;
  }
  if (pos !== part.length) throw badInput(`Input '${name}': binary_data_size is ${part.length} bytes, but its ${count} elements take ${pos}.`);
  return out;
}

/** Decodes and validates an inference request against the model's signature and input policy. */
export function decodeOipRequest(body: Buffer | undefined, headerLength: string | string[] | undefined, meta: ModelMetadata, policy?: InputPolicy): OipRequest {
  if (!body || body.length === 0) throw badInput('The request body is empty: send {"inputs": [{"name", "shape", "datatype", "data"}]}.');
  const { json, binary } = splitBody(body, headerLength);
  let doc: unknown;
  try {
    doc = parseJsonLenient(json.toString("utf8"));
  } catch (err) {
    const hint = headerLength === undefined && body.includes(0) ? " (binary data needs the Inference-Header-Content-Length header)" : "";
    throw badInput(`Malformed JSON in the request${hint}: ${(err as Error).message}`);
  }
  if (!isObject(doc)) throw badInput("The request must be a JSON object with 'inputs'.");
  if (doc.id !== undefined && typeof doc.id !== "string") throw badInput("'id' must be a string.");
  const parameters = optionalObject(doc.parameters, "parameters");
  const binaryByDefault = optionalBool(parameters, "binary_data_output", "The request") ?? false;
  // A model whose inputs all come from elsewhere (a deployment's feature lookup) takes an empty list.
  if (!Array.isArray(doc.inputs) || (doc.inputs.length === 0 && meta.inputs.length > 0)) throw badInput(`'inputs' must be a non-empty array; model '${meta.name}' needs ${meta.inputs.map((i) => `'${i.name}'`).join(", ")}.`);

  let offset = 0;
  const inputs: Tensor[] = [];
  for (const raw of doc.inputs as unknown[]) {
    if (!isObject(raw)) throw badInput("Each input must be an object {name, shape, datatype, data}.");
    const spec = inputSpec(meta, raw.name);
    const datatype = checkDatatype(spec, raw.datatype);
    const { shape, count } = checkShape(spec, raw.shape);
    const params = optionalObject(raw.parameters, `input '${spec.name}' parameters`);
    const size = params?.binary_data_size;
    let data: TensorData;
    if (size !== undefined && size !== null) {
      if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) throw badInput(`Input '${spec.name}': binary_data_size must be a byte count.`);
      if (raw.data !== undefined) throw badInput(`Input '${spec.name}': give either 'data' or binary_data_size, not both.`);
      if (headerLength === undefined) throw badInput(`Input '${spec.name}' has binary_data_size but the request has no Inference-Header-Content-Length header.`);
      const left = binary.length - offset;
      if (size > left) throw badInput(`Input '${spec.name}': binary_data_size is ${size} bytes, but only ${left} bytes of binary data are left in the body (truncated request?).`);
      const part = binary.subarray(offset, offset + size);
      offset += size;
      data = decodeBinary(spec.name, datatype, shape, count, part);
    } else {
      data = decodeJsonData(spec.name, datatype, shape, count, raw.data);
    }
    const t: Tensor = { name: spec.name, datatype, shape, data };
    checkFinite(t, policy);
    inputs.push(t);
  }
  if (offset !== binary.length) throw badInput(`${binary.length - offset} bytes of binary data follow the last input that uses them (check each binary_data_size).`);

  let outputs: RequestedOutput[] | undefined;
  if (doc.outputs !== undefined && doc.outputs !== null) {
    if (!Array.isArray(doc.outputs)) throw badInput("'outputs' must be an array of {name, parameters}.");
    const seen = new Set<string>();
    outputs = (doc.outputs as unknown[]).map((o) => {
      if (!isObject(o)) throw badInput("Each requested output must be an object {name, parameters}.");
      const spec = outputSpec(meta, o.name);
      if (seen.has(spec.name)) throw badInput(`Output '${spec.name}' is requested more than once.`);
      seen.add(spec.name);
      const p = optionalObject(o.parameters, `output '${spec.name}' parameters`);
      if (p?.classification !== undefined) throw badInput(`Output '${spec.name}': the classification extension is not supported.`);
      return { name: spec.name, binary: optionalBool(p, "binary_data", `Output '${spec.name}'`) ?? binaryByDefault };
    });
  }
  return { id: doc.id as string | undefined, parameters, inputs: orderInputs(meta, inputs), outputs, binaryByDefault };
}

function decodeBinary(name: string, datatype: Datatype, shape: number[], count: number, part: Buffer): TensorData {
  if (datatype === "BYTES") return decodeBinaryBytes(name, part, count);
  const want = count * DATATYPE_INFO[datatype].bytes;
  if (part.length !== want) throw badInput(`Input '${name}': binary_data_size is ${part.length} bytes; shape ${describeShape(shape)} of ${datatype} takes ${want}.`);
  return fromLittleEndian(datatype, part, count);
}

export interface OipAnswer {
  body: Buffer | string;
  contentType: string;
  /** Set when outputs are in binary: the JSON header's byte length, for Inference-Header-Content-Length. */
  headerLength?: number;
}

/** The answer to an inference request: JSON, or a JSON header followed by the binary outputs' bytes. */
export function encodeOipAnswer(
  head: { model_name: string; model_version?: string; id: string; parameters?: Record<string, unknown> },
  outputs: readonly Tensor[],
  binary: readonly boolean[],
): OipAnswer {
  const parts: Uint8Array[] = [];
  const outs = outputs.map((t, i) => {
    const start = `{"name":${JSON.stringify(t.name)},"datatype":"${t.datatype}","shape":${JSON.stringify(t.shape)}`;
    if (!binary[i]) return `${start},"data":${flatJson(t)}}`;
    const bytes = toLittleEndian(t);
    parts.push(bytes);
    return `${start},"parameters":{"binary_data_size":${bytes.length}}}`;
  });
  let json = `{"model_name":${JSON.stringify(head.model_name)}`;
  if (head.model_version !== undefined) json += `,"model_version":${JSON.stringify(head.model_version)}`;
  json += `,"id":${JSON.stringify(head.id)}`;
  if (head.parameters !== undefined) json += `,"parameters":${JSON.stringify(head.parameters)}`;
  json += `,"outputs":[${outs.join(",")}]}`;
  if (!parts.length) return { body: json, contentType: "application/json" };
  const header = Buffer.from(json, "utf8");
  return {
    body: Buffer.concat([header, ...parts]),
    contentType: "application/octet-stream",
    headerLength: header.length,
  };
}

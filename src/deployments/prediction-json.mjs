// The prediction log's JSON encoding, in plain JavaScript so that the sink's worker thread
// (prediction-sink-worker.mjs) can load it without a TypeScript loader; typed in prediction-json.d.mts.

function jsonValue(v) {
  if (typeof v === "bigint") return v.toString();
  if (v instanceof Uint8Array) return Buffer.from(v).toString("base64");
  if (typeof v === "number" && !Number.isFinite(v)) return String(v);
  return v;
}

function replacer(_key, v) {
  if (v && typeof v === "object" && "head" in v && "datatype" in v) {
    const h = v.head;
    const out = { name: v.name, datatype: v.datatype, shape: v.shape };
    // Numbers as their little-endian bytes in base64: formatting 64 doubles as text cost ~15 µs a record.
    // Readers expand data_b64 back into numbers (prediction-log.ts expandTensors).
    if (ArrayBuffer.isView(h)) out.data_b64 = Buffer.from(h.buffer, h.byteOffset, h.byteLength).toString("base64");
    else out.data = Array.from(h, jsonValue);
    if (v.truncated) out.truncated = true;
    return out;
  }
  return typeof v === "bigint" ? v.toString() : v;
}

/**
 * JSON text of a record's inputs or outputs: tensor summaries become {name, datatype, shape, data_b64
 * (numeric types: the values' little-endian bytes) or data (BYTES), truncated?}.
 */
export function predictionJson(value) {
  return JSON.stringify(value ?? null, replacer);
}

/** A record as a prediction_log row's values, in the insert's column order. */
export function predictionValues(r) {
  return [r.time, r.requestId, r.deployment, r.variant, r.modelVersion, r.latencyMs, r.shadowOf ?? null, r.error ?? null, predictionJson(r.inputs), predictionJson(r.outputs)];
}

export const INSERT_PREDICTION =
  "insert into prediction_log (time, request_id, deployment, variant, model_version, latency_ms, shadow_of, error, inputs, outputs) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

import { fromHalfBits } from "../serving/fp16.js";

/**
 * Every prediction (request id, deployment, variant, inputs, outputs, latency) is handed to a bounded
 * buffer that never blocks or fails the request: when it is full the oldest entry is dropped and counted.
 * A consumer (the database sink below; monitoring later) drains it in batches on its own schedule.
 */
export interface PredictionRecord {
  time: number;
  requestId: string;
  deployment: string;
  variant: string;
  modelVersion: string;
  latencyMs: number;
  /** Tensor summaries (summarizeTensor) or other JSON-able values, turned into JSON when written. */
  inputs: unknown;
  outputs: unknown;
  shadowOf?: string;
  error?: string;
}

export interface PredictionLog {
  push(r: PredictionRecord): void;
  drain(max: number): PredictionRecord[];
  stats(): { buffered: number; dropped: number; pushed: number };
}

export function createPredictionLog(capacity = 10_000): PredictionLog {
  const ring: (PredictionRecord | undefined)[] = new Array(capacity);
  let head = 0;
  let size = 0;
  let dropped = 0;
  let pushed = 0;
  return {
    push(r) {
      pushed++;
      if (size === capacity) {
        head = (head + 1) % capacity;
        size--;
        dropped++;
      }
      ring[(head + size) % capacity] = r;
      size++;
    },
    drain(max) {
      const n = Math.min(max, size);
      const out: PredictionRecord[] = new Array(n);
      for (let i = 0; i < n; i++) {
        out[i] = ring[head] as PredictionRecord;
        ring[head] = undefined;
        head = (head + 1) % capacity;
      }
      size -= n;
      return out;
    },
    stats: () => ({ buffered: size, dropped, pushed }),
  };
}

/** How many values of each tensor the log keeps. */
export const LOG_VALUES = 64;

export interface TensorSummary {
  name: string;
  datatype: string;
  shape: number[];
  /** The first LOG_VALUES values, copied (a typed array or, for BYTES, strings/bytes). */
  head: ArrayLike<unknown>;
  truncated: boolean;
}

/**
 * A tensor as the prediction log keeps it: its shape and a copy of at most the first 64 values. Cheap
 * on the request path (one small typed-array copy); the JSON is built when the sink writes it.
 */
export function summarizeTensor(t: { name: string; datatype: string; shape: number[]; data: ArrayLike<unknown> }): TensorSummary {
  const d = t.data as ArrayLike<unknown> & { slice(start: number, end: number): ArrayLike<unknown> };
  const n = Math.min(LOG_VALUES, d.length);
  return { name: t.name, datatype: t.datatype, shape: t.shape, head: d.slice(0, n), truncated: d.length > n };
}

const ARRAYS: Record<string, (b: ArrayBuffer) => ArrayLike<number | bigint>> = {
  BOOL: (b) => new Uint8Array(b),
  UINT8: (b) => new Uint8Array(b),
  UINT16: (b) => new Uint16Array(b),
  UINT32: (b) => new Uint32Array(b),
  UINT64: (b) => new BigUint64Array(b),
  INT8: (b) => new Int8Array(b),
  INT16: (b) => new Int16Array(b),
  INT32: (b) => new Int32Array(b),
  INT64: (b) => new BigInt64Array(b),
  FP16: (b) => new Uint16Array(b),
  FP32: (b) => new Float32Array(b),
  FP64: (b) => new Float64Array(b),
};

function decodeValues(datatype: string, b64: string): unknown[] {
  const bytes = Buffer.from(b64, "base64");
  const make = ARRAYS[datatype];
  if (!make) return [];
  const copy = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  return Array.from(make(copy), (v) => {
    if (typeof v === "bigint") return v.toString();
    if (datatype === "BOOL") return v !== 0;
    if (datatype === "FP16") return fromHalfBits(v);
    return Number.isFinite(v) ? v : String(v);
  });
}

/** A stored record's inputs/outputs with every tensor's data_b64 expanded into `data` (numbers, or strings for 64-bit ints and non-finite floats). */
export function expandTensors(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(expandTensors);
  if (value && typeof value === "object") {
    const o = value as Record<string, unknown>;
    if (typeof o.data_b64 === "string" && typeof o.datatype === "string") {
      const { data_b64, ...rest } = o;
      return { ...rest, data: decodeValues(o.datatype, data_b64 as string) };
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(o)) out[k] = expandTensors(v);
    return out;
  }
  return value;
}

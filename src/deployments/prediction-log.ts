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
  /** Small JSON-able summaries; large tensors are cut by the caller. */
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

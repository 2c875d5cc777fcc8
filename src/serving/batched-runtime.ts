/**
 * A ModelRuntime behind a dynamic batcher: what both a deployment variant and `keel serve` run. Requests
 * that cannot share one onnxruntime call (other trailing dims, other outputs asked for) run as separate
 * groups of the same batch; a request without a batch dimension runs alone, outside the queue.
 */
import { createBatcher } from "./batcher.js";
import { monotonicMs } from "../core/clock.js";
import type { BatchInfo, Batcher } from "./batcher-api.js";
import type { ModelRuntime } from "./runtime.js";
import { batchKey, concatRows, rowCount, splitRows, type Tensor } from "./tensor.js";

export interface BatchingSettings {
  maxBatchSize: number;
  maxQueueDelayMs: number;
  preferredBatchSizes: readonly number[];
  maxQueueSize: number;
  /** A request's deadline when it brings none (Keel-Timeout-Ms): past it while queued, 503 and never run. */
  defaultTimeoutMs?: number;
}

/** Deployments' and `keel serve`'s defaults: 64 rows or 2 ms, whichever comes first; 1024 requests queued at most. */
export const DEFAULT_BATCHING: BatchingSettings = { maxBatchSize: 64, maxQueueDelayMs: 2, preferredBatchSizes: [], maxQueueSize: 1024, defaultTimeoutMs: 10_000 };

interface Job {
  inputs: Tensor[];
  outputs?: string[];
  key: string;
  rows: number;
}

export interface BatchedRuntime {
  readonly runtime: ModelRuntime;
  infer(inputs: Tensor[], opts: { outputs?: string[]; deadline?: number }): Promise<Tensor[]>;
  /** Requests waiting for a batch. */
  queueDepth(): number;
  /** The queue is full: the next request would be refused. */
  saturated(): boolean;
  update(settings: BatchingSettings): void;
  /** Stops taking requests, runs the queued ones, then frees the session. */
  retire(): Promise<void>;
}

export function batchedRuntime(runtime: ModelRuntime, settings: BatchingSettings, opts: { name: string; onBatch?: (b: BatchInfo) => void }): BatchedRuntime {
  let timeoutMs = settings.defaultTimeoutMs;
  let maxQueueSize = settings.maxQueueSize;
  const batcher: Batcher<Job, Tensor[]> = createBatcher<Job, Tensor[]>({
    maxBatchSize: settings.maxBatchSize,
    maxQueueDelayMs: settings.maxQueueDelayMs,
    preferredBatchSizes: settings.preferredBatchSizes,
    maxQueueSize: settings.maxQueueSize,
    // On the event loop's thread onnxruntime-node starts each run from setImmediate: one batch at a time
    // would mean one run per event-loop turn, and under overload a turn is long (hundreds of requests read
    // and refused), so goodput fell to a tenth of capacity. Up to four batches are dispatched together when
    // that many are queued; they still run one after the other. On a worker thread, two: one computing,
    // the next one ready, while the queue fills the one after into a full batch.
    maxConcurrentBatches: runtime.onWorkerThread ? 2 : 4,
    name: opts.name,
    rowsOf: (j) => j.rows,
    onBatch: opts.onBatch,
    async execute(batch) {
      if (batch.length === 1) return [await runtime.run(batch[0].inputs, batch[0].outputs)];
      const results: Tensor[][] = new Array(batch.length);
      const groups = new Map<string, number[]>();
      for (let i = 0; i < batch.length; i++) {
        const j = batch[i];
        const k = j.outputs ? `${j.key}|${j.outputs.join(",")}` : j.key;
        const g = groups.get(k);
        if (g) g.push(i);
        else groups.set(k, [i]);
      }
      for (const idx of groups.values()) {
        const jobs = idx.map((i) => batch[i]);
        const out = await runtime.run(jobs.length === 1 ? jobs[0].inputs : concatRows(jobs.map((j) => j.inputs)), jobs[0].outputs);
        const split = jobs.length === 1 ? [out] : splitRows(out, jobs.map((j) => j.rows));
        for (let n = 0; n < idx.length; n++) results[idx[n]] = split[n];
      }
      return results;
    },
  });
  return {
    runtime,
    infer(inputs, o) {
      let rows: number;
      try {
        rows = inputs.length ? rowCount(inputs[0]) : 0;
      } catch {
        // No batch dimension (a scalar input): it cannot share a run.
        return runtime.run(inputs, o.outputs);
      }
      const deadline = o.deadline ?? (timeoutMs !== undefined ? monotonicMs() + timeoutMs : undefined);
      return batcher.submit({ inputs, outputs: o.outputs, key: batchKey(inputs), rows }, { deadline });
    },
    queueDepth: () => batcher.depth().requests,
    saturated: () => batcher.depth().requests >= maxQueueSize,
    update: (s) => {
      batcher.update({ maxBatchSize: s.maxBatchSize, maxQueueDelayMs: s.maxQueueDelayMs, preferredBatchSizes: s.preferredBatchSizes, maxQueueSize: s.maxQueueSize });
      timeoutMs = s.defaultTimeoutMs;
      maxQueueSize = s.maxQueueSize;
    },
    async retire() {
      await batcher.drain();
      await runtime.dispose();
    },
  };
}

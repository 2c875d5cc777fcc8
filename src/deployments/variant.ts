import { createBatcher } from "../serving/batcher.js";
import type { Batcher } from "../serving/batcher-api.js";
import type { ModelRuntime } from "../serving/runtime.js";
import { batchKey, concatRows, rowCount, splitRows, type Tensor } from "../serving/tensor.js";
import { DEFAULTS, type DeploymentSpec, type VariantSpec } from "./spec.js";

/** One request's share of a batch: its inputs, the outputs it wants, and what it can be batched with. */
interface Job {
  inputs: Tensor[];
  outputs?: string[];
  key: string;
  rows: number;
}

export interface BatchStats {
  size: number;
  rows: number;
  queueWaitsMs: number[];
  computeMs: number;
  ok: boolean;
}

/**
 * A variant as loaded: one registered model version in an onnxruntime session, behind its own dynamic
 * batcher. Requests that cannot share a batch (other dims, other outputs asked for) are run in separate
 * groups of the same batch; a request without a batch dimension runs alone.
 */
export interface LoadedVariant {
  readonly spec: VariantSpec;
  readonly modelVersion: string;
  readonly runtime: ModelRuntime;
  infer(inputs: Tensor[], opts: { outputs?: string[]; deadline?: number }): Promise<Tensor[]>;
  queueDepth(): number;
  reconfigure(spec: DeploymentSpec): void;
  /** Stops taking requests, finishes the queued ones, then frees the session. */
  retire(): Promise<void>;
}

export function loadedVariant(spec: VariantSpec, modelVersion: string, runtime: ModelRuntime, deployment: DeploymentSpec, onBatch?: (s: BatchStats) => void): LoadedVariant {
  const settings = (d: DeploymentSpec) => ({
    maxBatchSize: d.batching?.max_batch_size ?? DEFAULTS.batching.max_batch_size,
    maxQueueDelayMs: d.batching?.max_queue_delay_ms ?? DEFAULTS.batching.max_queue_delay_ms,
    preferredBatchSizes: d.batching?.preferred_batch_sizes ?? [],
    maxQueueSize: d.queue?.max_size ?? DEFAULTS.queue.max_size,
  });
  const batcher: Batcher<Job, Tensor[]> = createBatcher<Job, Tensor[]>({
    ...settings(deployment),
    name: `${deployment.name}/${spec.name}`,
    rowsOf: (j) => j.rows,
    onBatch,
    async execute(batch) {
      const results: Tensor[][] = new Array(batch.length);
      const groups = new Map<string, number[]>();
      batch.forEach((j, i) => {
        const k = `${j.key}|${j.outputs?.join(",") ?? "*"}`;
        const g = groups.get(k);
        if (g) g.push(i);
        else groups.set(k, [i]);
      });
      for (const idx of groups.values()) {
        const jobs = idx.map((i) => batch[i]);
        const out = await runtime.run(concatRows(jobs.map((j) => j.inputs)), jobs[0].outputs);
        const split = jobs.length === 1 ? [out] : splitRows(out, jobs.map((j) => j.rows));
        idx.forEach((i, n) => {
          results[i] = split[n];
        });
      }
      return results;
    },
  });
  return {
    spec,
    modelVersion,
    runtime,
    async infer(inputs, opts) {
      let rows: number;
      try {
        rows = inputs.length ? rowCount(inputs[0]) : 0;
      } catch {
        return runtime.run(inputs, opts.outputs);
      }
      return batcher.submit({ inputs, outputs: opts.outputs, key: batchKey(inputs), rows }, { deadline: opts.deadline });
    },
    queueDepth: () => batcher.depth().requests,
    reconfigure: (d) => batcher.update(settings(d)),
    async retire() {
      await batcher.drain();
      await runtime.dispose();
    },
  };
}

import type { BatchInfo } from "../serving/batcher-api.js";
import { type BatchingSettings, batchedRuntime } from "../serving/batched-runtime.js";
import type { ModelRuntime } from "../serving/runtime.js";
import type { Tensor } from "../serving/tensor.js";
import { DEFAULTS, type DeploymentSpec, type VariantSpec } from "./spec.js";

/**
 * A variant as loaded: one registered model version in an onnxruntime session, behind its own dynamic
 * batcher (src/serving/batched-runtime.ts) configured by the deployment's `batching` and `queue`.
 */
export interface LoadedVariant {
  readonly spec: VariantSpec;
  readonly modelVersion: string;
  readonly runtime: ModelRuntime;
  infer(inputs: Tensor[], opts: { outputs?: string[]; deadline?: number }): Promise<Tensor[]>;
  queueDepth(): number;
  saturated(): boolean;
  reconfigure(spec: DeploymentSpec): void;
  /** Stops taking requests, finishes the queued ones, then frees the session. */
  retire(): Promise<void>;
}

export function batchingOf(d: DeploymentSpec): BatchingSettings {
  return {
    maxBatchSize: d.batching?.max_batch_size ?? DEFAULTS.batching.max_batch_size,
    maxQueueDelayMs: d.batching?.max_queue_delay_ms ?? DEFAULTS.batching.max_queue_delay_ms,
    preferredBatchSizes: d.batching?.preferred_batch_sizes ?? [],
    maxQueueSize: d.queue?.max_size ?? DEFAULTS.queue.max_size,
    defaultTimeoutMs: d.queue?.timeout_ms ?? DEFAULTS.queue.timeout_ms,
  };
}

export function loadedVariant(spec: VariantSpec, modelVersion: string, runtime: ModelRuntime, deployment: DeploymentSpec, onBatch?: (b: BatchInfo) => void): LoadedVariant {
  const batched = batchedRuntime(runtime, batchingOf(deployment), { name: `${deployment.name}/${spec.name}`, onBatch });
  return {
    spec,
    modelVersion,
    runtime,
    infer: batched.infer,
    queueDepth: batched.queueDepth,
    saturated: batched.saturated,
    reconfigure: (d) => batched.update(batchingOf(d)),
    retire: batched.retire,
  };
}

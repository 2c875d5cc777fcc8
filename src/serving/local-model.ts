/**
 * A ServedModel over one ModelRuntime: what `keel serve model.onnx` serves. With batching settings the
 * runtime sits behind a dynamic batcher (src/serving/batched-runtime.ts), as a deployment variant does;
 * without, each request runs on its own.
 */
import { type BatchedRuntime, type BatchingSettings, batchedRuntime } from "./batched-runtime.js";
import { monotonicMs } from "../core/clock.js";
import { unavailable } from "./errors.js";
import type { InferOptions, InputPolicy, ModelMetadata, ServedModel } from "./model.js";
import type { ModelRuntime } from "./runtime.js";
import type { Tensor } from "./tensor.js";

export const ONNX_PLATFORM = "onnxruntime_onnx";

export interface LocalModelOptions {
  name: string;
  /** Version label(s) the model answers to (default ["1"]). */
  versions?: string[];
  inputPolicy?: InputPolicy;
  /** Dynamic batching; absent: one onnxruntime run per request. */
  batching?: BatchingSettings;
}

export interface LocalModel extends ServedModel {
  /** Finishes the queued requests and frees the session. */
  close(): Promise<void>;
}

/** Runs `runtime` per request, or behind a batcher when `batching` is given. */
export function runner(runtime: ModelRuntime, name: string, batching?: BatchingSettings): Pick<BatchedRuntime, "infer" | "retire"> & { saturated?(): boolean } {
  if (batching) return batchedRuntime(runtime, batching, { name });
  return {
    infer: (inputs, o) => {
      if (o.deadline !== undefined && monotonicMs() > o.deadline) return Promise.reject(unavailable("The request's deadline (Keel-Timeout-Ms) passed before the model could run it."));
      return runtime.run(inputs, o.outputs);
    },
    retire: () => runtime.dispose(),
  };
}

export function localModel(runtime: ModelRuntime, opts: LocalModelOptions): LocalModel {
  const versions = opts.versions ?? ["1"];
  const meta: ModelMetadata = { name: opts.name, versions, platform: ONNX_PLATFORM, inputs: runtime.inputs, outputs: runtime.outputs };
  const run = runner(runtime, opts.name, opts.batching);
  return {
    name: opts.name,
    versions,
    inputPolicy: opts.inputPolicy,
    metadata: () => meta,
    ready: () => true,
    infer: (inputs: Tensor[], o: InferOptions) => run.infer(inputs, { outputs: o.outputs, deadline: o.deadline }),
    saturated: () => run.saturated?.() ?? false,
    close: () => run.retire(),
  };
}

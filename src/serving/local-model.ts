/**
 * A ServedModel over one ModelRuntime, run per request (no batching): what `keel serve model.onnx` serves,
 * and the unit the deployment layer puts a batcher and a router in front of.
 */
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
}

export function localModel(runtime: ModelRuntime, opts: LocalModelOptions): ServedModel {
  const versions = opts.versions ?? ["1"];
  const meta: ModelMetadata = { name: opts.name, versions, platform: ONNX_PLATFORM, inputs: runtime.inputs, outputs: runtime.outputs };
  return {
    name: opts.name,
    versions,
    inputPolicy: opts.inputPolicy,
    metadata: () => meta,
    ready: () => true,
    infer: async (inputs: Tensor[], o: InferOptions) => {
      if (o.deadline !== undefined && Date.now() > o.deadline) throw unavailable("The request's deadline (Keel-Timeout-Ms) passed before the model could run it.");
      return runtime.run(inputs, o.outputs);
    },
  };
}

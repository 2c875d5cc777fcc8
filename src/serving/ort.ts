/**
 * onnxruntime-node, loaded on first use: a native addon with a 20 MB shared library that `keel --help`,
 * `keel server` without deployments and every maintenance command should not pay for.
 */
import type { OrtModule } from "./tensor.js";

let loading: Promise<OrtModule> | undefined;

export function loadOrt(): Promise<OrtModule> {
  loading ??= import("onnxruntime-node").then(
    (m) => ((m as unknown as { default?: OrtModule }).default ?? m) as OrtModule,
    (err: Error) => {
      loading = undefined;
      throw new Error(`Cannot load onnxruntime-node (the ONNX runtime Keel serves models with): ${err.message}`);
    },
  );
  return loading;
}

/** Model serving: the ONNX runtime, tensors, the Open Inference Protocol v2 and MLflow scoring over ServedModel. */
export { badInput, mlflowErrorBody, modelNotFound, oipErrorBody, overloaded, ServingError, toServingError, unauthenticated, unavailable } from "./errors.js";
export { type LocalModelOptions, localModel, ONNX_PLATFORM } from "./local-model.js";
export { mlflowScoringRoutes, type ScoringRoutesOptions, sendMlflowError } from "./mlflow-routes.js";
export type { InferOptions, InputPolicy, ModelMetadata, ModelRepository, ServedModel, TensorSpec } from "./model.js";
export { staticRepository } from "./model.js";
export { findModel, OIP_EXTENSIONS, oipRoutes, type OipRoutesOptions, sendOipError } from "./oip-routes.js";
export { DEFAULT_MAX_BODY_BYTES } from "./raw-body.js";
export { inferOptions, TIMEOUT_HEADER } from "./request-options.js";
export { type ModelSource, ModelLoadError, ModelRuntime, type RuntimeOptions, type WarmupResult } from "./runtime.js";
export { buildServeApp, type ServeAppOptions } from "./serve-app.js";
export {
  batchKey,
  concatRows,
  DATATYPES,
  type Datatype,
  elementCount,
  fromOrtTensor,
  rowCount,
  splitRows,
  toOrtTensor,
  type Tensor,
  type TensorData,
} from "./tensor.js";

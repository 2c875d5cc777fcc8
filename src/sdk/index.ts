export {
  ARTIFACTS_API,
  credentialsFromEnv,
  encodePath,
  filterString,
  type HttpMethod,
  KEEL_API,
  KeelClient,
  type KeelClientOptions,
  MLFLOW_API,
  metricNumber,
  proxiedArtifactPath,
  resolveServerUrl,
  wireNumber,
} from "./client.js";
export { KeelApiError, KeelNetworkError } from "./errors.js";
export type * from "./types.js";

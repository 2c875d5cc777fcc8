/**
 * Wire shapes the SDK reads and writes. Tracking and registry entities are the server's own (MLflow's
 * proto3 JSON); the rest are Keel's API under /api/keel/v1. Type-only imports of modules with no runtime
 * dependencies, so the SDK stays browser-safe.
 */
import type { DeploymentStats, HistogramSnapshot, VariantStats } from "../deployments/stats.js";
import type { AuditPage, AuditRecord } from "../governance/audit-query.js";
import type { ModelAlias, ModelVersion, RegisteredModel, RegistryEvent, Tag } from "../registry/schema.js";
import type { Dataset, DatasetInput, DatasetSummary, Experiment, KeyValue, RunInfo, ViewType } from "../tracking/schema.js";

export type {
  AuditPage,
  AuditRecord,
  Dataset,
  DatasetInput,
  DatasetSummary,
  DeploymentStats,
  Experiment,
  HistogramSnapshot,
  KeyValue,
  ModelAlias,
  ModelVersion,
  RegisteredModel,
  RegistryEvent,
  RunInfo,
  Tag,
  VariantStats,
  ViewType,
};

/** A metric point as JSON carries it: NaN and ±Infinity travel as the strings "NaN", "Infinity", "-Infinity". */
export interface WireMetric {
  key: string;
  value: number | string;
  timestamp: number;
  step: number;
}

export interface WireRun {
  info: RunInfo;
  data: { metrics?: WireMetric[]; params?: KeyValue[]; tags?: KeyValue[] };
  inputs?: { dataset_inputs?: DatasetInput[] };
}

export interface ComparedSeries {
  run_id: string;
  metric_key: string;
  total_points: number;
  downsampled: boolean;
  points: { step: number; timestamp: number; value: number | string }[];
}

/** One page of a search: the items and the token of the next page (absent on the last). */
export interface Page<T> {
  items: T[];
  nextPageToken?: string;
}

/** A directory entry of the artifact proxy; `path` is the whole proxy path (`<exp>/<run>/artifacts/…`), `name` its last segment. */
export interface ArtifactFile {
  path: string;
  name: string;
  is_dir: boolean;
  file_size?: number;
}

export interface TransferProgress {
  /** Bytes done so far, including any already present before a resumed transfer began. */
  loaded: number;
  /** Bytes in all, when known. */
  total?: number;
}
export type ProgressCallback = (p: TransferProgress) => void;

/** What an upload accepts: a web stream (Node's fetch and browsers stream it), a Blob/File, or bytes. */
export type UploadBody = ReadableStream<Uint8Array> | Blob | Uint8Array | ArrayBuffer | string;

export interface MultipartCredential {
  url: string;
  part_number: number;
  headers?: Record<string, string>;
}

export interface UploadedPart {
  part_number: number;
  etag: string;
  size?: number;
}

// ---- Keel extensions ----------------------------------------------------------------------------

export interface EventsPage {
  events: RegistryEvent[];
  next_after: number;
}

export interface SignatureValue {
  name: string | null;
  dtype: string;
  datatype: string | null;
  shape: (number | string | null)[] | null;
  kind?: string;
  mlflow_type?: string;
  required?: boolean;
}

export interface VersionSignature {
  name: string;
  version: string;
  captured_timestamp: number;
  source: "onnx" | "mlmodel" | "none";
  file?: string;
  error?: string;
  inputs: SignatureValue[];
  outputs: SignatureValue[];
  params?: unknown[];
  onnx?: { ir_version: number; opset: number | null; opset_imports: { domain: string; version: number }[]; producer: { name: string; version: string } };
}

export interface LineageRun {
  run_id: string;
  run_name: string;
  experiment_id: string;
  experiment_name?: string;
  status: string;
  lifecycle_stage: string;
  start_time: number;
  end_time?: number;
}

export interface LineageDataset {
  name: string;
  digest: string;
  source_type: string;
  source: string;
  context?: string;
}

export interface LineageVersion {
  name: string;
  version: string;
  source: string;
  run_id: string;
  current_stage: string;
  creation_timestamp: number;
}

export interface Lineage {
  model_version?: LineageVersion;
  run?: LineageRun | null;
  dataset?: { digest: string; name?: string };
  datasets?: LineageDataset[];
  runs?: (LineageRun & { datasets: LineageDataset[] })[];
  model_versions?: LineageVersion[];
  next_page_token?: string;
}

// ---- Governance ---------------------------------------------------------------------------------

export type PermissionLevel = "READ" | "EDIT" | "MANAGE" | "NO_PERMISSIONS";

export interface Whoami {
  username: string;
  is_admin: boolean;
  authenticated_by: string;
}

export interface User {
  id: string;
  username: string;
  is_admin: boolean;
  creation_time: number;
}

export interface UserDetail {
  user: User;
  experiment_permissions: { experiment_id: string; permission: PermissionLevel }[];
  registered_model_permissions: { model_id: string; permission: PermissionLevel }[];
}

export interface Group {
  name: string;
  members: string[];
}

export interface ApiToken {
  id: string;
  name: string;
  prefix: string;
  creation_time: number;
  expiry_time?: number;
  revoked_time?: number;
  last_used_time?: number;
}

export interface ResourceAccess {
  resource: { type: string; id: string };
  default_permission?: PermissionLevel;
  grants: { principal_type: string; principal?: string; permission: PermissionLevel }[];
  users: { username: string; permission: PermissionLevel; source: string }[];
}


export interface AuditVerification {
  ok: boolean;
  checked: number;
  problem?: { seq: number; reason: string };
}

/** A deployment as sent to POST /api/keel/v1/deployments (see src/deployments/spec.ts for every field). */
export interface DeploymentSpecInput {
  name: string;
  variants: { name?: string; model: string; alias?: string; version?: number; weight?: number }[];
  shadow?: { variant: string; fraction?: number };
  sticky?: { header: string };
  batching?: { max_batch_size?: number; max_queue_delay_ms?: number; preferred_batch_sizes?: number[] };
  queue?: { max_size?: number; timeout_ms?: number };
  cache?: { max_entries: number; ttl_s: number };
  features?: { table: string; key_column: string; columns: string[]; input: string };
  /** Which predictions are logged: all by default; `enabled: false` or a `sample_rate` below 1 logs fewer. */
  prediction_log?: { enabled?: boolean; sample_rate?: number };
  /** onnxruntime threads per session; worker_thread runs the session off the event loop's thread (for slow models). */
  runtime?: { intra_op_threads?: number; inter_op_threads?: number; worker_thread?: boolean };
}

/** A deployment as the server reports it: its spec and, per variant, the version served and readiness. */
export interface Deployment {
  name: string;
  spec: DeploymentSpecInput;
  created_by: string;
  creation_time: number;
  last_updated_time: number;
  variants: {
    name: string;
    model: string;
    alias?: string;
    version?: string;
    weight: number;
    shadow: boolean;
    ready: boolean;
    error?: string;
    queue_depth: number;
  }[];
}

/** An Open Inference Protocol v2 tensor in JSON (data flat, row-major). */
export interface OipTensor {
  name: string;
  datatype: string;
  shape: number[];
  data: (number | string | boolean)[];
}

export interface OipInferResponse {
  model_name: string;
  model_version?: string;
  id?: string;
  outputs: OipTensor[];
}

/** A tensor as the prediction log keeps it: shape and (at most) the first 64 values. */
export interface LoggedTensor {
  name: string;
  datatype: string;
  shape: number[];
  data: unknown[];
  truncated?: boolean;
}

/** One logged prediction. A shadow's entry names the variant it mirrored (`shadow_of`) and how far its answer was from it. */
export interface PredictionEntry {
  id: number;
  time: number;
  request_id: string;
  deployment: string;
  variant: string;
  model_version: string;
  latency_ms: number;
  shadow_of: string | null;
  error: string | null;
  inputs: LoggedTensor[] | null;
  /** A shadow's outputs: `{ tensors, max_abs_diff }` (a number, or "incomparable" when shapes or types differ). */
  outputs: LoggedTensor[] | { tensors: LoggedTensor[]; max_abs_diff: number | "incomparable" } | null;
}

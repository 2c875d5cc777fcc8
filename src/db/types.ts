import type { Generated } from "kysely";

/** Table shapes shared by both dialects. Times are epoch ms (bigint columns, JS numbers). */
export interface ExperimentsTable {
  experiment_id: Generated<number>;
  name: string;
  artifact_location: string;
  lifecycle_stage: string;
  creation_time: number;
  last_update_time: number;
  deleted_time: number | null;
}
export interface ExperimentTagsTable {
  experiment_id: number;
  key: string;
  value: string;
}
export interface RunsTable {
  run_uuid: string;
  experiment_id: number;
  name: string;
  user_id: string;
  status: string;
  start_time: number;
  end_time: number | null;
  lifecycle_stage: string;
  artifact_uri: string;
  deleted_time: number | null;
}
export interface MetricsTable {
  run_uuid: string;
  key: string;
  step: number;
  timestamp: number;
  value: number;
  /** NaN is stored as value 0 with is_nan 1: SQLite turns NaN into NULL, and NULL breaks the primary key. */
  is_nan: number;
}
export type LatestMetricsTable = MetricsTable;
/** Every metric, param and tag key an experiment's runs have logged (migration 009), for autocomplete. */
export interface ExperimentKeysTable {
  experiment_id: number;
  kind: "metric" | "param" | "tag";
  key: string;
}
/** Chart summaries of metric histories (src/tracking/metric-tiers.ts), one row per run, key, tier and step bucket. */
export interface MetricTiersTable {
  run_uuid: string;
  key: string;
  tier: number;
  bucket: number;
  n: number;
  first_step: number;
  first_ts: number;
  first_value: number;
  first_nan: number;
  last_step: number;
  last_ts: number;
  last_value: number;
  last_nan: number;
  /** The lowest non-NaN value's point (and the highest's below); null when every point of the bucket is NaN. */
  min_step: number | null;
  min_ts: number | null;
  min_value: number | null;
  max_step: number | null;
  max_ts: number | null;
  max_value: number | null;
  /** The first NaN point; null when the bucket has none. */
  nan_step: number | null;
  nan_ts: number | null;
}
export interface KeyValueTable {
  run_uuid: string;
  key: string;
  value: string;
}
export interface DatasetsTable {
  dataset_uuid: string;
  experiment_id: number;
  name: string;
  digest: string;
  source_type: string;
  source: string;
  schema: string | null;
  profile: string | null;
}
export interface InputsTable {
  run_uuid: string;
  dataset_uuid: string;
}
export interface InputTagsTable {
  run_uuid: string;
  dataset_uuid: string;
  key: string;
  value: string;
}

/** Model registry. A registered model has a surrogate id so a rename touches one row, not every version. */
export interface RegisteredModelsTable {
  model_id: Generated<number>;
  name: string;
  description: string;
  user_id: string | null;
  creation_time: number;
  last_updated_time: number;
  /** Highest version number ever issued: deleted versions' numbers are never reused. */
  last_version: number;
}
export interface RegisteredModelTagsTable {
  model_id: number;
  key: string;
  value: string;
}
export interface ModelVersionsTable {
  model_id: number;
  version: number;
  creation_time: number;
  last_updated_time: number;
  description: string;
  user_id: string | null;
  current_stage: string;
  /** The source URI as registered (what get-download-uri answers). */
  source: string;
  /** The artifact-store path the source resolved to when registered (for serving and lineage). */
  storage_path: string;
  run_id: string;
  run_link: string;
  status: string;
  status_message: string | null;
}
export interface ModelVersionTagsTable {
  model_id: number;
  version: number;
  key: string;
  value: string;
}
export interface RegisteredModelAliasesTable {
  model_id: number;
  alias: string;
  version: number;
}
/** A version's signature as captured at registration (migration 005). */
export interface ModelVersionSignaturesTable {
  model_id: number;
  version: number;
  /** "onnx" | "mlmodel" | "none". */
  source: string;
  /** JSON object text: the ModelSignature (registry/model-signature.ts). */
  signature: string;
  captured_time: number;
}
/** Registry changes in commit order: the feed behind /api/keel/v1/events (and, later, webhooks). */
export interface RegistryEventsTable {
  seq: Generated<number>;
  time: number;
  type: string;
  model_name: string;
  version: number | null;
  alias: string | null;
  /** JSON object text. */
  payload: string;
}
/** Governance (migration 004). */
export interface UsersTable {
  user_id: Generated<number>;
  username: string;
  /** scrypt$N$r$p$salt$hash, or null for a user who signs in with tokens only. */
  password_hash: string | null;
  is_admin: number;
  creation_time: number;
}
export interface UserGroupsTable {
  group_id: Generated<number>;
  name: string;
  creation_time: number;
}
export interface GroupMembersTable {
  group_id: number;
  user_id: number;
}
export interface ApiTokensTable {
  token_id: Generated<number>;
  user_id: number;
  name: string;
  /** SHA-256 hex of the secret; the secret itself is shown once and never stored. */
  digest: string;
  /** The first characters of the secret, so a user can tell their tokens apart. */
  prefix: string;
  creation_time: number;
  expiry_time: number | null;
  revoked_time: number | null;
  last_used_time: number | null;
}
export interface ExperimentPermissionsTable {
  experiment_id: number;
  principal_kind: string;
  principal_id: number;
  permission: string;
}
export interface ModelPermissionsTable {
  model_id: number;
  principal_kind: string;
  principal_id: number;
  permission: string;
}
export interface AuditLogTable {
  seq: number;
  time: number;
  actor: string;
  action: string;
  resource: string;
  /** JSON object text. */
  summary: string;
  request_id: string;
  prev_hash: string;
  hash: string;
}
/** Webhooks (migration 006). */
export interface WebhooksTable {
  webhook_id: Generated<number>;
  name: string;
  url: string;
  /** HMAC-SHA256 key for the signature header. */
  secret: string;
  /** JSON array of event types, or ["*"]. */
  events: string;
  model_name: string | null;
  active: number;
  /** Last registry event seq this webhook has looked at. */
  cursor: number;
  created_by: string;
  creation_time: number;
}
export interface WebhookDeliveriesTable {
  delivery_id: Generated<number>;
  webhook_id: number;
  event_seq: number;
  body: string;
  /** pending | delivered | failed */
  status: string;
  attempts: number;
  next_attempt_time: number;
  locked_until: number;
  creation_time: number;
  finished_time: number | null;
}
export interface WebhookAttemptsTable {
  delivery_id: number;
  attempt: number;
  time: number;
  duration_ms: number;
  status_code: number | null;
  error: string | null;
  response_excerpt: string | null;
}
/** Deployments (migration 007). */
export interface DeploymentsTable {
  name: string;
  /** JSON DeploymentSpec. */
  spec: string;
  generation: number;
  created_by: string;
  creation_time: number;
  last_updated_time: number;
}
export interface PredictionLogTable {
  id: Generated<number>;
  time: number;
  request_id: string;
  deployment: string;
  variant: string;
  model_version: string;
  latency_ms: number;
  shadow_of: string | null;
  error: string | null;
  inputs: string;
  outputs: string;
}

export interface DB {
  experiments: ExperimentsTable;
  experiment_tags: ExperimentTagsTable;
  runs: RunsTable;
  metrics: MetricsTable;
  latest_metrics: LatestMetricsTable;
  metric_tiers: MetricTiersTable;
  experiment_keys: ExperimentKeysTable;
  params: KeyValueTable;
  tags: KeyValueTable;
  datasets: DatasetsTable;
  inputs: InputsTable;
  input_tags: InputTagsTable;
  registered_models: RegisteredModelsTable;
  registered_model_tags: RegisteredModelTagsTable;
  model_versions: ModelVersionsTable;
  model_version_tags: ModelVersionTagsTable;
  registered_model_aliases: RegisteredModelAliasesTable;
  registry_events: RegistryEventsTable;
  model_version_signatures: ModelVersionSignaturesTable;
  users: UsersTable;
  user_groups: UserGroupsTable;
  group_members: GroupMembersTable;
  api_tokens: ApiTokensTable;
  experiment_permissions: ExperimentPermissionsTable;
  model_permissions: ModelPermissionsTable;
  audit_log: AuditLogTable;
  webhooks: WebhooksTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_attempts: WebhookAttemptsTable;
  deployments: DeploymentsTable;
  prediction_log: PredictionLogTable;
}

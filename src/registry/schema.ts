/**
 * MLflow model registry entities as they travel on the wire. Shapes follow MLflow 2.10's server (see the
 * recorded client session in shared/contracts): versions are strings, times epoch ms, empty lists and
 * unset optional fields are left out, while a version's `description` and `run_link` are always present
 * (MLflow's handler stores the proto default "").
 */
export interface Tag {
  key: string;
  value: string;
}

export const STAGES = ["None", "Staging", "Production", "Archived"] as const;
export type Stage = (typeof STAGES)[number];
/** Stages get-latest-versions reports when asked for none, and archive_existing_versions may archive from. */
export const ACTIVE_STAGES: readonly Stage[] = ["Staging", "Production"];

export interface ModelVersion {
  name: string;
  version: string;
  creation_timestamp: number;
  last_updated_timestamp: number;
  user_id?: string;
  current_stage: string;
  description: string;
  source: string;
  run_id: string;
  status: "READY";
  status_message?: string;
  tags?: Tag[];
  run_link: string;
  /** Only where MLflow fills them: single-version answers, not searches or a model's latest_versions. */
  aliases?: string[];
}

export interface ModelAlias {
  alias: string;
  version: string;
}

export interface RegisteredModel {
  name: string;
  creation_timestamp: number;
  last_updated_timestamp: number;
  user_id?: string;
  description?: string;
  latest_versions?: ModelVersion[];
  tags?: Tag[];
  aliases?: ModelAlias[];
}

export const EVENT_TYPES = [
  "model_created",
  "model_renamed",
  "model_deleted",
  "version_created",
  "version_deleted",
  "stage_changed",
  "alias_set",
  "alias_deleted",
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** One registry change, in commit order. `payload` holds the details a consumer needs to act without a read. */
export interface RegistryEvent {
  seq: number;
  time: number;
  type: EventType;
  name: string;
  version?: string;
  alias?: string;
  payload: Record<string, unknown>;
}

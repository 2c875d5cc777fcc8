/**
 * MLflow tracking entities as they travel on the wire (proto3 JSON: int64 times as numbers, ids as
 * strings, empty repeated fields omitted).
 */
export interface KeyValue {
  key: string;
  value: string;
}

export interface Experiment {
  experiment_id: string;
  name: string;
  artifact_location: string;
  lifecycle_stage: string;
  last_update_time: number;
  creation_time: number;
  tags?: KeyValue[];
}

export type RunStatus = "RUNNING" | "SCHEDULED" | "FINISHED" | "FAILED" | "KILLED";
export const RUN_STATUSES: readonly RunStatus[] = ["RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"];

export interface RunInfo {
  run_uuid: string;
  experiment_id: string;
  run_name: string;
  user_id: string;
  status: string;
  start_time: number;
  end_time?: number;
  artifact_uri: string;
  lifecycle_stage: string;
  run_id: string;
}

/** A metric point. `value` is a number; NaN/±Infinity become strings only when serialised (see wireValue). */
export interface Metric {
  key: string;
  value: number;
  timestamp: number;
  step: number;
}

export interface Dataset {
  name: string;
  digest: string;
  source_type: string;
  source: string;
  schema?: string;
  profile?: string;
}

export interface DatasetInput {
  tags?: KeyValue[];
  dataset: Dataset;
}

export interface Run {
  info: RunInfo;
  data: { metrics: Metric[]; params: KeyValue[]; tags: KeyValue[] };
  inputs: { dataset_inputs: DatasetInput[] };
}

export type ViewType = "ACTIVE_ONLY" | "DELETED_ONLY" | "ALL";

export interface DatasetSummary {
  experiment_id: string;
  name: string;
  digest: string;
  context?: string;
}

/** JSON has no NaN/Infinity: MLflow sends them as strings, and its client expects the same back. */
export function wireValue(v: number): number | string {
  if (Number.isFinite(v)) return v;
  if (Number.isNaN(v)) return "NaN";
  return v > 0 ? "Infinity" : "-Infinity";
}

export function wireMetric(m: Metric): { key: string; value: number | string; timestamp: number; step: number } {
  return { key: m.key, value: wireValue(m.value), timestamp: m.timestamp, step: m.step };
}

/** Proto3 JSON omits empty repeated fields; the MLflow client copes either way, but match the real server. */
export function wireRun(run: Run): Record<string, unknown> {
  const data: Record<string, unknown> = {};
  if (run.data.metrics.length) data.metrics = run.data.metrics.map(wireMetric);
  if (run.data.params.length) data.params = run.data.params;
  if (run.data.tags.length) data.tags = run.data.tags;
  const inputs: Record<string, unknown> = {};
  if (run.inputs.dataset_inputs.length) inputs.dataset_inputs = run.inputs.dataset_inputs;
  return { info: run.info, data, inputs };
}

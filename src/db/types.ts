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

export interface DB {
  experiments: ExperimentsTable;
  experiment_tags: ExperimentTagsTable;
  runs: RunsTable;
  metrics: MetricsTable;
  latest_metrics: LatestMetricsTable;
  params: KeyValueTable;
  tags: KeyValueTable;
  datasets: DatasetsTable;
  inputs: InputsTable;
  input_tags: InputTagsTable;
}

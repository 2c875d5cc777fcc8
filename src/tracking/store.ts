import type { Visibility } from "../core/visibility.js";
import type { Comparison, OrderBy } from "./search-filter.js";
import type { DatasetInput, DatasetSummary, Experiment, KeyValue, Metric, Run, RunInfo, ViewType } from "./schema.js";

export interface NewRun {
  runId: string;
  experimentId: string;
  name: string;
  userId: string;
  startTime: number;
  artifactUri: string;
  tags: KeyValue[];
}

export interface RunUpdate {
  status?: string;
  endTime?: number;
  name?: string;
}

export interface SearchPage<T> {
  items: T[];
  /** Offset of the next page, or undefined on the last page. */
  nextOffset?: number;
}

export interface HistoryQuery {
  runIds: string[];
  key: string;
  startStep?: number;
  endStep?: number;
  offset: number;
  limit: number;
}

export interface MetricSeries {
  step: Float64Array;
  timestamp: Float64Array;
  value: Float64Array;
}

/**
 * Metric points of one key as columns, one entry per point (a history can hold millions: no object per
 * point). `run[i]` indexes `runIds`; NaN is NaN. Ordered by run, step, timestamp, value.
 */
export interface MetricColumns extends MetricSeries {
  key: string;
  runIds: string[];
  run: Uint32Array;
  length: number;
}

export interface HistoryJsonPage {
  /** `{"key":…,"value":…,"timestamp":…,"step":…}` objects joined by commas (no brackets). */
  points: string;
  count: number;
  nextOffset?: number;
}

export interface KeySets {
  metrics: string[];
  params: string[];
  tags: string[];
}

export interface GcResult {
  runs: string[];
  experiments: string[];
  /** Artifact URIs of what was removed (runs' artifact_uri, experiments' artifact_location), for the caller to delete. */
  artifactUris: string[];
}

/**
 * Every tracking operation named once, as MLflow's abstract store does; single writes are batches of one.
 * The store checks nothing a service should check (existence, lifecycle, limits) except what only the
 * database can decide atomically (unique names, immutable params).
 */
export interface TrackingStore {
  createExperiment(name: string, artifactLocation: string | undefined, tags: KeyValue[], now: number): Promise<string>;
  getExperiment(id: string): Promise<Experiment | undefined>;
  getExperimentByName(name: string): Promise<Experiment | undefined>;
  searchExperiments(q: { viewType: ViewType; filter: Comparison[]; orderBy: OrderBy[]; offset: number; limit: number; visible?: Visibility }): Promise<SearchPage<Experiment>>;
  renameExperiment(id: string, newName: string, now: number): Promise<void>;
  /** Deleting an experiment deletes its runs too (and restore restores them), as MLflow does. */
  setExperimentLifecycle(id: string, stage: "active" | "deleted", now: number): Promise<void>;
  setExperimentTag(id: string, tag: KeyValue): Promise<void>;

  createRun(run: NewRun): Promise<Run>;
  getRun(runId: string): Promise<Run | undefined>;
  getRunInfo(runId: string): Promise<RunInfo | undefined>;
  updateRun(runId: string, update: RunUpdate): Promise<RunInfo>;
  setRunLifecycle(runId: string, stage: "active" | "deleted", now: number): Promise<void>;
  /** Atomic: all of it or none. Throws INVALID_PARAMETER_VALUE when a param would change value. */
  logBatch(runId: string, metrics: Metric[], params: KeyValue[], tags: KeyValue[]): Promise<void>;
  deleteTag(runId: string, key: string): Promise<boolean>;
  logInputs(runId: string, experimentId: string, inputs: DatasetInput[]): Promise<void>;
  searchRuns(q: {
    experimentIds: string[];
    viewType: ViewType;
    filter: Comparison[];
    orderBy: OrderBy[];
    offset: number;
    limit: number;
  }): Promise<SearchPage<Run>>;

  metricHistory(q: HistoryQuery): Promise<{ columns: MetricColumns; nextOffset?: number }>;
  /**
   * Optional hot path: the same page already as MLflow's JSON points, comma-separated, written by the
   * database itself (SQLite builds it in C about five times faster than rows can cross into JavaScript).
   */
  metricHistoryJson?(q: HistoryQuery, withRunId: boolean): Promise<HistoryJsonPage>;
  /** A whole history as columns (NaN as NaN), ordered by step then timestamp: cheap input for downsampling. */
  metricSeries(runId: string, key: string): Promise<MetricSeries>;
  /**
   * A history's point count and, when it has more than `minTotal` points, from its chart summaries
   * (metric-tiers.ts) the candidate points of the coarsest tier with at least `minBuckets` step buckets;
   * no candidates when no tier has that many.
   */
  metricSummary(runId: string, key: string, want: { minBuckets: number; minTotal: number }): Promise<{ total: number; candidates?: MetricSeries }>;
  searchDatasets(experimentIds: string[]): Promise<DatasetSummary[]>;
  distinctKeys(experimentIds: string[]): Promise<KeySets>;

  /** Permanently removes deleted runs and experiments whose deletion is older than `deletedBefore`. */
  gc(deletedBefore: number, opts: { experimentIds?: string[]; runIds?: string[] }): Promise<GcResult>;
}

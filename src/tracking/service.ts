import type { Visibility } from "../core/visibility.js";
import { invalidParam, notFound } from "../core/errors.js";
import { newRunId } from "../core/ids.js";
import { type ChartSeries, type ChartSeriesOptions, chartSeries } from "./chart-series.js";
import { randomRunName } from "./names.js";
import type { DatasetInput, DatasetSummary, Experiment, KeyValue, Metric, Run, RunInfo, RunStatus, ViewType } from "./schema.js";
import { RUN_STATUSES } from "./schema.js";
import { type Comparison, type OrderBy, parseExperimentFilter, parseExperimentOrderBy, parseRunFilter, parseRunOrderBy } from "./search-filter.js";
import type { GcResult, HistoryJsonPage, HistoryQuery, KeySets, MetricColumns, MetricSeries, SearchPage, TrackingStore } from "./store.js";
import { checkSearchBounds, isExperimentId, LIMITS } from "./validation.js";

export interface TrackingServiceDeps {
  store: TrackingStore;
  now?: () => number;
}

export interface CreateRunInput {
  experimentId?: string;
  userId?: string;
  runName?: string;
  startTime?: number;
  tags: KeyValue[];
}

const RUN_NAME_TAG = "mlflow.runName";

/** Parses a search's filter and order_by, refusing what the database could not run (see checkSearchBounds). */
function boundedFilter(filter: string | undefined, orderBy: string[], parse: (f: string | undefined) => Comparison[]): Comparison[] {
  // Bounds the bind parameters one search can produce (SQLite allows 32,766 per statement).
  if (filter && filter.length > LIMITS.filterLength) {
    throw invalidParam(`The filter is ${filter.length} characters long; the limit is ${LIMITS.filterLength}. Split the search into several.`);
  }
  const parsed = parse(filter);
  checkSearchBounds(parsed, orderBy);
  return parsed;
}
const USER_TAG = "mlflow.user";

/** The rules of experiment tracking. Routes parse and shape; this decides. */
export function createTrackingService({ store, now = Date.now }: TrackingServiceDeps) {
  async function experimentOrThrow(id: string): Promise<Experiment> {
    const exp = isExperimentId(id) ? await store.getExperiment(id) : undefined;
    if (!exp) throw notFound(`No Experiment with id=${id} exists`);
    return exp;
  }

  async function activeExperiment(id: string): Promise<Experiment> {
    const exp = await experimentOrThrow(id);
    if (exp.lifecycle_stage !== "active") {
      throw invalidParam(`The experiment ${id} must be in the 'active' state. Current state is ${exp.lifecycle_stage}.`);
    }
    return exp;
  }

  async function runInfoOrThrow(runId: string): Promise<RunInfo> {
    const info = await store.getRunInfo(runId);
    if (!info) throw notFound(`Run with id=${runId} not found`);
    return info;
  }

  async function activeRun(runId: string): Promise<RunInfo> {
    const info = await runInfoOrThrow(runId);
    if (info.lifecycle_stage !== "active") {
      throw invalidParam(`The run ${runId} must be in the 'active' state. Current state is ${info.lifecycle_stage}.`);
    }
    return info;
  }

  function checkExperimentName(name: string): string {
    if (name.trim() === "") throw invalidParam("Invalid experiment name: ''. An experiment name must be a non-empty string.");
    if (name.length > LIMITS.experimentNameLength) {
      throw invalidParam(`Experiment name had length ${name.length}, which exceeded length limit of ${LIMITS.experimentNameLength}.`);
    }
    return name;
  }

  function checkRunName(name: string): string {
    if (name.length > LIMITS.runNameLength) throw invalidParam(`Run name had length ${name.length}, which exceeded length limit of ${LIMITS.runNameLength}.`);
    return name;
  }

  return {
    async createExperiment(name: string, artifactLocation: string | undefined, tags: KeyValue[]): Promise<string> {
      checkExperimentName(name);
      if (artifactLocation !== undefined && artifactLocation.length > 2000) throw invalidParam("artifact_location is longer than 2000 characters.");
      return store.createExperiment(name, artifactLocation || undefined, tags, now());
    },

    getExperiment: experimentOrThrow,

    async getExperimentByName(name: string): Promise<Experiment> {
      const exp = await store.getExperimentByName(name);
      if (!exp) throw notFound(`Could not find experiment with name '${name}'`);
      return exp;
    },

    async searchExperiments(q: { viewType: ViewType; filter?: string; orderBy: string[]; offset: number; limit: number; visible?: Visibility }): Promise<SearchPage<Experiment>> {
      const filter = boundedFilter(q.filter, q.orderBy, parseExperimentFilter);
      for (const c of filter) {
        if (c.type === "attribute" && c.key === "experiment_id") {
          const ids = Array.isArray(c.value) ? c.value : [c.value];
          if (!ids.every((x) => typeof x === "string" && isExperimentId(x))) throw invalidParam(`experiment_id filter values must be numeric ids; got ${JSON.stringify(c.value)}.`);
        }
      }
      const orderBy: OrderBy[] = q.orderBy.map(parseExperimentOrderBy);
      return store.searchExperiments({ viewType: q.viewType, filter, orderBy, offset: q.offset, limit: q.limit, visible: q.visible });
    },

    async renameExperiment(id: string, newName: string): Promise<void> {
      checkExperimentName(newName);
      const exp = await experimentOrThrow(id);
      if (exp.lifecycle_stage !== "active") throw invalidParam(`Cannot rename a non-active experiment (${id}).`);
      if (exp.name === newName) return;
      await store.renameExperiment(id, newName, now());
    },

    async deleteExperiment(id: string): Promise<void> {
      if (id === "0") throw invalidParam("Cannot delete the default experiment '0'. This is an internally reserved experiment.");
      const exp = await experimentOrThrow(id);
      if (exp.lifecycle_stage === "deleted") return;
      await store.setExperimentLifecycle(id, "deleted", now());
    },

    async restoreExperiment(id: string): Promise<void> {
      const exp = await experimentOrThrow(id);
      if (exp.lifecycle_stage === "active") return;
      await store.setExperimentLifecycle(id, "active", now());
    },

    async setExperimentTag(id: string, tag: KeyValue): Promise<void> {
      await activeExperiment(id);
      await store.setExperimentTag(id, tag);
    },

    async createRun(input: CreateRunInput): Promise<Run> {
      const experimentId = input.experimentId || "0";
      const exp = await activeExperiment(experimentId);
      const tagName = input.tags.find((t) => t.key === RUN_NAME_TAG)?.value;
      if (input.runName && tagName !== undefined && tagName !== input.runName) {
        throw invalidParam(`Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different values (run_name='${input.runName}', mlflow.runName='${tagName}').`);
      }
      const name = checkRunName(input.runName || tagName || randomRunName());
      const runId = newRunId();
      const tags = input.tags.filter((t) => t.key !== RUN_NAME_TAG);
      tags.push({ key: RUN_NAME_TAG, value: name });
      const userId = input.userId ?? input.tags.find((t) => t.key === USER_TAG)?.value ?? "";
      return store.createRun({
        runId,
        experimentId,
        name,
        userId,
        startTime: input.startTime ?? now(),
        artifactUri: `${exp.artifact_location.replace(/\/+$/, "")}/${runId}/artifacts`,
        tags,
      });
    },

    async getRun(runId: string): Promise<Run> {
      const run = await store.getRun(runId);
      if (!run) throw notFound(`Run with id=${runId} not found`);
      return run;
    },

    async updateRun(runId: string, update: { status?: string; endTime?: number; runName?: string }): Promise<RunInfo> {
      await activeRun(runId);
      if (update.status !== undefined && !RUN_STATUSES.includes(update.status as RunStatus)) {
        throw invalidParam(`Invalid value '${update.status}' for parameter 'status': use one of ${RUN_STATUSES.join(", ")}.`);
      }
      if (update.runName !== undefined) checkRunName(update.runName);
      return store.updateRun(runId, { status: update.status, endTime: update.endTime, name: update.runName || undefined });
    },

    async deleteRun(runId: string): Promise<void> {
      await runInfoOrThrow(runId);
      await store.setRunLifecycle(runId, "deleted", now());
    },

    /** The experiment a run belongs to (runs never move): what its permissions follow. */
    async experimentOfRun(runId: string): Promise<string> {
      return (await runInfoOrThrow(runId)).experiment_id;
    },

    async restoreRun(runId: string): Promise<void> {
      await runInfoOrThrow(runId);
      await store.setRunLifecycle(runId, "active", now());
    },

    async logBatch(runId: string, metrics: Metric[], params: KeyValue[], tags: KeyValue[]): Promise<void> {
      await activeRun(runId);
      if (!metrics.length && !params.length && !tags.length) return;
      await store.logBatch(runId, metrics, params, tags);
    },

    async deleteTag(runId: string, key: string): Promise<void> {
      await activeRun(runId);
      if (!(await store.deleteTag(runId, key))) throw notFound(`No tag with name: ${key} in run with id ${runId}`);
    },

    async logModel(runId: string, modelJson: string): Promise<void> {
      let model: unknown;
      try {
        model = JSON.parse(modelJson);
      } catch {
        throw invalidParam("Malformed model info: 'model_json' must be a JSON document (the MLmodel file as JSON).");
      }
      const m = model as Record<string, unknown> | null;
      if (!m || typeof m !== "object" || Array.isArray(m) || typeof m.artifact_path !== "string" || typeof m.flavors !== "object" || m.flavors === null) {
        throw invalidParam("Model json is missing mandatory fields: 'artifact_path' (string) and 'flavors' (object) are required.");
      }
      await activeRun(runId);
      // MLflow keeps logged models as a JSON list in this tag; the UI and clients read it from there.
      const run = await store.getRun(runId);
      const prev = run?.data.tags.find((t) => t.key === "mlflow.log-model.history")?.value;
      let history: unknown[] = [];
      try {
        history = prev ? (JSON.parse(prev) as unknown[]) : [];
      } catch {
        history = [];
      }
      const { signature: _s, saved_input_example_info: _e, ...summary } = m;
      history.push(summary);
      let value = JSON.stringify(history);
      while (value.length > LIMITS.tagValueLength && history.length > 1) {
        history.shift();
        value = JSON.stringify(history);
      }
      if (value.length > LIMITS.tagValueLength) throw invalidParam(`The model description is ${value.length} characters; the limit is ${LIMITS.tagValueLength}.`);
      await store.logBatch(runId, [], [], [{ key: "mlflow.log-model.history", value }]);
    },

    async logInputs(runId: string, inputs: DatasetInput[]): Promise<void> {
      const info = await activeRun(runId);
      if (inputs.length) await store.logInputs(runId, info.experiment_id, inputs);
    },

    async searchRuns(q: { experimentIds: string[]; filter?: string; viewType: ViewType; orderBy: string[]; offset: number; limit: number }): Promise<SearchPage<Run>> {
      if (q.experimentIds.length > LIMITS.searchExperimentIds) {
        throw invalidParam(`runs/search accepts at most ${LIMITS.searchExperimentIds} experiment_ids; got ${q.experimentIds.length}.`);
      }
      for (const id of q.experimentIds) {
        if (!isExperimentId(id)) throw invalidParam(`Invalid experiment id '${id}': experiment ids are numeric strings.`);
      }
      const filter = boundedFilter(q.filter, q.orderBy, parseRunFilter);
      const orderBy = q.orderBy.map(parseRunOrderBy);
      return store.searchRuns({ experimentIds: q.experimentIds, viewType: q.viewType, filter, orderBy, offset: q.offset, limit: q.limit });
    },

    async metricHistory(q: HistoryQuery): Promise<{ columns: MetricColumns; nextOffset?: number }> {
      for (const id of q.runIds) await runInfoOrThrow(id);
      return store.metricHistory(q);
    },

    /** One page of history for the wire: JSON written by the store where it can, else columns. */
    async metricHistoryPage(q: HistoryQuery, withRunId: boolean): Promise<HistoryJsonPage | { columns: MetricColumns; nextOffset?: number }> {
      for (const id of q.runIds) await runInfoOrThrow(id);
      return store.metricHistoryJson ? store.metricHistoryJson(q, withRunId) : store.metricHistory(q);
    },

    async metricSeries(runId: string, key: string): Promise<MetricSeries> {
      await runInfoOrThrow(runId);
      return store.metricSeries(runId, key);
    },

    /** How many points a history holds (from its summaries: no point is read). */
    async metricPointCount(runId: string, key: string): Promise<number> {
      await runInfoOrThrow(runId);
      return (await store.metricSummary(runId, key, { minBuckets: Number.POSITIVE_INFINITY, minTotal: Number.POSITIVE_INFINITY })).total;
    },

    /** A history ready for a chart: downsampled (from its summaries when long) unless full resolution. */
    async chartSeries(runId: string, key: string, o: ChartSeriesOptions): Promise<ChartSeries> {
      await runInfoOrThrow(runId);
      return chartSeries(store, runId, key, o);
    },

    async searchDatasets(experimentIds: string[]): Promise<DatasetSummary[]> {
      for (const id of experimentIds) if (!isExperimentId(id)) throw invalidParam(`Invalid experiment id '${id}'.`);
      return store.searchDatasets(experimentIds);
    },

    async distinctKeys(experimentIds: string[]): Promise<KeySets> {
      for (const id of experimentIds) await experimentOrThrow(id);
      return store.distinctKeys(experimentIds);
    },

    gc: (deletedBefore: number, opts: { experimentIds?: string[]; runIds?: string[] } = {}): Promise<GcResult> => store.gc(deletedBefore, opts),
  };
}

export type TrackingService = ReturnType<typeof createTrackingService>;

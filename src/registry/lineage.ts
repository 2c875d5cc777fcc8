/**
 * Lineage links, read both ways: model version → the run that made it → the datasets that run logged as
 * inputs (MLflow's log-inputs), and back from a run or a dataset to the versions made from it. Nothing is
 * recorded for this: registering with a run_id and logging inputs are the links. Runs and datasets are
 * read through the tracking service's public interface, versions through the registry's store.
 */
import { invalidParam, isKeelError } from "../core/errors.js";
import type { Visibility } from "../core/visibility.js";
import type { TrackingService } from "../tracking/index.js";
import type { Run } from "../tracking/schema.js";
import { modelNotFound, versionNotFound } from "./errors.js";
import type { ModelVersion } from "./schema.js";
import type { RegistryStore } from "./store.js";

export const LINEAGE_LIMITS = {
  pageDefault: 100,
  pageMax: 1000,
  /** runs/search takes at most this many experiment ids: dataset lineage walks the experiments in chunks this big. */
  experimentsPerSearch: 5000,
  /** Versions listed for one page of runs (a run with more is not a real case). */
  versionsPerRunPage: 10_000,
  datasetDigestLength: 36,
  datasetNameLength: 500,
} as const;

export type LineageTracking = Pick<TrackingService, "getRun" | "getExperiment" | "searchRuns" | "searchExperiments">;

export interface LineageRun {
  run_id: string;
  run_name: string;
  experiment_id: string;
  /** Absent only when the experiment could not be read. */
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
  /** The input's `mlflow.data.context` tag (training, evaluation, …). */
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

export interface Page {
  offset: number;
  limit: number;
}

/** What the caller may see (routes fill it from the request; absent: everything). */
export interface LineageAccess {
  experiments?: Visibility;
  canReadModel?: (name: string) => Promise<boolean>;
}

const visible = (v: Visibility | undefined, id: number) => !v || ((!v.allow || v.allow.includes(id)) && !v.deny?.includes(id));

export interface VersionLineage {
  model_version: LineageVersion;
  /** Null when the version names no run, or its run no longer exists. */
  run: LineageRun | null;
  datasets: LineageDataset[];
  nextOffset?: number;
}

export interface RunLineage {
  run: LineageRun;
  datasets: LineageDataset[];
  model_versions: LineageVersion[];
  nextOffset?: number;
}

export interface DatasetLineage {
  dataset: { digest: string; name?: string };
  /** The runs that logged the dataset as an input, each with the matching inputs (one per name and context). */
  runs: (LineageRun & { datasets: LineageDataset[] })[];
  /** The versions made from this page's runs. */
  model_versions: LineageVersion[];
  nextOffset?: number;
}

/**
 * Dataset pages walk experiments in chunks; the page token's offset packs the chunk above the offset
 * within it (chunk × 2^40 + offset): still one opaque number, as every other token is.
 */
const CHUNK_SHIFT = 2 ** 40;

const versionSummary = (v: ModelVersion): LineageVersion => ({
  name: v.name,
  version: v.version,
  source: v.source,
  run_id: v.run_id,
  current_stage: v.current_stage,
  creation_timestamp: v.creation_timestamp,
});

function datasetsOf(run: Run): LineageDataset[] {
  return run.inputs.dataset_inputs.map((i) => {
    const d: LineageDataset = { name: i.dataset.name, digest: i.dataset.digest, source_type: i.dataset.source_type, source: i.dataset.source };
    const context = i.tags?.find((t) => t.key === "mlflow.data.context")?.value;
    if (context !== undefined) d.context = context;
    return d;
  });
}

/** A string literal of MLflow's search grammar: backslashes and quotes escaped. */
const quote = (s: string) => `'${s.replace(/\\/g, "\\\\").replace(/'/g, "''")}'`;

export function createLineage({
  store,
  tracking,
  experimentsPerSearch = LINEAGE_LIMITS.experimentsPerSearch,
}: {
  store: RegistryStore;
  tracking: LineageTracking;
  /** Tests lower it to walk chunks without creating thousands of experiments. */
  experimentsPerSearch?: number;
}) {
  /** One request's experiment names, each read once. */
  function experimentNames() {
    const names = new Map<string, Promise<string | undefined>>();
    return (id: string) => {
      let name = names.get(id);
      if (!name) {
        name = tracking.getExperiment(id).then(
          (e) => e.name,
          () => undefined,
        );
        names.set(id, name);
      }
      return name;
    };
  }

  async function runSummary(run: Run, nameOf: (id: string) => Promise<string | undefined>): Promise<LineageRun> {
    const i = run.info;
    const s: LineageRun = {
      run_id: i.run_id,
      run_name: i.run_name,
      experiment_id: i.experiment_id,
      status: i.status,
      lifecycle_stage: i.lifecycle_stage,
      start_time: i.start_time,
    };
    const name = await nameOf(i.experiment_id);
    if (name !== undefined) s.experiment_name = name;
    if (i.end_time !== undefined) s.end_time = i.end_time;
    return s;
  }

  async function runOrUndefined(runId: string): Promise<Run | undefined> {
    try {
      return await tracking.getRun(runId);
    } catch (err) {
      if (isKeelError(err) && err.code === "RESOURCE_DOES_NOT_EXIST") return undefined;
      throw err;
    }
  }

  async function readable(versions: ModelVersion[], access: LineageAccess): Promise<LineageVersion[]> {
    const can = access.canReadModel;
    const ok = can ? await Promise.all(versions.map((v) => can(v.name))) : versions.map(() => true);
    return versions.filter((_, i) => ok[i]).map(versionSummary);
  }

  async function versionsOfRuns(runIds: string[], offset: number, limit: number) {
    if (!runIds.length) return { items: [] as ModelVersion[], nextOffset: undefined };
    return store.searchVersions({
      filter: [runIds.length === 1 ? { type: "attribute", key: "run_id", comparator: "=", value: runIds[0] } : { type: "attribute", key: "run_id", comparator: "IN", value: runIds }],
      orderBy: [{ type: "attribute", key: "creation_timestamp", ascending: true }],
      offset,
      limit,
    });
  }

  /** Every experiment id, active or deleted, ascending. */
  async function allExperimentIds(): Promise<string[]> {
    const ids: number[] = [];
    for (let offset = 0; ; ) {
      const page = await tracking.searchExperiments({ viewType: "ALL", orderBy: ["experiment_id ASC"], offset, limit: 50_000 });
      ids.push(...page.items.map((e) => Number(e.experiment_id)));
      if (page.nextOffset === undefined) break;
      offset = page.nextOffset;
    }
    return ids.sort((a, b) => a - b).map(String);
  }

  return {
    /** The run is left out (null) when the caller may not read its experiment. */
    async ofVersion(name: string, version: number, page: Page, access: LineageAccess = {}): Promise<VersionLineage> {
      if (!(await store.getModel(name))) throw modelNotFound(name);
      const v = await store.getVersion(name, version);
      if (!v) throw versionNotFound(name, version);
      const found = v.run_id ? await runOrUndefined(v.run_id) : undefined;
      const run = found && visible(access.experiments, Number(found.info.experiment_id)) ? found : undefined;
      const all = run ? datasetsOf(run) : [];
      const end = page.offset + page.limit;
      return {
        model_version: versionSummary(v),
        run: run ? await runSummary(run, experimentNames()) : null,
        datasets: all.slice(page.offset, end),
        nextOffset: all.length > end ? end : undefined,
      };
    },

    /** The run's datasets and the versions made from it; one page of each (the token continues whichever has more). */
    async ofRun(runId: string, page: Page, access: LineageAccess = {}): Promise<RunLineage> {
      const run = await tracking.getRun(runId);
      const all = datasetsOf(run);
      const versions = await versionsOfRuns([runId], page.offset, page.limit);
      const end = page.offset + page.limit;
      return {
        run: await runSummary(run, experimentNames()),
        datasets: all.slice(page.offset, end),
        model_versions: await readable(versions.items, access),
        nextOffset: all.length > end || versions.nextOffset !== undefined ? end : undefined,
      };
    },

    /** Runs (in every experiment, deleted ones too) that logged the dataset, newest first, and the versions made from them. */
    async ofDataset(digest: string, name: string | undefined, page: Page, access: LineageAccess = {}): Promise<DatasetLineage> {
      const filter = `datasets.digest = ${quote(digest)}${name === undefined ? "" : ` AND datasets.name = ${quote(name)}`}`;
      const experiments = (await allExperimentIds()).filter((id) => visible(access.experiments, Number(id)));
      const matching = (r: Run) => datasetsOf(r).filter((d) => d.digest === digest && (name === undefined || d.name === name));
      let chunk = Math.floor(page.offset / CHUNK_SHIFT);
      let offset = page.offset % CHUNK_SHIFT;
      const runs: Run[] = [];
      let nextOffset: number | undefined;
      const per = experimentsPerSearch;
      // The search's clauses match each on their own (digest on one input, name on another), so runs are
      // checked here too; the token then points just past the last run looked at. One run past a full page
      // is looked at, so a token is given only when there is more.
      fill: while (chunk * per < experiments.length) {
        const ids = experiments.slice(chunk * per, (chunk + 1) * per);
        const found = await tracking.searchRuns({ experimentIds: ids, filter, viewType: "ALL", orderBy: [], offset, limit: page.limit });
        for (const [i, r] of found.items.entries()) {
          if (runs.length === page.limit) {
            nextOffset = chunk * CHUNK_SHIFT + offset + i;
            break fill;
          }
          if (matching(r).length) runs.push(r);
        }
        if (found.nextOffset !== undefined) {
          offset = found.nextOffset;
        } else {
          chunk++;
          offset = 0;
        }
      }
      const nameOf = experimentNames();
      const versions = await versionsOfRuns(
        runs.map((r) => r.info.run_id),
        0,
        LINEAGE_LIMITS.versionsPerRunPage,
      );
      return {
        dataset: name === undefined ? { digest } : { digest, name },
        runs: await Promise.all(
          runs.map(async (r) => ({
            ...(await runSummary(r, nameOf)),
            datasets: matching(r),
          })),
        ),
        model_versions: await readable(versions.items, access),
        nextOffset,
      };
    },
  };
}

export type Lineage = ReturnType<typeof createLineage>;

/** Which lineage a query asks for: exactly one of a model version, a run, or a dataset. */
export type LineageQuery =
  | { kind: "version"; name: string; version: string }
  | { kind: "run"; runId: string }
  | { kind: "dataset"; digest: string; name?: string };

/** Reads the lineage query parameters, refusing mixtures and half-given ones with a message that says what to send. */
export function parseLineageQuery(q: { model?: string; version?: string; run_id?: string; dataset_digest?: string; dataset_name?: string }): LineageQuery {
  const given = [q.model !== undefined || q.version !== undefined, q.run_id !== undefined, q.dataset_digest !== undefined || q.dataset_name !== undefined].filter(Boolean).length;
  const usage = "Ask for one of: model=NAME&version=V, run_id=RUN_ID, or dataset_digest=DIGEST (optionally with dataset_name=NAME).";
  if (given !== 1) throw invalidParam(`${given ? "Give only one kind of lineage query." : "Missing lineage query."} ${usage}`);
  if (q.model !== undefined || q.version !== undefined) {
    if (!q.model) throw invalidParam(`Missing value for parameter 'model': the registered model's name. ${usage}`);
    if (q.version === undefined || q.version === "") throw invalidParam(`Missing value for parameter 'version': the model version's number. ${usage}`);
    return { kind: "version", name: q.model, version: q.version };
  }
  if (q.run_id !== undefined) return { kind: "run", runId: q.run_id };
  if (!q.dataset_digest) throw invalidParam(`Missing value for parameter 'dataset_digest': dataset_name only narrows a digest. ${usage}`);
  if (q.dataset_digest.length > LINEAGE_LIMITS.datasetDigestLength) {
    throw invalidParam(`dataset_digest is at most ${LINEAGE_LIMITS.datasetDigestLength} characters (MLflow's limit); got ${q.dataset_digest.length}.`);
  }
  if (q.dataset_name !== undefined && (q.dataset_name === "" || q.dataset_name.length > LINEAGE_LIMITS.datasetNameLength)) {
    throw invalidParam(`dataset_name must be 1 to ${LINEAGE_LIMITS.datasetNameLength} characters.`);
  }
  return { kind: "dataset", digest: q.dataset_digest, ...(q.dataset_name !== undefined ? { name: q.dataset_name } : {}) };
}

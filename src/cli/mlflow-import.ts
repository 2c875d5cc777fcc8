import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import {
  encodePath,
  type Experiment,
  KeelApiError,
  type KeelClient,
  KeelNetworkError,
  type KeyValue,
  type ModelVersion,
  proxiedArtifactPath,
  type WireMetric,
  type WireRun,
} from "../sdk/index.js";
import { type Progress, startProgress } from "./progress.js";
import { describeError } from "./remote.js";
import { crashPoint } from "./test-hooks.js";

/**
 * `keel import mlflow`: copies experiments, runs, artifacts and registered models from a running MLflow
 * tracking server into Keel through MLflow's REST API (both ends through the SDK; Keel speaks the same API).
 *
 * Resuming. A journal (the state file, one JSON record per line, appended and fsynced) records each
 * experiment mapped, each run finished and each model started and finished; a rerun skips what it lists.
 * Runs carry their own marks, so a lost journal still finds them: a run is created with the tag
 * `keel.import.pending_source_run_id` and, once everything of it is written (params, tags, full metric
 * histories, inputs, artifacts, final status), gets `keel.import.source_run_id` and loses the pending tag.
 * A rerun treats a target run with `source_run_id` as done, and deletes one that is still pending (an
 * interrupted import) before importing that run again from scratch: interrupted runs are redone, never
 * patched. A model is recorded as started before it is created and marked with the tag
 * `keel.import.source_model` when its versions, stages and aliases are all in; a started but unmarked
 * model is deleted and imported again. A model of the same name that this import did not create is left
 * alone (reported as an error).
 *
 * Version numbers are kept: when the source has gaps (deleted versions, or versions that cannot be
 * imported), a placeholder version is created and deleted in the gap, so `models:/name/3` still names
 * version 3. A version's source is rewritten to the new run's artifacts when it pointed into the old
 * run's (runs:/<old>/… or the old run's mlflow-artifacts: URI). What cannot be kept: creation and update
 * timestamps of models and versions (the target sets them), and artifacts the source does not serve through
 * its artifact proxy (`mlflow server --serve-artifacts`), which are reported per run.
 */
export const SOURCE_RUN_TAG = "keel.import.source_run_id";
export const PENDING_RUN_TAG = "keel.import.pending_source_run_id";
export const SOURCE_MODEL_TAG = "keel.import.source_model";
const IMPORT_TAGS = "keel.import.";
const PARENT_TAG = "mlflow.parentRunId";
const PLACEHOLDER_SOURCE = "mlflow-artifacts:/keel-import-placeholder";

/** MLflow's per-request limits. */
const BATCH = { metrics: 1000, params: 100, tags: 100, inputs: 100 } as const;

export interface ImportOptions {
  source: KeelClient;
  target: KeelClient;
  from: string;
  to: string;
  /** Only these source experiments (by name). */
  experiments?: string[];
  statePath: string;
  progress: boolean;
  /** Lines for the user (stderr). */
  log: (line: string) => void;
}

export interface ImportSummary {
  state_file: string;
  experiments: { created: number; reused: number; skipped: number };
  runs: { imported: number; already_imported: number; redone: number; failed: number };
  metric_points: number;
  artifacts: { files: number; bytes: number };
  models: { imported: number; already_imported: number; redone: number; skipped: number; failed: number };
  model_versions: number;
  warnings: string[];
  errors: string[];
}

type JournalRecord =
  | { experiment: string; target: string }
  | { run: string; target: string }
  | { model: string; status: "started" | "done" };

/** The state file: a header line naming source and target, then one record per line. */
class Journal {
  readonly experiments = new Map<string, string>();
  readonly runs = new Map<string, string>();
  readonly models = new Map<string, "started" | "done">();
  private fd: number;

  constructor(
    readonly path: string,
    from: string,
    to: string,
  ) {
    const header = { keel_import: 1, from, to };
    if (existsSync(path)) {
      const lines = readFileSync(path, "utf8").split("\n");
      let first: { keel_import?: number; from?: string; to?: string } = {};
      try {
        first = JSON.parse(lines[0] ?? "");
      } catch {}
      if (first.keel_import !== 1) throw new Error(`${path} is not a keel import state file; give another --state-file.`);
      if (first.from !== from || first.to !== to) {
        throw new Error(`${path} records an import from ${first.from} to ${first.to}, not from ${from} to ${to}; give another --state-file.`);
      }
      for (const line of lines.slice(1)) {
        let r: JournalRecord;
        try {
          r = JSON.parse(line);
        } catch {
          continue; // a line torn by a crash: what it recorded is redone
        }
        this.apply(r);
      }
      this.fd = openSync(path, "a");
      // A torn last line must not swallow the next record.
      if (!readFileSync(path, "utf8").endsWith("\n")) writeSync(this.fd, "\n");
    } else {
      mkdirSync(dirname(path), { recursive: true });
      this.fd = openSync(path, "a");
      writeSync(this.fd, `${JSON.stringify(header)}\n`);
      fsyncSync(this.fd);
    }
  }

  private apply(r: JournalRecord): void {
    if ("experiment" in r) this.experiments.set(r.experiment, r.target);
    else if ("run" in r) this.runs.set(r.run, r.target);
    else if ("model" in r) this.models.set(r.model, r.status);
  }

  record(r: JournalRecord): void {
    writeSync(this.fd, `${JSON.stringify(r)}\n`);
    fsyncSync(this.fd);
    this.apply(r);
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** Errors after which nothing else can succeed either: stop instead of failing every item. */
function fatal(err: unknown): boolean {
  return err instanceof KeelNetworkError || (err instanceof KeelApiError && (err.status === 401 || err.status === 403));
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

const userTags = (tags: KeyValue[] | undefined) => (tags ?? []).filter((t) => !t.key.startsWith(IMPORT_TAGS));

export class MlflowImporter {
  private readonly src: KeelClient;
  private readonly dst: KeelClient;
  private readonly journal: Journal;
  private readonly summary: ImportSummary;
  /** Source run id → its source artifact_uri (runs listed in this invocation). */
  private readonly srcArtifactUris = new Map<string, string>();
  private readonly dstArtifactUris = new Map<string, string>();

  constructor(private readonly o: ImportOptions) {
    this.src = o.source;
    this.dst = o.target;
    this.journal = new Journal(o.statePath, o.from, o.to);
    this.summary = {
      state_file: o.statePath,
      experiments: { created: 0, reused: 0, skipped: 0 },
      runs: { imported: 0, already_imported: 0, redone: 0, failed: 0 },
      metric_points: 0,
      artifacts: { files: 0, bytes: 0 },
      models: { imported: 0, already_imported: 0, redone: 0, skipped: 0, failed: 0 },
      model_versions: 0,
      warnings: [],
      errors: [],
    };
  }

  private warn(msg: string): void {
    this.summary.warnings.push(msg);
  }

  private bar(label: string, total: number): Progress {
    return startProgress(label, total, { enabled: this.o.progress });
  }

  /** Prints what a phase collected (after its bar, so lines do not break it). */
  private flush(from: { w: number; e: number }): void {
    for (const w of this.summary.warnings.slice(from.w)) this.o.log(`warning: ${w}`);
    for (const e of this.summary.errors.slice(from.e)) this.o.log(`error: ${e}`);
  }

  private async phase(fn: () => Promise<void>): Promise<void> {
    const mark = { w: this.summary.warnings.length, e: this.summary.errors.length };
    try {
      await fn();
    } finally {
      this.flush(mark);
    }
  }

  async run(): Promise<ImportSummary> {
    try {
      const exps = new Map<string, { src: Experiment; target: string }>();
      await this.phase(() => this.importExperiments(exps));
      await this.phase(() => this.importRuns(exps));
      await this.phase(() => this.importModels());
    } finally {
      this.journal.close();
    }
    return this.summary;
  }

  // ---- experiments --------------------------------------------------------------------------------

  private async importExperiments(out: Map<string, { src: Experiment; target: string }>): Promise<void> {
    let list: Experiment[] = [];
    for await (const e of this.src.iterateExperiments({ viewType: "ACTIVE_ONLY", maxResults: 1000 })) list.push(e);
    if (this.o.experiments) {
      const wanted = new Set(this.o.experiments);
      for (const name of wanted) if (!list.some((e) => e.name === name)) this.summary.errors.push(`experiment '${name}': no active experiment of that name in the source.`);
      list = list.filter((e) => wanted.has(e.name));
    }
    const bar = this.bar("experiments", list.length);
    try {
      for (const [i, e] of list.entries()) {
        bar.update(i, e.name);
        const target = await this.ensureExperiment(e);
        if (target !== undefined) out.set(e.experiment_id, { src: e, target });
      }
      bar.update(list.length);
    } finally {
      bar.stop();
    }
  }

  /** The target experiment of a source one: the one mapped before, else one of the same name, else a new one. */
  private async ensureExperiment(e: Experiment): Promise<string | undefined> {
    let target: Experiment | undefined;
    const mapped = this.journal.experiments.get(e.experiment_id);
    if (mapped !== undefined) {
      try {
        target = await this.dst.getExperiment(mapped);
      } catch (err) {
        if (!(err instanceof KeelApiError && err.code === "RESOURCE_DOES_NOT_EXIST")) throw err;
      }
    }
    target ??= await this.dst.getExperimentByName(e.name);
    if (target && target.lifecycle_stage !== "active") {
      this.summary.errors.push(`experiment '${e.name}': the target has a deleted experiment of that name (id ${target.experiment_id}); restore or rename it, then run again.`);
      this.summary.experiments.skipped++;
      return undefined;
    }
    let id: string;
    if (target) {
      id = target.experiment_id;
      this.summary.experiments.reused++;
    } else {
      id = await this.dst.createExperiment(e.name);
      this.summary.experiments.created++;
    }
    const have = new Map((target?.tags ?? []).map((t) => [t.key, t.value]));
    for (const t of userTags(e.tags)) if (have.get(t.key) !== t.value) await this.dst.setExperimentTag(id, t.key, t.value);
    if (mapped !== id) this.journal.record({ experiment: e.experiment_id, target: id });
    return id;
  }

  // ---- runs ---------------------------------------------------------------------------------------

  private async importRuns(exps: Map<string, { src: Experiment; target: string }>): Promise<void> {
    const perExp: { target: string; runs: WireRun[] }[] = [];
    let total = 0;
    for (const [srcId, { target }] of exps) {
      const runs: WireRun[] = [];
      for await (const r of this.src.iterateRuns({ experimentIds: [srcId], viewType: "ACTIVE_ONLY", orderBy: ["attributes.start_time ASC"], maxResults: 1000 })) {
        runs.push(r);
        this.srcArtifactUris.set(r.info.run_id, r.info.artifact_uri);
      }
      perExp.push({ target, runs: parentsFirst(runs) });
      total += runs.length;
    }
    const bar = this.bar("runs", total);
    let n = 0;
    try {
      for (const { target, runs } of perExp) {
        const existing = await this.scanTarget(target);
        for (const run of runs) {
          const id = run.info.run_id;
          bar.update(n, run.info.run_name);
          try {
            const done = this.journal.runs.get(id) ?? existing.complete.get(id);
            if (done !== undefined) {
              if (!this.journal.runs.has(id)) this.journal.record({ run: id, target: done });
              this.summary.runs.already_imported++;
            } else {
              for (const partial of existing.pending.get(id) ?? []) {
                await this.dst.deleteRun(partial);
                this.summary.runs.redone++;
              }
              const newId = await this.importRun(run, target);
              this.journal.record({ run: id, target: newId });
              this.summary.runs.imported++;
            }
          } catch (err) {
            if (fatal(err)) throw err;
            this.summary.runs.failed++;
            this.summary.errors.push(`run ${id} ('${run.info.run_name}'): ${describeError(err)}`);
          }
          bar.update(++n);
        }
      }
    } finally {
      bar.stop();
    }
  }

  /** Runs of a target experiment this import made: finished ones and interrupted (pending) ones, by source run id. */
  private async scanTarget(experimentId: string): Promise<{ complete: Map<string, string>; pending: Map<string, string[]> }> {
    const complete = new Map<string, string>();
    const pending = new Map<string, string[]>();
    for (const [tag, filter] of [
      [SOURCE_RUN_TAG, `tags.\`${SOURCE_RUN_TAG}\` LIKE '%'`],
      [PENDING_RUN_TAG, `tags.\`${PENDING_RUN_TAG}\` LIKE '%'`],
    ] as const) {
      for await (const r of this.dst.iterateRuns({ experimentIds: [experimentId], viewType: "ACTIVE_ONLY", filter, maxResults: 1000 })) {
        const tags = new Map((r.data.tags ?? []).map((t) => [t.key, t.value]));
        const src = tags.get(tag);
        if (src === undefined) continue;
        if (tag === SOURCE_RUN_TAG) complete.set(src, r.info.run_id);
        else if (!tags.has(SOURCE_RUN_TAG)) pending.set(src, [...(pending.get(src) ?? []), r.info.run_id]);
      }
    }
    return { complete, pending };
  }

  /** One run, everything of it; answers the new run's id. */
  private async importRun(run: WireRun, experimentId: string): Promise<string> {
    const info = run.info;
    const created = await this.dst.createRun(experimentId, {
      runName: info.run_name || undefined,
      startTime: info.start_time,
      userId: info.user_id,
      tags: [{ key: PENDING_RUN_TAG, value: info.run_id }],
    });
    const id = created.info.run_id;
    this.dstArtifactUris.set(id, created.info.artifact_uri);

    const tags = userTags(run.data.tags).map((t) => (t.key === PARENT_TAG && this.journal.runs.has(t.value) ? { key: t.key, value: this.journal.runs.get(t.value) ?? t.value } : t));
    for (const batch of chunks(tags, BATCH.tags)) await this.dst.logBatch(id, { tags: batch });
    for (const batch of chunks(run.data.params ?? [], BATCH.params)) await this.dst.logBatch(id, { params: batch });
    crashPoint("run-params");

    const keys = [...new Set((run.data.metrics ?? []).map((m) => m.key))].sort();
    for (const key of keys) {
      let pending: WireMetric[] = [];
      const send = async (all: boolean) => {
        while (pending.length >= BATCH.metrics || (all && pending.length)) {
          const batch = pending.slice(0, BATCH.metrics);
          pending = pending.slice(batch.length);
          await this.dst.logBatch(id, { metrics: batch });
          this.summary.metric_points += batch.length;
        }
      };
      for await (const page of this.src.metricHistoryPages(info.run_id, key)) {
        for (const m of page) pending.push({ key, value: m.value, timestamp: m.timestamp ?? 0, step: m.step ?? 0 });
        await send(false);
      }
      await send(true);
    }

    for (const batch of chunks(run.inputs?.dataset_inputs ?? [], BATCH.inputs)) await this.dst.logInputs(id, batch);

    await this.copyArtifacts(info.run_id, info.artifact_uri, created.info.artifact_uri);

    await this.dst.updateRun(id, { status: info.status, endTime: info.end_time ?? undefined });
    await this.dst.setTag(id, SOURCE_RUN_TAG, info.run_id);
    await this.dst.deleteTag(id, PENDING_RUN_TAG);
    return id;
  }

  /** Streams every file of the source run's artifacts into the new run's (nothing is held in memory). */
  private async copyArtifacts(srcRunId: string, srcUri: string, dstUri: string): Promise<void> {
    const srcRoot = proxiedArtifactPath(srcUri);
    const dstRoot = proxiedArtifactPath(dstUri);
    if (srcRoot === undefined) {
      this.warn(`run ${srcRunId}: its artifacts are at '${srcUri}', which the source does not serve through its artifact proxy; artifacts not copied.`);
      return;
    }
    if (dstRoot === undefined) throw new Error(`the target run's artifact location '${dstUri}' is not proxied by the target server.`);
    const files = [];
    try {
      for await (const f of this.src.walkArtifacts(srcRoot)) files.push(f);
    } catch (err) {
      if (!(err instanceof KeelApiError) || fatal(err)) throw err;
      this.warn(
        `run ${srcRunId}: the source does not serve artifacts through /api/2.0/mlflow-artifacts (start it with --serve-artifacts to copy them): ${describeError(err)}; artifacts not copied.`,
      );
      return;
    }
    for (const f of files) {
      const rel = f.path.slice(srcRoot.length + 1);
      const dl = await this.src.downloadArtifact(f.path);
      await this.dst.uploadArtifact(`${dstRoot}/${rel}`, dl.stream, { size: dl.size >= 0 ? dl.size : undefined });
      this.summary.artifacts.files++;
      this.summary.artifacts.bytes += dl.size >= 0 ? dl.size : (f.file_size ?? 0);
    }
  }

  // ---- registered models --------------------------------------------------------------------------

  private async importModels(): Promise<void> {
    const names: string[] = [];
    for await (const m of this.src.iterateRegisteredModels({ maxResults: 1000 })) names.push(m.name);
    const bar = this.bar("models", names.length);
    let n = 0;
    try {
      for (const name of names) {
        bar.update(n, name);
        try {
          if (this.journal.models.get(name) === "done") this.summary.models.already_imported++;
          else await this.importModel(name);
        } catch (err) {
          if (fatal(err)) throw err;
          this.summary.models.failed++;
          this.summary.errors.push(`registered model '${name}': ${describeError(err)}`);
        }
        bar.update(++n);
      }
    } finally {
      bar.stop();
    }
  }

  private async importModel(name: string): Promise<void> {
    const model = await this.src.getRegisteredModel(name);
    const versions = await this.src.modelVersions(name);
    const plan: { v: ModelVersion; to: { source: string; runId?: string } | { skip: string } }[] = [];
    for (const v of versions) plan.push({ v, to: await this.targetSource(v) });
    if (this.o.experiments) {
      // Only whole models: one finished without some of its versions would stay that way on later imports.
      const missing = plan.filter((p) => "skip" in p.to).map((p) => p.v.version);
      if (!versions.length || missing.length) {
        this.summary.models.skipped++;
        this.warn(
          versions.length
            ? `registered model '${name}': version(s) ${missing.join(", ")} come from runs not imported (--experiments); model skipped.`
            : `registered model '${name}' has no versions, so it belongs to none of the experiments imported; skipped.`,
        );
        return;
      }
    }

    const existing = await this.dst.findRegisteredModel(name);
    if (existing) {
      if ((existing.tags ?? []).some((t) => t.key === SOURCE_MODEL_TAG)) {
        this.journal.record({ model: name, status: "done" });
        this.summary.models.already_imported++;
        return;
      }
      if (this.journal.models.get(name) !== "started") {
        this.summary.models.failed++;
        this.summary.errors.push(`registered model '${name}' already exists in the target and was not created by this import; not imported (rename or delete it, then run again).`);
        return;
      }
      await this.dst.deleteRegisteredModel(name);
      this.summary.models.redone++;
    }
    this.journal.record({ model: name, status: "started" });
    const tags = userTags(model.tags);
    await this.dst.createRegisteredModel(name, { description: model.description || undefined, tags: tags.slice(0, BATCH.tags) });
    for (const t of tags.slice(BATCH.tags)) await this.dst.setRegisteredModelTag(name, t.key, t.value);

    const versionMap = new Map<string, string>();
    let next = 1;
    for (const { v, to } of plan) {
      if ("skip" in to) {
        this.warn(`registered model '${name}' version ${v.version}: ${to.skip}; not imported.`);
        continue;
      }
      const want = Number(v.version);
      // Keep the numbering: fill a gap with a version deleted at once (numbers are never reused).
      while (next < want) {
        const placeholder = await this.dst.createModelVersion({ name, source: PLACEHOLDER_SOURCE, description: "keel import: placeholder for a missing version" });
        await this.dst.deleteModelVersion(name, placeholder.version);
        next = Number(placeholder.version) + 1;
      }
      const vtags = userTags(v.tags);
      const created = await this.dst.createModelVersion({
        name,
        source: to.source,
        runId: to.runId,
        runLink: v.run_link || undefined,
        description: v.description || undefined,
        tags: vtags.slice(0, BATCH.tags),
      });
      for (const t of vtags.slice(BATCH.tags)) await this.dst.setModelVersionTag(name, created.version, t.key, t.value);
      if (created.version !== v.version) this.warn(`registered model '${name}': source version ${v.version} became version ${created.version}.`);
      versionMap.set(v.version, created.version);
      this.summary.model_versions++;
      crashPoint("model-version");
      if (v.current_stage && v.current_stage !== "None") await this.dst.transitionModelVersionStage(name, created.version, v.current_stage, false);
      next = Number(created.version) + 1;
    }
    for (const a of model.aliases ?? []) {
      const to = versionMap.get(a.version);
      if (to === undefined) this.warn(`registered model '${name}': alias '${a.alias}' points at version ${a.version}, which was not imported; alias not set.`);
      else await this.dst.setRegisteredModelAlias(name, a.alias, to);
    }
    await this.dst.setRegisteredModelTag(name, SOURCE_MODEL_TAG, name);
    this.journal.record({ model: name, status: "done" });
    this.summary.models.imported++;
  }

  /** Where a version's files are in the target: its source rewritten from the old run's artifacts to the new run's. */
  private async targetSource(v: ModelVersion): Promise<{ source: string; runId?: string } | { skip: string }> {
    let srcRun = v.run_id || "";
    const proxied = proxiedArtifactPath(v.source);
    if (!srcRun && proxied !== undefined) {
      // No run_id, but the files may still lie in a run's artifacts (<exp>/<run>/artifacts/…).
      const [, run, artifacts] = proxied.split("/");
      if (artifacts === "artifacts" && run && this.journal.runs.has(run)) srcRun = run;
    }
    if (!srcRun) return { skip: `its source '${v.source}' is not inside any imported run's artifacts` };
    const dstRun = this.journal.runs.get(srcRun);
    if (dstRun === undefined) return { skip: `its run ${srcRun} was not imported` };
    const runId = v.run_id ? dstRun : undefined;
    const runsPrefix = `runs:/${srcRun}`;
    if (v.source === runsPrefix || v.source.startsWith(`${runsPrefix}/`)) return { source: `runs:/${dstRun}${v.source.slice(runsPrefix.length)}`, runId };
    let srcUri = this.srcArtifactUris.get(srcRun);
    if (srcUri === undefined) {
      srcUri = (await this.src.getRun(srcRun)).info.artifact_uri;
      this.srcArtifactUris.set(srcRun, srcUri);
    }
    let dstUri = this.dstArtifactUris.get(dstRun);
    if (dstUri === undefined) {
      dstUri = (await this.dst.getRun(dstRun)).info.artifact_uri;
      this.dstArtifactUris.set(dstRun, dstUri);
    }
    const srcRoot = proxiedArtifactPath(srcUri);
    const dstRoot = proxiedArtifactPath(dstUri);
    if (proxied !== undefined && srcRoot !== undefined && dstRoot !== undefined && (proxied === srcRoot || proxied.startsWith(`${srcRoot}/`))) {
      const rest = proxied.slice(srcRoot.length);
      return { source: `mlflow-artifacts:/${encodePath(`${dstRoot}${rest}`)}`, runId };
    }
    if (v.source.startsWith(srcUri)) return { skip: `its files are at '${v.source}', which the source does not serve through its artifact proxy` };
    return { skip: `its source '${v.source}' is not inside run ${srcRun}'s artifacts` };
  }
}

/** Runs ordered so that a parent run comes before its children (the children's parent tag names the new parent). */
function parentsFirst(runs: WireRun[]): WireRun[] {
  const byId = new Map(runs.map((r) => [r.info.run_id, r]));
  const out: WireRun[] = [];
  const seen = new Set<string>();
  const visit = (r: WireRun, depth: number) => {
    if (seen.has(r.info.run_id)) return;
    seen.add(r.info.run_id);
    const parent = r.data.tags?.find((t) => t.key === PARENT_TAG)?.value;
    const p = parent === undefined ? undefined : byId.get(parent);
    if (p && depth < 1000) visit(p, depth + 1);
    out.push(r);
  };
  for (const r of runs) visit(r, 0);
  return out;
}

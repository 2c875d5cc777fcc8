import { randomUUID } from "node:crypto";
import type { Kysely } from "kysely";
import { alreadyExists } from "../core/errors.js";
import type { Database } from "../db/database.js";
import { runCommitHooksSync, writeTx } from "../db/write-tx.js";
import { chunk, type Dialect, dialectFor, isUniqueViolation } from "../db/dialect.js";
import type { DB } from "../db/types.js";
import { batchKeys, listKeys, recordKeys } from "./experiment-keys.js";
import { byKey } from "./metric-batch.js";
import type { DatasetInput, DatasetSummary, Experiment, KeyValue, Metric, Run, RunInfo } from "./schema.js";
import type { GcResult, KeySets, NewRun, RunUpdate, TrackingStore } from "./store.js";
import { logBatchKysely, metricHistory, metricHistoryJsonSqlite, metricSeries, metricSummary } from "./store-sql-metrics.js";
import { searchExperimentIds, searchRunIds } from "./store-sql-search.js";
import { logBatchSqlite } from "./store-sqlite-fast.js";

type Conn = Kysely<DB>;

export const RUN_NAME_TAG = "mlflow.runName";

export function createSqlTrackingStore(database: Database): TrackingStore {
  const db = database.db;
  const dialect = dialectFor(database.kind);

  return {
    async createExperiment(name, artifactLocation, tags, now) {
      try {
        return await writeTx(database, async (tx) => {
          const row = await tx
            .insertInto("experiments")
            .values({ name, artifact_location: artifactLocation ?? "", lifecycle_stage: "active", creation_time: now, last_update_time: now })
            .returning("experiment_id")
            .executeTakeFirstOrThrow();
          const id = row.experiment_id;
          if (artifactLocation === undefined) {
            await tx.updateTable("experiments").set({ artifact_location: `mlflow-artifacts:/${id}` }).where("experiment_id", "=", id).execute();
          }
          await upsertExperimentTags(tx, id, tags);
          return String(id);
        });
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
        const existing = await db.selectFrom("experiments").select("lifecycle_stage").where("name", "=", name).executeTakeFirst();
        throw alreadyExists(
          existing?.lifecycle_stage === "deleted"
            ? `Experiment '${name}' already exists in deleted state. Restore it, or remove it for good with \`keel gc\`, to reuse the name.`
            : `Experiment '${name}' already exists.`,
        );
      }
    },

    async getExperiment(id) {
      const row = await db.selectFrom("experiments").selectAll().where("experiment_id", "=", Number(id)).executeTakeFirst();
      return row ? withExperimentTags(db, [row]).then((x) => x[0]) : undefined;
    },

    async getExperimentByName(name) {
      const row = await db.selectFrom("experiments").selectAll().where("name", "=", name).executeTakeFirst();
      return row ? withExperimentTags(db, [row]).then((x) => x[0]) : undefined;
    },

    async searchExperiments(q) {
      const ids = await searchExperimentIds(db, dialect, { ...q, limit: q.limit + 1 });
      const more = ids.length > q.limit;
      const page = ids.slice(0, q.limit);
      const rows = page.length ? await db.selectFrom("experiments").selectAll().where("experiment_id", "in", page).execute() : [];
      const byId = new Map(rows.map((r) => [r.experiment_id, r]));
      const ordered = page.map((id) => byId.get(id)).filter((r) => r !== undefined);
      return { items: await withExperimentTags(db, ordered), nextOffset: more ? q.offset + q.limit : undefined };
    },

    async renameExperiment(id, newName, now) {
      try {
        await writeTx(database, (tx) => tx.updateTable("experiments").set({ name: newName, last_update_time: now }).where("experiment_id", "=", Number(id)).execute());
      } catch (err) {
        if (isUniqueViolation(err)) throw alreadyExists(`Experiment '${newName}' already exists.`);
        throw err;
      }
    },

    async setExperimentLifecycle(id, stage, now) {
      const deletedTime = stage === "deleted" ? now : null;
      await writeTx(database, async (tx) => {
        await tx
          .updateTable("experiments")
          .set({ lifecycle_stage: stage, last_update_time: now, deleted_time: deletedTime })
          .where("experiment_id", "=", Number(id))
          .execute();
        await tx
          .updateTable("runs")
          .set({ lifecycle_stage: stage, deleted_time: deletedTime })
          .where("experiment_id", "=", Number(id))
          .where("lifecycle_stage", "!=", stage)
          .execute();
      });
    },

    async setExperimentTag(id, tag) {
      await writeTx(database, (tx) => upsertExperimentTags(tx, Number(id), [tag]));
    },

    async createRun(run: NewRun) {
      await writeTx(database, async (tx) => {
        await tx
          .insertInto("runs")
          .values({
            run_uuid: run.runId,
            experiment_id: Number(run.experimentId),
            name: run.name,
            user_id: run.userId,
            status: "RUNNING",
            start_time: run.startTime,
            end_time: null,
            lifecycle_stage: "active",
            artifact_uri: run.artifactUri,
            deleted_time: null,
          })
          .execute();
        await upsertKeyValues(tx, "tags", run.runId, run.tags, dialect);
        await recordKeys(tx, dialect, run.runId, batchKeys([], [], run.tags));
      });
      const created = await this.getRun(run.runId);
      if (!created) throw new Error(`run ${run.runId} vanished after insert`);
      return created;
    },

    async getRun(runId) {
      return (await loadRuns(db, [runId]))[0];
    },

    async getRunInfo(runId) {
      const row = await db.selectFrom("runs").selectAll().where("run_uuid", "=", runId).executeTakeFirst();
      return row ? toRunInfo(row) : undefined;
    },

    async updateRun(runId, update: RunUpdate) {
      await writeTx(database, async (tx) => {
        const set: { status?: string; end_time?: number; name?: string } = {};
        if (update.status !== undefined) set.status = update.status;
        if (update.endTime !== undefined) set.end_time = update.endTime;
        if (update.name !== undefined) set.name = update.name;
        // Tags, then the run's row, then the key catalog: log-batch's order, so a rename by either never
        // waits on the other in a cycle (Postgres).
        if (update.name !== undefined) await upsertKeyValues(tx, "tags", runId, [{ key: RUN_NAME_TAG, value: update.name }], dialect);
        if (Object.keys(set).length) await tx.updateTable("runs").set(set).where("run_uuid", "=", runId).execute();
        if (update.name !== undefined) await recordKeys(tx, dialect, runId, [["tag", RUN_NAME_TAG]]);
      });
      const info = await this.getRunInfo(runId);
      if (!info) throw new Error(`run ${runId} vanished during update`);
      return info;
    },

    async setRunLifecycle(runId, stage, now) {
      await writeTx(database, (tx) =>
        tx
          .updateTable("runs")
          .set({ lifecycle_stage: stage, deleted_time: stage === "deleted" ? now : null })
          .where("run_uuid", "=", runId)
          .execute(),
      );
    },

    async logBatch(runId, metrics: Metric[], params: KeyValue[], tags: KeyValue[]) {
      if (database.kind === "sqlite") {
        await database.withSqlite((raw) => logBatchSqlite(raw, runId, metrics, params, tags, () => runCommitHooksSync(database, raw)));
      } else {
        await writeTx(database, (tx) => logBatchKysely(tx, dialect, runId, metrics, params, tags));
      }
    },

    async deleteTag(runId, key) {
      const res = await writeTx(database, (tx) => tx.deleteFrom("tags").where("run_uuid", "=", runId).where("key", "=", key).executeTakeFirst());
      return Number(res.numDeletedRows) > 0;
    },

    async logInputs(runId, experimentId, inputs: DatasetInput[]) {
      await writeTx(database, async (tx) => {
        for (const input of inputs) {
          const d = input.dataset;
          const expId = Number(experimentId);
          await tx
            .insertInto("datasets")
            .values({
              dataset_uuid: randomUUID().replace(/-/g, ""),
              experiment_id: expId,
              name: d.name,
              digest: d.digest,
              source_type: d.source_type,
              source: d.source,
              schema: d.schema ?? null,
              profile: d.profile ?? null,
            })
            .onConflict((oc) => oc.columns(["experiment_id", "name", "digest"]).doNothing())
            .execute();
          const { dataset_uuid } = await tx
            .selectFrom("datasets")
            .select("dataset_uuid")
            .where("experiment_id", "=", expId)
            .where("name", "=", d.name)
            .where("digest", "=", d.digest)
            .executeTakeFirstOrThrow();
          await tx
            .insertInto("inputs")
            .values({ run_uuid: runId, dataset_uuid })
            .onConflict((oc) => oc.columns(["run_uuid", "dataset_uuid"]).doNothing())
            .execute();
          for (const t of input.tags ?? []) {
            await tx
              .insertInto("input_tags")
              .values({ run_uuid: runId, dataset_uuid, key: t.key, value: t.value })
              .onConflict((oc) => oc.columns(["run_uuid", "dataset_uuid", "key"]).doUpdateSet({ value: t.value }))
              .execute();
          }
        }
      });
    },

    async searchRuns(q) {
      const ids = await searchRunIds(db, dialect, { ...q, limit: q.limit + 1 });
      const more = ids.length > q.limit;
      const items: Run[] = [];
      // Bounded IN lists: a 50,000-run page must not exceed SQLite's bind-parameter limit.
      for (const part of chunk(ids.slice(0, q.limit), 1, 5000)) items.push(...(await loadRuns(db, part)));
      return { items, nextOffset: more ? q.offset + q.limit : undefined };
    },

    metricHistory: (q) => metricHistory(database, q),
    metricHistoryJson: database.kind === "sqlite" ? (q, withRunId) => metricHistoryJsonSqlite(database, q, withRunId) : undefined,
    metricSeries: (runId, key) => metricSeries(database, runId, key),
    metricSummary: (runId, key, want) => metricSummary(database, runId, key, want),

    async searchDatasets(experimentIds) {
      const rows = await db
        .selectFrom("inputs as i")
        .innerJoin("datasets as d", "d.dataset_uuid", "i.dataset_uuid")
        .leftJoin("input_tags as t", (j) =>
          j.onRef("t.run_uuid", "=", "i.run_uuid").onRef("t.dataset_uuid", "=", "i.dataset_uuid").on("t.key", "=", "mlflow.data.context"),
        )
        .select(["d.experiment_id", "d.name", "d.digest", "t.value as context"])
        .distinct()
        .where("d.experiment_id", "in", experimentIds.map(Number))
        .orderBy("d.experiment_id")
        .orderBy("d.name")
        .orderBy("d.digest")
        .limit(1000)
        .execute();
      return rows.map((r): DatasetSummary => {
        const s: DatasetSummary = { experiment_id: String(r.experiment_id), name: r.name, digest: r.digest };
        if (r.context) s.context = r.context;
        return s;
      });
    },

    async distinctKeys(experimentIds): Promise<KeySets> {
      return listKeys(db, experimentIds.map(Number));
    },

    async gc(deletedBefore, opts): Promise<GcResult> {
      return writeTx(database, async (tx) => {
        let runsQ = tx.selectFrom("runs").select(["run_uuid", "artifact_uri"]).where("lifecycle_stage", "=", "deleted").where("deleted_time", "<=", deletedBefore);
        if (opts.runIds?.length) runsQ = runsQ.where("run_uuid", "in", opts.runIds);
        if (opts.experimentIds?.length) runsQ = runsQ.where("experiment_id", "in", opts.experimentIds.map(Number));
        const runRows = await runsQ.execute();
        const runs = runRows.map((r) => r.run_uuid);
        const artifactUris = runRows.map((r) => r.artifact_uri);
        let expQ = tx
          .selectFrom("experiments")
          .select(["experiment_id", "artifact_location"])
          .where("lifecycle_stage", "=", "deleted")
          .where("deleted_time", "<=", deletedBefore);
        if (opts.experimentIds?.length) expQ = expQ.where("experiment_id", "in", opts.experimentIds.map(Number));
        const expRows = opts.runIds?.length ? [] : await expQ.execute();
        const experiments = expRows.map((r) => r.experiment_id);
        for (const part of chunk(runs, 1, dialect.maxParams)) await tx.deleteFrom("runs").where("run_uuid", "in", part).execute();
        for (const part of chunk(experiments, 1, dialect.maxParams)) {
          const gone = await tx.selectFrom("runs").select(["run_uuid", "artifact_uri"]).where("experiment_id", "in", part).execute();
          runs.push(...gone.map((r) => r.run_uuid));
          artifactUris.push(...gone.map((r) => r.artifact_uri));
          await tx.deleteFrom("experiments").where("experiment_id", "in", part).execute();
        }
        // Runs first, then their experiments' folders (which hold them).
        artifactUris.push(...expRows.map((r) => r.artifact_location));
        return { runs, experiments: experiments.map(String), artifactUris };
      });
    },
  };
}

async function upsertExperimentTags(db: Conn, experimentId: number, tags: KeyValue[]): Promise<void> {
  for (const t of dedupeLastWins(tags)) {
    await db
      .insertInto("experiment_tags")
      .values({ experiment_id: experimentId, key: t.key, value: t.value })
      .onConflict((oc) => oc.columns(["experiment_id", "key"]).doUpdateSet({ value: t.value }))
      .execute();
  }
}

export async function upsertKeyValues(db: Conn, table: "tags" | "params", runId: string, items: KeyValue[], dialect: Dialect): Promise<void> {
  const rows = dedupeLastWins(items)
    .sort(byKey)
    .map((t) => ({ run_uuid: runId, key: t.key, value: t.value }));
  for (const part of chunk(rows, 3, dialect.maxParams)) {
    await db
      .insertInto(table)
      .values(part)
      .onConflict((oc) => oc.columns(["run_uuid", "key"]).doUpdateSet({ value: (eb) => eb.ref("excluded.value") }))
      .execute();
  }
}

export function dedupeLastWins(items: KeyValue[]): KeyValue[] {
  const m = new Map<string, KeyValue>();
  for (const t of items) m.set(t.key, t);
  return [...m.values()];
}

async function withExperimentTags(db: Conn, rows: ExperimentRow[]): Promise<Experiment[]> {
  if (!rows.length) return [];
  const tags = await db
    .selectFrom("experiment_tags")
    .selectAll()
    .where(
      "experiment_id",
      "in",
      rows.map((r) => r.experiment_id),
    )
    .orderBy("key")
    .execute();
  const byExp = new Map<number, KeyValue[]>();
  for (const t of tags) {
    const list = byExp.get(t.experiment_id) ?? [];
    list.push({ key: t.key, value: t.value });
    byExp.set(t.experiment_id, list);
  }
  return rows.map((r) => {
    const e: Experiment = {
      experiment_id: String(r.experiment_id),
      name: r.name,
      artifact_location: r.artifact_location,
      lifecycle_stage: r.lifecycle_stage,
      last_update_time: r.last_update_time,
      creation_time: r.creation_time,
    };
    const t = byExp.get(r.experiment_id);
    if (t?.length) e.tags = t;
    return e;
  });
}

interface ExperimentRow {
  experiment_id: number;
  name: string;
  artifact_location: string;
  lifecycle_stage: string;
  creation_time: number;
  last_update_time: number;
}

interface RunRow {
  run_uuid: string;
  experiment_id: number;
  name: string;
  user_id: string;
  status: string;
  start_time: number;
  end_time: number | null;
  lifecycle_stage: string;
  artifact_uri: string;
}

export function toRunInfo(r: RunRow): RunInfo {
  const info: RunInfo = {
    run_uuid: r.run_uuid,
    experiment_id: String(r.experiment_id),
    run_name: r.name,
    user_id: r.user_id,
    status: r.status,
    start_time: r.start_time,
    artifact_uri: r.artifact_uri,
    lifecycle_stage: r.lifecycle_stage,
    run_id: r.run_uuid,
  };
  if (r.end_time !== null && r.end_time !== undefined) info.end_time = r.end_time;
  return info;
}

/** Loads whole runs for a page of ids in five queries, keeping the ids' order. */
export async function loadRuns(db: Conn, ids: string[]): Promise<Run[]> {
  if (!ids.length) return [];
  const [rows, metrics, params, tags, inputs] = await Promise.all([
    db.selectFrom("runs").selectAll().where("run_uuid", "in", ids).execute(),
    db.selectFrom("latest_metrics").selectAll().where("run_uuid", "in", ids).orderBy("key").execute(),
    db.selectFrom("params").selectAll().where("run_uuid", "in", ids).orderBy("key").execute(),
    db.selectFrom("tags").selectAll().where("run_uuid", "in", ids).orderBy("key").execute(),
    db
      .selectFrom("inputs as i")
      .innerJoin("datasets as d", "d.dataset_uuid", "i.dataset_uuid")
      .select(["i.run_uuid", "d.dataset_uuid", "d.name", "d.digest", "d.source_type", "d.source", "d.schema", "d.profile"])
      .where("i.run_uuid", "in", ids)
      .orderBy("d.name")
      .execute(),
  ]);
  const inputTags = inputs.length
    ? await db.selectFrom("input_tags").selectAll().where("run_uuid", "in", ids).orderBy("key").execute()
    : [];
  const runs = new Map<string, Run>();
  for (const r of rows) {
    runs.set(r.run_uuid, { info: toRunInfo(r), data: { metrics: [], params: [], tags: [] }, inputs: { dataset_inputs: [] } });
  }
  for (const m of metrics) {
    runs.get(m.run_uuid)?.data.metrics.push({ key: m.key, value: m.is_nan ? Number.NaN : m.value, timestamp: m.timestamp, step: m.step });
  }
  for (const p of params) runs.get(p.run_uuid)?.data.params.push({ key: p.key, value: p.value });
  for (const t of tags) runs.get(t.run_uuid)?.data.tags.push({ key: t.key, value: t.value });
  for (const i of inputs) {
    const dataset: DatasetInput["dataset"] = { name: i.name, digest: i.digest, source_type: i.source_type, source: i.source };
    if (i.schema !== null) dataset.schema = i.schema;
    if (i.profile !== null) dataset.profile = i.profile;
    const its = inputTags.filter((t) => t.run_uuid === i.run_uuid && t.dataset_uuid === i.dataset_uuid).map((t) => ({ key: t.key, value: t.value }));
    const entry: DatasetInput = { dataset };
    if (its.length) entry.tags = its;
    runs.get(i.run_uuid)?.inputs.dataset_inputs.push(entry);
  }
  return ids.map((id) => runs.get(id)).filter((r): r is Run => r !== undefined);
}


import { sql } from "kysely";
import type { Database } from "../db/database.js";
import { isUniqueViolation } from "../db/dialect.js";
import { writeTx } from "../db/write-tx.js";
import type { Statement } from "better-sqlite3";
import { INSERT_PREDICTION, predictionValues } from "./prediction-json.mjs";
import { expandTensors, type PredictionRecord } from "./prediction-log.js";
import type { DeploymentSpec } from "./spec.js";

export interface DeploymentRow {
  name: string;
  spec: DeploymentSpec;
  generation: number;
  created_by: string;
  creation_time: number;
  last_updated_time: number;
}

const row = (r: { name: string; spec: string; generation: number; created_by: string; creation_time: number; last_updated_time: number }): DeploymentRow => ({
  ...r,
  spec: JSON.parse(r.spec) as DeploymentSpec,
  generation: Number(r.generation),
  creation_time: Number(r.creation_time),
  last_updated_time: Number(r.last_updated_time),
});

function predictionRow(r: PredictionRecord) {
  const [time, request_id, deployment, variant, model_version, latency_ms, shadow_of, error, inputs, outputs] = predictionValues(r);
  return { time, request_id, deployment, variant, model_version, latency_ms, shadow_of, error, inputs, outputs };
}

export function createDeploymentStore(database: Database) {
  const db = database.db;
  let insertPrediction: Statement | undefined;
  return {
    async create(spec: DeploymentSpec, by: string, now: number): Promise<DeploymentRow | undefined> {
      try {
        await writeTx(database, async (tx) => {
          const gen = await tx.selectFrom("deployments").select((eb) => eb.fn.max("generation").as("g")).executeTakeFirst();
          await tx
            .insertInto("deployments")
            .values({ name: spec.name, spec: JSON.stringify(spec), generation: Number(gen?.g ?? 0) + 1, created_by: by, creation_time: now, last_updated_time: now })
            .execute();
        });
      } catch (err) {
        if (isUniqueViolation(err)) return undefined;
        throw err;
      }
      return this.get(spec.name);
    },
    async get(name: string): Promise<DeploymentRow | undefined> {
      const r = await db.selectFrom("deployments").selectAll().where("name", "=", name).executeTakeFirst();
      return r ? row(r) : undefined;
    },
    async list(): Promise<DeploymentRow[]> {
      return (await db.selectFrom("deployments").selectAll().orderBy("name").execute()).map(row);
    },
    /** Replaces the spec; false when there is no such deployment. */
    async replace(spec: DeploymentSpec, now: number): Promise<boolean> {
      return writeTx(database, async (tx) => {
        const gen = await tx.selectFrom("deployments").select((eb) => eb.fn.max("generation").as("g")).executeTakeFirst();
        const res = await tx
          .updateTable("deployments")
          .set({ spec: JSON.stringify(spec), generation: Number(gen?.g ?? 0) + 1, last_updated_time: now })
          .where("name", "=", spec.name)
          .executeTakeFirst();
        return Number(res.numUpdatedRows) > 0;
      });
    },
    async remove(name: string): Promise<boolean> {
      const res = await writeTx(database, (tx) => tx.deleteFrom("deployments").where("name", "=", name).executeTakeFirst());
      return Number(res.numDeletedRows) > 0;
    },
    /** The newest generation and how many deployments exist: replicas compare it to notice changes (and deletions). */
    async fingerprint(): Promise<string> {
      const r = await db
        .selectFrom("deployments")
        .select((eb) => [eb.fn.max("generation").as("g"), eb.fn.countAll().as("n")])
        .executeTakeFirst();
      return `${Number(r?.g ?? 0)}:${Number(r?.n ?? 0)}`;
    },

    /** Appends a batch of predictions in one transaction (on SQLite with one prepared statement: the log's hot path). */
    async appendPredictions(records: PredictionRecord[]): Promise<void> {
      if (!records.length) return;
      // Not an audited change: predictions are data, written outside any request's audit scope.
      if (database.sqlite) {
        await database.withSqlite((raw) => {
          insertPrediction ??= raw.prepare(INSERT_PREDICTION);
          const stmt = insertPrediction;
          raw
            .transaction(() => {
              for (const r of records) stmt.run(...predictionValues(r));
            })
            .immediate();
        });
        return;
      }
      const rows = records.map(predictionRow);
      for (let i = 0; i < rows.length; i += 200) await db.insertInto("prediction_log").values(rows.slice(i, i + 200)).execute();
    },
    /**
     * Deletes predictions older than `olderThan` (epoch ms) and, past `maxRows`, the oldest ones, at most
     * `chunk` rows per statement (a short write lock each); `pause` runs between chunks. Returns rows deleted.
     */
    async prunePredictions(olderThan: number, maxRows: number, pause: () => Promise<void>, chunk = 2000): Promise<number> {
      let deleted = 0;
      // Deletes one chunk of what `pick` selects; true while there may be more.
      const step = async (pick: ReturnType<typeof idsOf>): Promise<boolean> => {
        const r = await db.deleteFrom("prediction_log").where("id", "in", pick.limit(chunk)).executeTakeFirst();
        const n = Number(r.numDeletedRows);
        deleted += n;
        await pause();
        return n === chunk;
      };
      const idsOf = () => db.selectFrom("prediction_log").select("id");
      for (const { deployment } of await db.selectFrom("prediction_log").select("deployment").distinct().execute()) {
        // The (deployment, time) index finds them without scanning the table.
        while (await step(idsOf().where("deployment", "=", deployment).where("time", "<", olderThan))) {}
      }
      const top = await db.selectFrom("prediction_log").select((eb) => eb.fn.max("id").as("max")).executeTakeFirst();
      const boundary = Number(top?.max ?? 0) - maxRows;
      if (boundary > 0) while (await step(idsOf().where("id", "<=", boundary).orderBy("id"))) {}
      return deleted;
    },
    async predictions(deployment: string, limit: number, beforeId?: number) {
      let q = db.selectFrom("prediction_log").selectAll().where("deployment", "=", deployment);
      if (beforeId !== undefined) q = q.where("id", "<", beforeId);
      const rows = await q.orderBy("id", "desc").limit(limit).execute();
      return rows.map((r) => ({ ...r, id: Number(r.id), time: Number(r.time), inputs: expandTensors(JSON.parse(r.inputs)), outputs: expandTensors(JSON.parse(r.outputs)) }));
    },
  };
}

export type DeploymentStore = ReturnType<typeof createDeploymentStore>;

/** Reads feature rows by key from a table in Keel's database (identifiers were checked by the spec parser). */
export async function lookupFeatureRows(database: Database, table: string, keyColumn: string, columns: string[], keys: (string | number)[]): Promise<Map<string, (number | null)[]>> {
  const out = new Map<string, (number | null)[]>();
  if (!keys.length) return out;
  const cols = sql.join(columns.map((c) => sql.ref(c)));
  const res = await sql<Record<string, unknown>>`select ${sql.ref(keyColumn)} as k, ${cols} from ${sql.table(table)} where ${sql.ref(keyColumn)} in (${sql.join(keys)})`.execute(database.db);
  for (const r of res.rows) out.set(String(r.k), columns.map((c) => (r[c] === null || r[c] === undefined ? null : Number(r[c]))));
  return out;
}

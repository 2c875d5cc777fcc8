import { type Transaction, sql } from "kysely";
import { alreadyExists } from "../core/errors.js";
import type { Database } from "../db/database.js";
import { writeTx } from "../db/write-tx.js";
import { dialectFor, isUniqueViolation } from "../db/dialect.js";
import type { DB } from "../db/types.js";
import { modelNotFound, versionNotFound } from "./errors.js";
import type { EventType, RegisteredModel, RegistryEvent, Tag } from "./schema.js";
import type { RegistryStore } from "./store.js";
import { latestVersionKeys, loadModels, loadVersions } from "./store-sql-read.js";
import { searchModelIds, searchVersionKeys } from "./store-sql-search.js";

type Tx = Transaction<DB>;

interface NewEvent {
  type: EventType;
  name: string;
  version?: number;
  alias?: string;
  payload: Record<string, unknown>;
}

export function createSqlRegistryStore(database: Database): RegistryStore {
  const db = database.db;
  const dialect = dialectFor(database.kind);

  /**
   * The first statement of every registry write: locks the model's row (concurrent writes to one model
   * take turns on Postgres) and, being a write, takes SQLite's write lock up front, where the busy
   * timeout applies (a transaction that reads first and writes later fails at once if another process
   * wrote in between). `touch` also stamps the model's last update, as MLflow does for version changes.
   */
  async function lockModel(tx: Tx, name: string, touch?: number) {
    const update = tx.updateTable("registered_models");
    const row = await (touch === undefined ? update.set((eb) => ({ last_version: eb.ref("last_version") })) : update.set({ last_updated_time: touch }))
      .where("name", "=", name)
      .returningAll()
      .executeTakeFirst();
    if (!row) throw modelNotFound(name);
    return row;
  }

  async function versionExists(tx: Tx, name: string, modelId: number, version: number): Promise<{ current_stage: string }> {
    const row = await tx.selectFrom("model_versions").select("current_stage").where("model_id", "=", modelId).where("version", "=", version).executeTakeFirst();
    if (!row) throw versionNotFound(name, version);
    return row;
  }

  /** The last write of every registry transaction (see Dialect.lockOrderedAppend), so the feed is in commit order. */
  async function appendEvents(tx: Tx, now: number, events: NewEvent[]): Promise<void> {
    if (!events.length) return;
    await dialect.lockOrderedAppend(tx);
    await tx
      .insertInto("registry_events")
      .values(
        events.map((e) => ({
          time: now,
          type: e.type,
          model_name: e.name,
          version: e.version ?? null,
          alias: e.alias ?? null,
          payload: JSON.stringify(e.payload),
        })),
      )
      .execute();
  }

  /** Tags given twice in one request: the last value wins, as MLflow's dict of tags does. */
  const lastWins = (tags: Tag[]): Tag[] => [...new Map(tags.map((t) => [t.key, t])).values()];

  async function upsertModelTags(tx: Tx, modelId: number, tags: Tag[]): Promise<void> {
    if (!tags.length) return;
    await tx
      .insertInto("registered_model_tags")
      .values(lastWins(tags).map((t) => ({ model_id: modelId, key: t.key, value: t.value })))
      .onConflict((oc) => oc.columns(["model_id", "key"]).doUpdateSet({ value: (eb) => eb.ref("excluded.value") }))
      .execute();
  }

  async function upsertVersionTags(tx: Tx, modelId: number, version: number, tags: Tag[]): Promise<void> {
    if (!tags.length) return;
    await tx
      .insertInto("model_version_tags")
      .values(lastWins(tags).map((t) => ({ model_id: modelId, version, key: t.key, value: t.value })))
      .onConflict((oc) => oc.columns(["model_id", "version", "key"]).doUpdateSet({ value: (eb) => eb.ref("excluded.value") }))
      .execute();
  }

  async function modelById(id: number, name: string): Promise<RegisteredModel> {
    const [model] = await loadModels(db, [id]);
    if (!model) throw modelNotFound(name);
    return model;
  }

  async function versionOf(name: string, version: number) {
    const m = await db.selectFrom("registered_models").select("model_id").where("name", "=", name).executeTakeFirst();
    if (!m) return undefined;
    const [v] = await loadVersions(db, [{ model_id: m.model_id, version }], true);
    return v;
  }

  return {
    async createModel(name, description, tags, now) {
      let id: number;
      try {
        id = await writeTx(database, async (tx) => {
          const row = await tx
            .insertInto("registered_models")
            .values({ name, description, user_id: null, creation_time: now, last_updated_time: now, last_version: 0 })
            .returning("model_id")
            .executeTakeFirstOrThrow();
          await upsertModelTags(tx, row.model_id, tags);
          await appendEvents(tx, now, [{ type: "model_created", name, payload: { name, description, tags } }]);
          return row.model_id;
        });
      } catch (err) {
        if (isUniqueViolation(err)) throw alreadyExists(`Registered Model (name=${name}) already exists.`);
        throw err;
      }
      return modelById(id, name);
    },

    async getModel(name) {
      const row = await db.selectFrom("registered_models").select("model_id").where("name", "=", name).executeTakeFirst();
      return row ? (await loadModels(db, [row.model_id]))[0] : undefined;
    },

    async renameModel(name, newName, now) {
      const id = await writeTx(database, async (tx) => {
        const m = await lockModel(tx, name, now);
        try {
          await tx.updateTable("registered_models").set({ name: newName }).where("model_id", "=", m.model_id).execute();
        } catch (err) {
          if (isUniqueViolation(err)) throw alreadyExists(`Registered Model (name=${newName}) already exists.`);
          throw err;
        }
        await tx.updateTable("model_versions").set({ last_updated_time: now }).where("model_id", "=", m.model_id).execute();
        await appendEvents(tx, now, [{ type: "model_renamed", name: newName, payload: { name: newName, previous_name: name } }]);
        return m.model_id;
      });
      return modelById(id, newName);
    },

    async updateModel(name, description, now) {
      const row = await writeTx(database, (tx) =>
        tx.updateTable("registered_models").set({ description, last_updated_time: now }).where("name", "=", name).returning("model_id").executeTakeFirst(),
      );
      if (!row) throw modelNotFound(name);
      return modelById(row.model_id, name);
    },

    async deleteModel(name, now) {
      await writeTx(database, async (tx) => {
        const m = await lockModel(tx, name);
        // Versions, their tags and aliases go by cascade.
        await tx.deleteFrom("registered_models").where("model_id", "=", m.model_id).execute();
        await appendEvents(tx, now, [{ type: "model_deleted", name, payload: { name } }]);
      });
    },

    async modelId(name) {
      const row = await db.selectFrom("registered_models").select("model_id").where("name", "=", name).executeTakeFirst();
      return row ? Number(row.model_id) : undefined;
    },

    async searchModels(q) {
      const ids = await searchModelIds(db, dialect, { ...q, limit: q.limit + 1 });
      const more = ids.length > q.limit;
      return { items: await loadModels(db, ids.slice(0, q.limit)), nextOffset: more ? q.offset + q.limit : undefined };
    },

    async setModelTag(name, tag) {
      await writeTx(database, async (tx) => upsertModelTags(tx, (await lockModel(tx, name)).model_id, [tag]));
    },

    async deleteModelTag(name, key) {
      await writeTx(database, async (tx) => {
        const m = await lockModel(tx, name);
        await tx.deleteFrom("registered_model_tags").where("model_id", "=", m.model_id).where("key", "=", key).execute();
      });
    },

    async latestVersions(name, stages) {
      const m = await db.selectFrom("registered_models").select("model_id").where("name", "=", name).executeTakeFirst();
      if (!m) throw modelNotFound(name);
      const keys = (await latestVersionKeys(db, [m.model_id])).filter((k) => (stages as readonly string[]).includes(k.stage));
      return loadVersions(db, keys, true);
    },

    async createVersion(v, now) {
      const key = await writeTx(database, async (tx) => {
        const m = await tx
          .updateTable("registered_models")
          .set((eb) => ({ last_version: eb("last_version", "+", 1), last_updated_time: now }))
          .where("name", "=", v.name)
          .returning(["model_id", "last_version"])
          .executeTakeFirst();
        if (!m) throw modelNotFound(v.name);
        const version = m.last_version;
        await tx
          .insertInto("model_versions")
          .values({
            model_id: m.model_id,
            version,
            creation_time: now,
            last_updated_time: now,
            description: v.description,
            user_id: null,
            current_stage: "None",
            source: v.source,
            storage_path: v.storagePath,
            run_id: v.runId,
            run_link: v.runLink,
            status: "READY",
            status_message: null,
          })
          .execute();
        await upsertVersionTags(tx, m.model_id, version, v.tags);
        const payload = { name: v.name, version: String(version), source: v.source, run_id: v.runId, current_stage: "None" };
        await appendEvents(tx, now, [{ type: "version_created", name: v.name, version, payload }]);
        return { model_id: m.model_id, version };
      });
      const [created] = await loadVersions(db, [key], true);
      if (!created) throw versionNotFound(v.name, key.version);
      return created;
    },

    getVersion: (name, version) => versionOf(name, version),

    async versionStoragePath(name, version) {
      const row = await db
        .selectFrom("model_versions as v")
        .innerJoin("registered_models as m", "m.model_id", "v.model_id")
        .select("v.storage_path")
        .where("m.name", "=", name)
        .where("v.version", "=", version)
        .executeTakeFirst();
      return row?.storage_path;
    },

    async updateVersion(name, version, description, now) {
      const res = await writeTx(database, (tx) =>
        tx
          .updateTable("model_versions")
          .set({ description, last_updated_time: now })
          .where("model_id", "=", (eb) => eb.selectFrom("registered_models").select("model_id").where("name", "=", name))
          .where("version", "=", version)
          .executeTakeFirst(),
      );
      const updated = Number(res.numUpdatedRows) > 0 ? await versionOf(name, version) : undefined;
      if (!updated) throw versionNotFound(name, version);
      return updated;
    },

    async deleteVersion(name, version, now) {
      await writeTx(database, async (tx) => {
        const m = await lockModel(tx, name, now);
        await versionExists(tx, name, m.model_id, version);
        const aliases = await tx
          .selectFrom("registered_model_aliases")
          .select("alias")
          .where("model_id", "=", m.model_id)
          .where("version", "=", version)
          .orderBy("alias")
          .execute();
        await tx.deleteFrom("model_versions").where("model_id", "=", m.model_id).where("version", "=", version).execute();
        const v = String(version);
        await appendEvents(tx, now, [
          ...aliases.map((a): NewEvent => ({ type: "alias_deleted", name, version, alias: a.alias, payload: { name, alias: a.alias, version: v } })),
          { type: "version_deleted", name, version, payload: { name, version: v } },
        ]);
      });
    },

    async transitionStage(name, version, stage, archiveExisting, now) {
      const key = await writeTx(database, async (tx) => {
        const m = await lockModel(tx, name, now);
        const { current_stage: from } = await versionExists(tx, name, m.model_id, version);
        const events: NewEvent[] = [];
        if (archiveExisting) {
          const others = await tx
            .updateTable("model_versions")
            .set({ current_stage: "Archived", last_updated_time: now })
            .where("model_id", "=", m.model_id)
            .where("version", "!=", version)
            .where("current_stage", "=", stage)
            .returning("version")
            .execute();
          for (const o of others.sort((a, b) => a.version - b.version)) {
            const payload = { name, version: String(o.version), from: stage, to: "Archived", archived_by: String(version) };
            events.push({ type: "stage_changed", name, version: o.version, payload });
          }
        }
        await tx
          .updateTable("model_versions")
          .set({ current_stage: stage, last_updated_time: now })
          .where("model_id", "=", m.model_id)
          .where("version", "=", version)
          .execute();
        if (from !== stage) events.push({ type: "stage_changed", name, version, payload: { name, version: String(version), from, to: stage } });
        await appendEvents(tx, now, events);
        return { model_id: m.model_id, version };
      });
      const [moved] = await loadVersions(db, [key], true);
      if (!moved) throw versionNotFound(name, version);
      return moved;
    },

    async searchVersions(q) {
      const keys = await searchVersionKeys(db, dialect, { ...q, limit: q.limit + 1 });
      const more = keys.length > q.limit;
      return { items: await loadVersions(db, keys.slice(0, q.limit), false), nextOffset: more ? q.offset + q.limit : undefined };
    },

    async setVersionTag(name, version, tag) {
      await writeTx(database, async (tx) => {
        const m = await lockModel(tx, name);
        await versionExists(tx, name, m.model_id, version);
        await upsertVersionTags(tx, m.model_id, version, [tag]);
      });
    },

    async deleteVersionTag(name, version, key) {
      await writeTx(database, async (tx) => {
        const m = await lockModel(tx, name);
        await versionExists(tx, name, m.model_id, version);
        await tx.deleteFrom("model_version_tags").where("model_id", "=", m.model_id).where("version", "=", version).where("key", "=", key).execute();
      });
    },

    async setAlias(name, alias, version, now) {
      await writeTx(database, async (tx) => {
        const m = await lockModel(tx, name);
        await versionExists(tx, name, m.model_id, version);
        const prev = await tx
          .selectFrom("registered_model_aliases")
          .select("version")
          .where("model_id", "=", m.model_id)
          .where("alias", "=", alias)
          .executeTakeFirst();
        if (prev?.version === version) return;
        await tx
          .insertInto("registered_model_aliases")
          .values({ model_id: m.model_id, alias, version })
          .onConflict((oc) => oc.columns(["model_id", "alias"]).doUpdateSet({ version }))
          .execute();
        const payload: Record<string, unknown> = { name, alias, version: String(version) };
        if (prev) payload.previous_version = String(prev.version);
        await appendEvents(tx, now, [{ type: "alias_set", name, version, alias, payload }]);
      });
    },

    async deleteAlias(name, alias, now) {
      await writeTx(database, async (tx) => {
        const m = await lockModel(tx, name);
        const gone = await tx
          .deleteFrom("registered_model_aliases")
          .where("model_id", "=", m.model_id)
          .where("alias", "=", alias)
          .returning("version")
          .executeTakeFirst();
        if (gone) await appendEvents(tx, now, [{ type: "alias_deleted", name, version: gone.version, alias, payload: { name, alias, version: String(gone.version) } }]);
      });
    },

    async versionByAlias(name, alias) {
      const row = await db
        .selectFrom("registered_model_aliases as a")
        .innerJoin("registered_models as m", "m.model_id", "a.model_id")
        .select(["a.model_id", "a.version"])
        .where("m.name", "=", name)
        .where("a.alias", "=", alias)
        .executeTakeFirst();
      return row ? (await loadVersions(db, [row], true))[0] : undefined;
    },

    async events(after, limit) {
      const rows = await db.selectFrom("registry_events").selectAll().where("seq", ">", after).orderBy("seq").limit(limit).execute();
      return rows.map(
        (r): RegistryEvent => ({
          seq: Number(r.seq),
          time: Number(r.time),
          type: r.type as EventType,
          name: r.model_name,
          ...(r.version !== null ? { version: String(r.version) } : {}),
          ...(r.alias !== null ? { alias: r.alias } : {}),
          payload: JSON.parse(r.payload),
        }),
      );
    },

    async lastEventSeq() {
      const row = await sql<{ seq: number | null }>`select max(seq) as seq from registry_events`.execute(db);
      return Number(row.rows[0]?.seq ?? 0);
    },
  };
}

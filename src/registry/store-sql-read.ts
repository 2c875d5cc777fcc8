import { type Kysely, type RawBuilder, type Selectable, sql } from "kysely";
import { chunk } from "../db/dialect.js";
import type { DB, ModelVersionsTable, RegisteredModelsTable } from "../db/types.js";
import type { ModelAlias, ModelVersion, RegisteredModel, Tag } from "./schema.js";

/**
 * Loading whole registry entities for a list of keys in a few queries, keeping the keys' order. Shared by
 * single reads and search pages. A version is keyed by (model_id, version); lists of keys travel as a
 * VALUES list (row-value IN works the same on SQLite and Postgres; the casts give Postgres the types).
 */
type Conn = Kysely<DB>;

export interface VersionKey {
  model_id: number;
  version: number;
}

/** Keys per statement: two bind parameters each, well under either database's limit. */
const KEYS_PER_QUERY = 1000;

const keyOf = (k: VersionKey) => `${k.model_id}/${k.version}`;

function valuesList(keys: VersionKey[]): RawBuilder<unknown> {
  return sql`(values ${sql.join(keys.map((k) => sql`(cast(${k.model_id} as integer), cast(${k.version} as integer))`))})`;
}

type VersionRow = Selectable<ModelVersionsTable> & { name: string };

function toVersion(r: VersionRow, tags: Tag[] | undefined, aliases: string[] | undefined): ModelVersion {
  const v: ModelVersion = {
    name: r.name,
    version: String(r.version),
    creation_timestamp: Number(r.creation_time),
    last_updated_timestamp: Number(r.last_updated_time),
    current_stage: r.current_stage,
    description: r.description,
    source: r.source,
    run_id: r.run_id,
    status: "READY",
    run_link: r.run_link,
  };
  if (r.user_id) v.user_id = r.user_id;
  if (r.status_message) v.status_message = r.status_message;
  if (tags?.length) v.tags = tags;
  if (aliases?.length) v.aliases = aliases;
  return v;
}

function groupBy<T, V>(rows: T[], key: (r: T) => string | number, value: (r: T) => V): Map<string | number, V[]> {
  const out = new Map<string | number, V[]>();
  for (const r of rows) {
    const k = key(r);
    const list = out.get(k);
    if (list) list.push(value(r));
    else out.set(k, [value(r)]);
  }
  return out;
}

/** Whole versions for `keys`, in that order (missing ones left out). Aliases only when asked: MLflow's searches omit them. */
export async function loadVersions(db: Conn, keys: VersionKey[], withAliases: boolean): Promise<ModelVersion[]> {
  const found = await versionsByKey(db, keys, withAliases);
  return keys.map((k) => found.get(keyOf(k))).filter((v) => v !== undefined);
}

async function versionsByKey(db: Conn, keys: VersionKey[], withAliases: boolean): Promise<Map<string, ModelVersion>> {
  const found = new Map<string, ModelVersion>();
  for (const part of chunk(keys, 1, KEYS_PER_QUERY)) {
    const list = valuesList(part);
    const [rows, tags, aliases] = await Promise.all([
      db
        .selectFrom("model_versions as v")
        .innerJoin("registered_models as m", "m.model_id", "v.model_id")
        .selectAll("v")
        .select("m.name")
        .where(sql<boolean>`(v.model_id, v.version) in ${list}`)
        .execute(),
      db.selectFrom("model_version_tags").selectAll().where(sql<boolean>`(model_id, version) in ${list}`).orderBy("key").execute(),
      withAliases
        ? db.selectFrom("registered_model_aliases").selectAll().where(sql<boolean>`(model_id, version) in ${list}`).orderBy("alias").execute()
        : Promise.resolve([]),
    ]);
    const tagsOf = groupBy(tags, keyOf, (t): Tag => ({ key: t.key, value: t.value }));
    const aliasesOf = groupBy(aliases, keyOf, (a) => a.alias);
    for (const r of rows) found.set(keyOf(r), toVersion(r, tagsOf.get(keyOf(r)), aliasesOf.get(keyOf(r))));
  }
  return found;
}

/** The newest version in each stage of each model, ordered as MLflow lists them (by the stage's first version). */
export async function latestVersionKeys(db: Conn, modelIds: number[]): Promise<(VersionKey & { stage: string })[]> {
  if (!modelIds.length) return [];
  const rows = await db
    .selectFrom("model_versions")
    .select(["model_id", "current_stage"])
    .select((eb) => [eb.fn.max("version").as("latest"), eb.fn.min("version").as("first")])
    .where("model_id", "in", modelIds)
    .groupBy(["model_id", "current_stage"])
    .execute();
  return rows
    .map((r) => ({ model_id: Number(r.model_id), version: Number(r.latest), first: Number(r.first), stage: r.current_stage }))
    .sort((a, b) => a.model_id - b.model_id || a.first - b.first)
    .map(({ first: _f, ...k }) => k);
}

function toModel(r: Selectable<RegisteredModelsTable>, latest: ModelVersion[], tags: Tag[] | undefined, aliases: ModelAlias[] | undefined): RegisteredModel {
  const m: RegisteredModel = { name: r.name, creation_timestamp: Number(r.creation_time), last_updated_timestamp: Number(r.last_updated_time) };
  if (r.user_id) m.user_id = r.user_id;
  if (r.description) m.description = r.description;
  if (latest.length) m.latest_versions = latest;
  if (tags?.length) m.tags = tags;
  if (aliases?.length) m.aliases = aliases;
  return m;
}

/** Whole registered models for `ids`, in that order: tags, aliases and the latest version per stage. */
export async function loadModels(db: Conn, ids: number[]): Promise<RegisteredModel[]> {
  const found = new Map<number, RegisteredModel>();
  for (const part of chunk(ids, 1, KEYS_PER_QUERY)) {
    const [rows, tags, aliases, latestKeys] = await Promise.all([
      db.selectFrom("registered_models").selectAll().where("model_id", "in", part).execute(),
      db.selectFrom("registered_model_tags").selectAll().where("model_id", "in", part).orderBy("key").execute(),
      db.selectFrom("registered_model_aliases").selectAll().where("model_id", "in", part).orderBy("alias").execute(),
      latestVersionKeys(db, part),
    ]);
    const latest = await versionsByKey(db, latestKeys, false);
    const latestOf = groupBy(
      latestKeys.filter((k) => latest.has(keyOf(k))),
      (k) => k.model_id,
      (k) => latest.get(keyOf(k)) as ModelVersion,
    );
    const tagsOf = groupBy(tags, (t) => t.model_id, (t): Tag => ({ key: t.key, value: t.value }));
    const aliasesOf = groupBy(aliases, (a) => a.model_id, (a): ModelAlias => ({ alias: a.alias, version: String(a.version) }));
    for (const r of rows) found.set(r.model_id, toModel(r, latestOf.get(r.model_id) ?? [], tagsOf.get(r.model_id), aliasesOf.get(r.model_id)));
  }
  return ids.map((id) => found.get(id)).filter((m) => m !== undefined);
}

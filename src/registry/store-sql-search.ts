import { type Kysely, type RawBuilder, sql } from "kysely";
import type { Comparison, OrderBy } from "../core/search-grammar.js";
import type { Dialect } from "../db/dialect.js";
import { compareSql, visibilitySql } from "../db/search-sql.js";
import type { DB } from "../db/types.js";
import type { SearchQuery } from "./store.js";
import type { VersionKey } from "./store-sql-read.js";

/** Registry searches as SQL shared by both dialects; tag clauses are semi-joins on the tag tables. */
type Sql = RawBuilder<unknown>;

const MODEL_COLUMNS: Record<string, string> = {
  name: "m.name",
  last_updated_timestamp: "m.last_updated_time",
  creation_timestamp: "m.creation_time",
};

const VERSION_COLUMNS: Record<string, string> = {
  name: "m.name",
  run_id: "v.run_id",
  source_path: "v.source",
  version_number: "v.version",
  creation_timestamp: "v.creation_time",
  last_updated_timestamp: "v.last_updated_time",
};

/** MLflow's default order for versions; it then breaks ties by name ascending and version descending. */
const VERSION_DEFAULT_ORDER: OrderBy[] = [{ type: "attribute", key: "last_updated_timestamp", ascending: false }];

/** Names sort in code-point order on both databases, so pages and tests do not depend on a locale. */
function orderTerms(dialect: Dialect, orderBy: OrderBy[], columns: Record<string, string>, tieBreaks: OrderBy[]): Sql[] {
  const named = new Set(orderBy.map((o) => o.key));
  return [...orderBy, ...tieBreaks.filter((t) => !named.has(t.key))].map((o) => {
    const column = o.key === "name" ? dialect.byteOrder(sql.raw(columns[o.key])) : sql.raw(columns[o.key]);
    return sql`${column} ${sql.raw(o.ascending ? "asc" : "desc")}`;
  });
}

function where(clauses: RawBuilder<boolean>[]): Sql {
  return clauses.length ? sql`where ${sql.join(clauses, sql` and `)}` : sql``;
}

export async function searchModelIds(db: Kysely<DB>, dialect: Dialect, q: SearchQuery): Promise<number[]> {
  const clauses = q.filter.map((c: Comparison) =>
    c.type === "tag"
      ? sql<boolean>`m.model_id in (select model_id from registered_model_tags where key = ${c.key} and ${compareSql(dialect, sql.ref("value"), c)})`
      : compareSql(dialect, sql.raw(MODEL_COLUMNS[c.key]), c),
  );
  const visible = visibilitySql(sql.ref("m.model_id"), q.visible);
  if (visible) clauses.push(visible);
  const order = orderTerms(dialect, q.orderBy, MODEL_COLUMNS, [{ type: "attribute", key: "name", ascending: true }]);
  const result = await sql<{ model_id: number }>`select m.model_id from registered_models m ${where(clauses)}
    order by ${sql.join(order)} limit ${q.limit} offset ${q.offset}`.execute(db);
  return result.rows.map((r) => Number(r.model_id));
}

export async function searchVersionKeys(db: Kysely<DB>, dialect: Dialect, q: SearchQuery): Promise<VersionKey[]> {
  const clauses = q.filter.map((c: Comparison) =>
    c.type === "tag"
      ? sql<boolean>`(v.model_id, v.version) in (select model_id, version from model_version_tags where key = ${c.key} and ${compareSql(dialect, sql.ref("value"), c)})`
      : compareSql(dialect, sql.raw(VERSION_COLUMNS[c.key]), c),
  );
  const visible = visibilitySql(sql.ref("v.model_id"), q.visible);
  if (visible) clauses.push(visible);
  const order = orderTerms(dialect, q.orderBy.length ? q.orderBy : VERSION_DEFAULT_ORDER, VERSION_COLUMNS, [
    { type: "attribute", key: "name", ascending: true },
    { type: "attribute", key: "version_number", ascending: false },
  ]);
  const result = await sql<VersionKey>`select v.model_id, v.version from model_versions v join registered_models m on m.model_id = v.model_id
    ${where(clauses)} order by ${sql.join(order)} limit ${q.limit} offset ${q.offset}`.execute(db);
  return result.rows.map((r) => ({ model_id: Number(r.model_id), version: Number(r.version) }));
}

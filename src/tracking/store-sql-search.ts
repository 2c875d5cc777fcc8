import type { Visibility } from "../core/visibility.js";
import { type Kysely, type RawBuilder, sql } from "kysely";
import type { Dialect } from "../db/dialect.js";
import { compareSql, visibilitySql } from "../db/search-sql.js";
import type { DB } from "../db/types.js";
import type { ViewType } from "./schema.js";
import type { Comparison, OrderBy } from "./search-filter.js";

/**
 * Translates parsed MLflow filters into SQL shared by both dialects. Each metric/param/tag clause is a
 * semi-join on an indexed (key, value) table, so a selective filter touches only matching rows.
 */
type Sql = RawBuilder<unknown>;

const RUN_ATTR_COLUMNS: Record<string, string> = {
  run_id: "r.run_uuid",
  run_name: "r.name",
  status: "r.status",
  user_id: "r.user_id",
  artifact_uri: "r.artifact_uri",
  lifecycle_stage: "r.lifecycle_stage",
  start_time: "r.start_time",
  end_time: "r.end_time",
  experiment_id: "r.experiment_id",
};

const EXP_ATTR_COLUMNS: Record<string, string> = {
  name: "e.name",
  experiment_id: "e.experiment_id",
  creation_time: "e.creation_time",
  last_update_time: "e.last_update_time",
};

function runClause(dialect: Dialect, c: Comparison): RawBuilder<boolean> {
  const value = sql.ref("value");
  switch (c.type) {
    case "metric":
      return sql<boolean>`r.run_uuid in (select run_uuid from latest_metrics where key = ${c.key} and is_nan = 0 and ${compareSql(dialect, value, c)})`;
    case "param":
    case "tag": {
      const table = sql.raw(c.type === "param" ? "params" : "tags");
      if (c.comparator === "IS NULL") return sql<boolean>`r.run_uuid not in (select run_uuid from ${table} where key = ${c.key})`;
      if (c.comparator === "IS NOT NULL") return sql<boolean>`r.run_uuid in (select run_uuid from ${table} where key = ${c.key})`;
      return sql<boolean>`r.run_uuid in (select run_uuid from ${table} where key = ${c.key} and ${prefixMatch(dialect, c)}${compareSql(dialect, value, c)})`;
    }
    case "attribute": {
      const col = RUN_ATTR_COLUMNS[c.key];
      if (c.key === "experiment_id") return compareSql(dialect, sql.raw(col), { ...c, value: numericList(c.value) });
      return compareSql(dialect, sql.raw(col), c);
    }
    case "dataset": {
      if (c.key === "context") {
        return sql<boolean>`r.run_uuid in (select run_uuid from input_tags where key = 'mlflow.data.context' and ${compareSql(dialect, value, c)})`;
      }
      const col = sql.raw(c.key === "name" ? "d.name" : "d.digest");
      return sql<boolean>`r.run_uuid in (select i.run_uuid from inputs i join datasets d on d.dataset_uuid = i.dataset_uuid where ${compareSql(dialect, col, c)})`;
    }
  }
}

/** For equality on Postgres, also compare the indexed prefix so the planner can use the (key, prefix) index. */
function prefixMatch(dialect: Dialect, c: Comparison): Sql {
  if (dialect.kind !== "postgres" || (c.comparator !== "=" && c.comparator !== "IN")) return sql``;
  const values = (Array.isArray(c.value) ? c.value : [c.value]).map((x) => dialect.valuePrefix(sql`${x}`));
  return sql`${dialect.valuePrefix(sql.ref("value"))} in (${sql.join(values)}) and `;
}

function numericList(v: Comparison["value"]): Comparison["value"] {
  return Array.isArray(v) ? v.map((x) => Number(x)) as unknown as string[] : typeof v === "string" ? Number(v) : v;
}

function lifecycle(column: string, viewType: ViewType): RawBuilder<boolean> {
  if (viewType === "ALL") return sql<boolean>`1 = 1`;
  return sql<boolean>`${sql.raw(column)} = ${viewType === "DELETED_ONLY" ? "deleted" : "active"}`;
}

/** NULLs (runs without the key) sort last in both directions, as in MLflow. */
function orderTerm(expr: Sql, ascending: boolean): Sql[] {
  return [sql`(case when ${expr} is null then 1 else 0 end)`, sql`${expr} ${sql.raw(ascending ? "asc" : "desc")}`];
}

export async function searchRunIds(
  db: Kysely<DB>,
  dialect: Dialect,
  q: { experimentIds: string[]; viewType: ViewType; filter: Comparison[]; orderBy: OrderBy[]; offset: number; limit: number },
): Promise<string[]> {
  if (!q.experimentIds.length) return [];
  const joins: Sql[] = [];
  const order: Sql[] = [];
  q.orderBy.forEach((o, i) => {
    const alias = sql.raw(`o${i}`);
    if (o.type === "attribute") {
      order.push(...orderTerm(sql.raw(RUN_ATTR_COLUMNS[o.key]), o.ascending));
    } else if (o.type === "metric") {
      joins.push(sql`left join latest_metrics ${alias} on ${alias}.run_uuid = r.run_uuid and ${alias}.key = ${o.key}`);
      // NaN is stored as 0 with is_nan = 1: sort it above every number, as MLflow does.
      order.push(sql`(case when ${alias}.value is null then 1 else 0 end)`);
      order.push(sql`${alias}.is_nan ${sql.raw(o.ascending ? "asc" : "desc")}`);
      order.push(sql`${alias}.value ${sql.raw(o.ascending ? "asc" : "desc")}`);
    } else {
      const table = sql.raw(o.type === "param" ? "params" : "tags");
      joins.push(sql`left join ${table} ${alias} on ${alias}.run_uuid = r.run_uuid and ${alias}.key = ${o.key}`);
      order.push(...orderTerm(sql`${alias}.value`, o.ascending));
    }
  });
  if (!q.orderBy.some((o) => o.type === "attribute" && o.key === "start_time")) order.push(sql`r.start_time desc`);
  order.push(sql`r.run_uuid asc`);
  const where = [
    sql<boolean>`r.experiment_id in (${sql.join(q.experimentIds.map((id) => sql`${Number(id)}`))})`,
    lifecycle("r.lifecycle_stage", q.viewType),
    ...q.filter.map((c) => runClause(dialect, c)),
  ];
  const result = await sql<{ run_uuid: string }>`select r.run_uuid from runs r ${sql.join(joins, sql` `)}
    where ${sql.join(where, sql` and `)}
    order by ${sql.join(order)}
    limit ${q.limit} offset ${q.offset}`.execute(db);
  return result.rows.map((r) => r.run_uuid);
}

export async function searchExperimentIds(
  db: Kysely<DB>,
  dialect: Dialect,
  q: { viewType: ViewType; filter: Comparison[]; orderBy: OrderBy[]; offset: number; limit: number; visible?: Visibility },
): Promise<number[]> {
  const where: RawBuilder<boolean>[] = [lifecycle("e.lifecycle_stage", q.viewType)];
  const visible = visibilitySql(sql.ref("e.experiment_id"), q.visible);
  if (visible) where.push(visible);
  for (const c of q.filter) {
    if (c.type === "tag") {
      if (c.comparator === "IS NULL") where.push(sql`e.experiment_id not in (select experiment_id from experiment_tags where key = ${c.key})`);
      else if (c.comparator === "IS NOT NULL") where.push(sql`e.experiment_id in (select experiment_id from experiment_tags where key = ${c.key})`);
      else
        where.push(
          sql`e.experiment_id in (select experiment_id from experiment_tags where key = ${c.key} and ${compareSql(dialect, sql.ref("value"), c)})`,
        );
    } else {
      const col = sql.raw(EXP_ATTR_COLUMNS[c.key]);
      where.push(compareSql(dialect, col, c.key === "experiment_id" ? { ...c, value: numericList(c.value) } : c));
    }
  }
  const order: Sql[] = [];
  for (const o of q.orderBy) order.push(sql`${sql.raw(EXP_ATTR_COLUMNS[o.key] ?? "e.name")} ${sql.raw(o.ascending ? "asc" : "desc")}`);
  if (!q.orderBy.length) order.push(sql`e.creation_time desc`);
  order.push(sql`e.experiment_id asc`);
  const result = await sql<{ experiment_id: number }>`select e.experiment_id from experiments e
    where ${sql.join(where, sql` and `)}
    order by ${sql.join(order)}
    limit ${q.limit} offset ${q.offset}`.execute(db);
  return result.rows.map((r) => Number(r.experiment_id));
}

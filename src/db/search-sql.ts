import { type RawBuilder, sql } from "kysely";
import type { Comparison } from "../core/search-grammar.js";
import type { Visibility } from "../core/visibility.js";
import type { Dialect } from "./dialect.js";

/** One parsed search comparison against a column, in SQL both dialects run (MLflow's LIKE is case-sensitive, ILIKE not). */
export function compareSql(dialect: Dialect, column: RawBuilder<unknown>, c: Comparison): RawBuilder<boolean> {
  const v = c.value;
  switch (c.comparator) {
    case "=":
    case "!=":
    case ">":
    case ">=":
    case "<":
    case "<=":
      return sql<boolean>`${column} ${sql.raw(c.comparator)} ${v}`;
    case "LIKE":
      return sql<boolean>`${column} like ${v}`;
    case "ILIKE":
      return dialect.ilike(column, v);
    case "IN":
    case "NOT IN": {
      const list = (Array.isArray(v) ? v : [v]).map((x) => sql`${x}`);
      return sql<boolean>`${column} ${sql.raw(c.comparator === "IN" ? "in" : "not in")} (${sql.join(list)})`;
    }
    case "IS NULL":
      return sql<boolean>`${column} is null`;
    case "IS NOT NULL":
      return sql<boolean>`${column} is not null`;
  }
}

/** Restricts a search to what the caller may see (core/visibility.ts); undefined when there is nothing to restrict. */
export function visibilitySql(column: RawBuilder<unknown>, v: Visibility | undefined): RawBuilder<boolean> | undefined {
  if (!v) return undefined;
  if (v.allow) return v.allow.length ? sql<boolean>`${column} in (${sql.join(v.allow)})` : sql<boolean>`1 = 0`;
  if (v.deny?.length) return sql<boolean>`${column} not in (${sql.join(v.deny)})`;
  return undefined;
}

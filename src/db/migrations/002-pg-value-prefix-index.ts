import { type Kysely, type Migration, sql } from "kysely";
import { VALUE_PREFIX_CHARS } from "../dialect.js";

/**
 * Postgres refuses btree entries over ~2.7 kB, so a (key, value) index made a long incompressible param or
 * tag value (MLflow allows 6000/8000 characters) fail with an error instead of being stored. There the
 * index holds a prefix of the value; searches compare the prefix too (dialect.valuePrefix) to use it.
 * SQLite has no such limit and keeps indexing the whole value.
 */
export function migration002(kind: "sqlite" | "postgres"): Migration {
  return {
    async up(db: Kysely<unknown>) {
      if (kind !== "postgres") return;
      for (const table of ["params", "tags"]) {
        await sql`drop index if exists ${sql.ref(`${table}_key_value`)}`.execute(db);
        await sql`create index ${sql.ref(`${table}_key_value_prefix`)} on ${sql.table(table)} (key, left(value, ${sql.raw(String(VALUE_PREFIX_CHARS))}))`.execute(db);
      }
    },
  };
}

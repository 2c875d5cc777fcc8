import { type Kysely, type Migration, sql } from "kysely";

/**
 * The metric, param and tag keys each experiment's runs have logged (`GET /experiments/keys`: the runs
 * table's autocomplete and column chooser). Kept at write time, so the answer is an index range instead
 * of a distinct over every run's rows (about 200 ms on 10,000 runs, holding SQLite's thread). Filled here
 * from what was logged before. Replicas sharing a Postgres database: a replica still running an older Keel
 * after this ran logs keys the catalog misses until a newer one logs them again, so upgrade them together.
 */
export function migration009(kind: "sqlite" | "postgres"): Migration {
  return {
    async up(db: Kysely<unknown>) {
      let table = db.schema
        .createTable("experiment_keys")
        .addColumn("experiment_id", "integer", (c) => c.notNull().references("experiments.experiment_id").onDelete("cascade"))
        .addColumn("kind", "text", (c) => c.notNull())
        .addColumn("key", "text", (c) => c.notNull())
        .addPrimaryKeyConstraint("experiment_keys_pk", ["experiment_id", "kind", "key"]);
      if (kind === "sqlite") table = table.modifyEnd(sql`without rowid`);
      await table.execute();
      for (const [k, source] of [
        ["metric", "latest_metrics"],
        ["param", "params"],
        ["tag", "tags"],
      ] as const) {
        await sql`insert into experiment_keys (experiment_id, kind, key)
          select distinct r.experiment_id, ${k}, t.key from ${sql.table(source)} t join runs r on r.run_uuid = t.run_uuid`.execute(db);
      }
    },
  };
}

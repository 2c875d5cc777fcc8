import { type Kysely, type Migration, sql } from "kysely";

/** Tracking tables, modelled on MLflow's schema so its concepts map one to one. */
export function migration001(kind: "sqlite" | "postgres"): Migration {
  const pg = kind === "postgres";
  return {
    async up(db: Kysely<unknown>) {
      let exp = db.schema.createTable("experiments");
      exp = pg
        ? exp.addColumn("experiment_id", "serial", (c) => c.primaryKey())
        : exp.addColumn("experiment_id", "integer", (c) => c.primaryKey().autoIncrement());
      await exp
        .addColumn("name", "text", (c) => c.notNull().unique())
        .addColumn("artifact_location", "text", (c) => c.notNull())
        .addColumn("lifecycle_stage", "text", (c) => c.notNull())
        .addColumn("creation_time", "bigint", (c) => c.notNull())
        .addColumn("last_update_time", "bigint", (c) => c.notNull())
        .addColumn("deleted_time", "bigint")
        .execute();

      await db.schema
        .createTable("experiment_tags")
        .addColumn("experiment_id", "integer", (c) => c.notNull().references("experiments.experiment_id").onDelete("cascade"))
        .addColumn("key", "text", (c) => c.notNull())
        .addColumn("value", "text", (c) => c.notNull())
        .addPrimaryKeyConstraint("experiment_tags_pk", ["experiment_id", "key"])
        .execute();

      await db.schema
        .createTable("runs")
        .addColumn("run_uuid", "text", (c) => c.primaryKey())
        .addColumn("experiment_id", "integer", (c) => c.notNull().references("experiments.experiment_id").onDelete("cascade"))
        .addColumn("name", "text", (c) => c.notNull())
        .addColumn("user_id", "text", (c) => c.notNull())
        .addColumn("status", "text", (c) => c.notNull())
        .addColumn("start_time", "bigint", (c) => c.notNull())
        .addColumn("end_time", "bigint")
        .addColumn("lifecycle_stage", "text", (c) => c.notNull())
        .addColumn("artifact_uri", "text", (c) => c.notNull())
        .addColumn("deleted_time", "bigint")
        .execute();
      await db.schema.createIndex("runs_experiment_start").on("runs").columns(["experiment_id", "start_time"]).execute();

      // History reads are range scans on (run, key, step): make that the clustered key on SQLite.
      let metrics = db.schema
        .createTable("metrics")
        .addColumn("run_uuid", "text", (c) => c.notNull().references("runs.run_uuid").onDelete("cascade"))
        .addColumn("key", "text", (c) => c.notNull())
        .addColumn("step", "bigint", (c) => c.notNull())
        .addColumn("timestamp", "bigint", (c) => c.notNull())
        .addColumn("value", pg ? "double precision" : "real", (c) => c.notNull())
        .addColumn("is_nan", "smallint", (c) => c.notNull())
        .addPrimaryKeyConstraint("metrics_pk", ["run_uuid", "key", "step", "timestamp", "value", "is_nan"]);
      if (!pg) metrics = metrics.modifyEnd(sql`without rowid`);
      await metrics.execute();

      await db.schema
        .createTable("latest_metrics")
        .addColumn("run_uuid", "text", (c) => c.notNull().references("runs.run_uuid").onDelete("cascade"))
        .addColumn("key", "text", (c) => c.notNull())
        .addColumn("step", "bigint", (c) => c.notNull())
        .addColumn("timestamp", "bigint", (c) => c.notNull())
        .addColumn("value", pg ? "double precision" : "real", (c) => c.notNull())
        .addColumn("is_nan", "smallint", (c) => c.notNull())
        .addPrimaryKeyConstraint("latest_metrics_pk", ["run_uuid", "key"])
        .execute();
      await db.schema.createIndex("latest_metrics_key_value").on("latest_metrics").columns(["key", "value"]).execute();

      for (const table of ["params", "tags"] as const) {
        await db.schema
          .createTable(table)
          .addColumn("run_uuid", "text", (c) => c.notNull().references("runs.run_uuid").onDelete("cascade"))
          .addColumn("key", "text", (c) => c.notNull())
          .addColumn("value", "text", (c) => c.notNull())
          .addPrimaryKeyConstraint(`${table}_pk`, ["run_uuid", "key"])
          .execute();
        await db.schema.createIndex(`${table}_key_value`).on(table).columns(["key", "value"]).execute();
      }

      await db.schema
        .createTable("datasets")
        .addColumn("dataset_uuid", "text", (c) => c.primaryKey())
        .addColumn("experiment_id", "integer", (c) => c.notNull().references("experiments.experiment_id").onDelete("cascade"))
        .addColumn("name", "text", (c) => c.notNull())
        .addColumn("digest", "text", (c) => c.notNull())
        .addColumn("source_type", "text", (c) => c.notNull())
        .addColumn("source", "text", (c) => c.notNull())
        .addColumn("schema", "text")
        .addColumn("profile", "text")
        .addUniqueConstraint("datasets_experiment_name_digest", ["experiment_id", "name", "digest"])
        .execute();

      await db.schema
        .createTable("inputs")
        .addColumn("run_uuid", "text", (c) => c.notNull().references("runs.run_uuid").onDelete("cascade"))
        .addColumn("dataset_uuid", "text", (c) => c.notNull().references("datasets.dataset_uuid").onDelete("cascade"))
        .addPrimaryKeyConstraint("inputs_pk", ["run_uuid", "dataset_uuid"])
        .execute();
      await db.schema.createIndex("inputs_dataset").on("inputs").column("dataset_uuid").execute();

      await db.schema
        .createTable("input_tags")
        .addColumn("run_uuid", "text", (c) => c.notNull())
        .addColumn("dataset_uuid", "text", (c) => c.notNull())
        .addColumn("key", "text", (c) => c.notNull())
        .addColumn("value", "text", (c) => c.notNull())
        .addPrimaryKeyConstraint("input_tags_pk", ["run_uuid", "dataset_uuid", "key"])
        .addForeignKeyConstraint("input_tags_input_fk", ["run_uuid", "dataset_uuid"], "inputs", ["run_uuid", "dataset_uuid"], (c) =>
          c.onDelete("cascade"),
        )
        .execute();

      // MLflow's Default experiment always exists with id 0.
      const now = Date.now();
      await sql`insert into experiments (experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time)
        values (0, 'Default', 'mlflow-artifacts:/0', 'active', ${now}, ${now})`.execute(db);
    },
  };
}

import type { Kysely, Migration } from "kysely";

/**
 * Model registry tables, modelled on MLflow's (registered_models, model_versions, tags, aliases) with two
 * changes: models have a surrogate id (a rename updates one row), and versions are deleted for real while
 * `last_version` keeps their numbers from being reused. `registry_events` is the ordered change feed.
 * Tag values (up to 5000 characters) are not indexed: Postgres btree entries must stay under ~2.7 kB.
 */
export function migration003(kind: "sqlite" | "postgres"): Migration {
  const pg = kind === "postgres";
  return {
    async up(db: Kysely<unknown>) {
      let models = db.schema.createTable("registered_models");
      models = pg
        ? models.addColumn("model_id", "serial", (c) => c.primaryKey())
        : models.addColumn("model_id", "integer", (c) => c.primaryKey().autoIncrement());
      await models
        .addColumn("name", "text", (c) => c.notNull().unique())
        .addColumn("description", "text", (c) => c.notNull())
        .addColumn("user_id", "text")
        .addColumn("creation_time", "bigint", (c) => c.notNull())
        .addColumn("last_updated_time", "bigint", (c) => c.notNull())
        .addColumn("last_version", "integer", (c) => c.notNull())
        .execute();
      await db.schema.createIndex("registered_models_updated").on("registered_models").columns(["last_updated_time"]).execute();

      await db.schema
        .createTable("registered_model_tags")
        .addColumn("model_id", "integer", (c) => c.notNull().references("registered_models.model_id").onDelete("cascade"))
        .addColumn("key", "text", (c) => c.notNull())
        .addColumn("value", "text", (c) => c.notNull())
        .addPrimaryKeyConstraint("registered_model_tags_pk", ["model_id", "key"])
        .execute();

      await db.schema
        .createTable("model_versions")
        .addColumn("model_id", "integer", (c) => c.notNull().references("registered_models.model_id").onDelete("cascade"))
        .addColumn("version", "integer", (c) => c.notNull())
        .addColumn("creation_time", "bigint", (c) => c.notNull())
        .addColumn("last_updated_time", "bigint", (c) => c.notNull())
        .addColumn("description", "text", (c) => c.notNull())
        .addColumn("user_id", "text")
        .addColumn("current_stage", "text", (c) => c.notNull())
        .addColumn("source", "text", (c) => c.notNull())
        .addColumn("storage_path", "text", (c) => c.notNull())
        .addColumn("run_id", "text", (c) => c.notNull())
        .addColumn("run_link", "text", (c) => c.notNull())
        .addColumn("status", "text", (c) => c.notNull())
        .addColumn("status_message", "text")
        .addPrimaryKeyConstraint("model_versions_pk", ["model_id", "version"])
        .execute();
      await db.schema.createIndex("model_versions_run").on("model_versions").columns(["run_id"]).execute();

      await db.schema
        .createTable("model_version_tags")
        .addColumn("model_id", "integer", (c) => c.notNull())
        .addColumn("version", "integer", (c) => c.notNull())
        .addColumn("key", "text", (c) => c.notNull())
        .addColumn("value", "text", (c) => c.notNull())
        .addPrimaryKeyConstraint("model_version_tags_pk", ["model_id", "version", "key"])
        .addForeignKeyConstraint("model_version_tags_version_fk", ["model_id", "version"], "model_versions", ["model_id", "version"], (c) =>
          c.onDelete("cascade"),
        )
        .execute();

      await db.schema
        .createTable("registered_model_aliases")
        .addColumn("model_id", "integer", (c) => c.notNull())
        .addColumn("alias", "text", (c) => c.notNull())
        .addColumn("version", "integer", (c) => c.notNull())
        .addPrimaryKeyConstraint("registered_model_aliases_pk", ["model_id", "alias"])
        .addForeignKeyConstraint("registered_model_aliases_version_fk", ["model_id", "version"], "model_versions", ["model_id", "version"], (c) =>
          c.onDelete("cascade"),
        )
        .execute();

      let events = db.schema.createTable("registry_events");
      // AUTOINCREMENT: SQLite never reissues a sequence number, even after the newest row is deleted.
      events = pg
        ? events.addColumn("seq", "bigserial", (c) => c.primaryKey())
        : events.addColumn("seq", "integer", (c) => c.primaryKey().autoIncrement());
      await events
        .addColumn("time", "bigint", (c) => c.notNull())
        .addColumn("type", "text", (c) => c.notNull())
        .addColumn("model_name", "text", (c) => c.notNull())
        .addColumn("version", "integer")
        .addColumn("alias", "text")
        .addColumn("payload", "text", (c) => c.notNull())
        .execute();
    },
  };
}

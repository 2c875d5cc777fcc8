import type { Kysely, Migration } from "kysely";

/**
 * Deployments (their spec as JSON; `generation` increases with every change so replicas notice one with
 * a cheap poll) and the prediction log the serving path fills asynchronously.
 */
export function migration007(kind: "sqlite" | "postgres"): Migration {
  const pg = kind === "postgres";
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable("deployments")
        .addColumn("name", "text", (c) => c.primaryKey())
        .addColumn("spec", "text", (c) => c.notNull())
        .addColumn("generation", "bigint", (c) => c.notNull())
        .addColumn("created_by", "text", (c) => c.notNull())
        .addColumn("creation_time", "bigint", (c) => c.notNull())
        .addColumn("last_updated_time", "bigint", (c) => c.notNull())
        .execute();

      let log = db.schema.createTable("prediction_log");
      log = pg ? log.addColumn("id", "bigserial", (c) => c.primaryKey()) : log.addColumn("id", "integer", (c) => c.primaryKey().autoIncrement());
      await log
        .addColumn("time", "bigint", (c) => c.notNull())
        .addColumn("request_id", "text", (c) => c.notNull())
        .addColumn("deployment", "text", (c) => c.notNull())
        .addColumn("variant", "text", (c) => c.notNull())
        .addColumn("model_version", "text", (c) => c.notNull())
        .addColumn("latency_ms", "double precision", (c) => c.notNull())
        .addColumn("shadow_of", "text")
        .addColumn("error", "text")
        .addColumn("inputs", "text", (c) => c.notNull())
        .addColumn("outputs", "text", (c) => c.notNull())
        .execute();
      await db.schema.createIndex("prediction_log_deployment_time").on("prediction_log").columns(["deployment", "time"]).execute();
    },
  };
}

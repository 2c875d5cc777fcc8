import type { Kysely, Migration } from "kysely";

/**
 * Webhooks on the registry's event feed. Each webhook keeps its own cursor into registry_events; an
 * event it wants becomes one delivery row (unique per webhook and event, so replicas enqueueing the
 * same event make one delivery), claimed by one process at a time through `locked_until`, with every
 * attempt kept in webhook_attempts (the delivery log).
 */
export function migration006(kind: "sqlite" | "postgres"): Migration {
  const pg = kind === "postgres";
  return {
    async up(db: Kysely<unknown>) {
      let hooks = db.schema.createTable("webhooks");
      hooks = pg ? hooks.addColumn("webhook_id", "serial", (c) => c.primaryKey()) : hooks.addColumn("webhook_id", "integer", (c) => c.primaryKey().autoIncrement());
      await hooks
        .addColumn("name", "text", (c) => c.notNull().unique())
        .addColumn("url", "text", (c) => c.notNull())
        .addColumn("secret", "text", (c) => c.notNull())
        .addColumn("events", "text", (c) => c.notNull())
        .addColumn("model_name", "text")
        .addColumn("active", "integer", (c) => c.notNull())
        .addColumn("cursor", "bigint", (c) => c.notNull())
        .addColumn("created_by", "text", (c) => c.notNull())
        .addColumn("creation_time", "bigint", (c) => c.notNull())
        .execute();

      let deliveries = db.schema.createTable("webhook_deliveries");
      deliveries = pg
        ? deliveries.addColumn("delivery_id", "serial", (c) => c.primaryKey())
        : deliveries.addColumn("delivery_id", "integer", (c) => c.primaryKey().autoIncrement());
      await deliveries
        .addColumn("webhook_id", "integer", (c) => c.notNull().references("webhooks.webhook_id").onDelete("cascade"))
        .addColumn("event_seq", "bigint", (c) => c.notNull())
        .addColumn("body", "text", (c) => c.notNull())
        .addColumn("status", "text", (c) => c.notNull())
        .addColumn("attempts", "integer", (c) => c.notNull())
        .addColumn("next_attempt_time", "bigint", (c) => c.notNull())
        .addColumn("locked_until", "bigint", (c) => c.notNull())
        .addColumn("creation_time", "bigint", (c) => c.notNull())
        .addColumn("finished_time", "bigint")
        .addUniqueConstraint("webhook_deliveries_event", ["webhook_id", "event_seq"])
        .execute();
      await db.schema.createIndex("webhook_deliveries_due").on("webhook_deliveries").columns(["status", "next_attempt_time"]).execute();

      await db.schema
        .createTable("webhook_attempts")
        .addColumn("delivery_id", "integer", (c) => c.notNull().references("webhook_deliveries.delivery_id").onDelete("cascade"))
        .addColumn("attempt", "integer", (c) => c.notNull())
        .addColumn("time", "bigint", (c) => c.notNull())
        .addColumn("duration_ms", "integer", (c) => c.notNull())
        .addColumn("status_code", "integer")
        .addColumn("error", "text")
        .addColumn("response_excerpt", "text")
        .addPrimaryKeyConstraint("webhook_attempts_pk", ["delivery_id", "attempt"])
        .execute();
    },
  };
}

import type { Kysely, Migration } from "kysely";

/**
 * Governance: users, groups, API tokens, per-resource permissions and the audit hash chain.
 * Permissions live in two tables with foreign keys (as MLflow's auth app keeps them), so deleting an
 * experiment or a model drops its grants and renaming a model keeps them. Tokens are stored only as
 * SHA-256 digests of their secret. `audit_log.seq` is assigned by the appender (max + 1 under the
 * chain's lock), not by the database, so a gap means a deleted record.
 */
export function migration004(kind: "sqlite" | "postgres"): Migration {
  const pg = kind === "postgres";
  return {
    async up(db: Kysely<unknown>) {
      let users = db.schema.createTable("users");
      users = pg ? users.addColumn("user_id", "serial", (c) => c.primaryKey()) : users.addColumn("user_id", "integer", (c) => c.primaryKey().autoIncrement());
      await users
        .addColumn("username", "text", (c) => c.notNull().unique())
        .addColumn("password_hash", "text")
        .addColumn("is_admin", "integer", (c) => c.notNull().defaultTo(0))
        .addColumn("creation_time", "bigint", (c) => c.notNull())
        .execute();

      let groups = db.schema.createTable("user_groups");
      groups = pg
        ? groups.addColumn("group_id", "serial", (c) => c.primaryKey())
        : groups.addColumn("group_id", "integer", (c) => c.primaryKey().autoIncrement());
      await groups.addColumn("name", "text", (c) => c.notNull().unique()).addColumn("creation_time", "bigint", (c) => c.notNull()).execute();

      await db.schema
        .createTable("group_members")
        .addColumn("group_id", "integer", (c) => c.notNull().references("user_groups.group_id").onDelete("cascade"))
        .addColumn("user_id", "integer", (c) => c.notNull().references("users.user_id").onDelete("cascade"))
        .addPrimaryKeyConstraint("group_members_pk", ["group_id", "user_id"])
        .execute();
      await db.schema.createIndex("group_members_user").on("group_members").columns(["user_id"]).execute();

      let tokens = db.schema.createTable("api_tokens");
      tokens = pg
        ? tokens.addColumn("token_id", "serial", (c) => c.primaryKey())
        : tokens.addColumn("token_id", "integer", (c) => c.primaryKey().autoIncrement());
      await tokens
        .addColumn("user_id", "integer", (c) => c.notNull().references("users.user_id").onDelete("cascade"))
        .addColumn("name", "text", (c) => c.notNull())
        .addColumn("digest", "text", (c) => c.notNull().unique())
        .addColumn("prefix", "text", (c) => c.notNull())
        .addColumn("creation_time", "bigint", (c) => c.notNull())
        .addColumn("expiry_time", "bigint")
        .addColumn("revoked_time", "bigint")
        .addColumn("last_used_time", "bigint")
        .execute();
      await db.schema.createIndex("api_tokens_user").on("api_tokens").columns(["user_id"]).execute();

      // principal_kind: 'user' | 'group'; permission: READ | EDIT | MANAGE | NO_PERMISSIONS.
      await db.schema
        .createTable("experiment_permissions")
        .addColumn("experiment_id", "integer", (c) => c.notNull().references("experiments.experiment_id").onDelete("cascade"))
        .addColumn("principal_kind", "text", (c) => c.notNull())
        .addColumn("principal_id", "integer", (c) => c.notNull())
        .addColumn("permission", "text", (c) => c.notNull())
        .addPrimaryKeyConstraint("experiment_permissions_pk", ["experiment_id", "principal_kind", "principal_id"])
        .execute();
      await db.schema.createIndex("experiment_permissions_principal").on("experiment_permissions").columns(["principal_kind", "principal_id"]).execute();
      await db.schema
        .createTable("model_permissions")
        .addColumn("model_id", "integer", (c) => c.notNull().references("registered_models.model_id").onDelete("cascade"))
        .addColumn("principal_kind", "text", (c) => c.notNull())
        .addColumn("principal_id", "integer", (c) => c.notNull())
        .addColumn("permission", "text", (c) => c.notNull())
        .addPrimaryKeyConstraint("model_permissions_pk", ["model_id", "principal_kind", "principal_id"])
        .execute();
      await db.schema.createIndex("model_permissions_principal").on("model_permissions").columns(["principal_kind", "principal_id"]).execute();

      await db.schema
        .createTable("audit_log")
        .addColumn("seq", "bigint", (c) => c.primaryKey())
        .addColumn("time", "bigint", (c) => c.notNull())
        .addColumn("actor", "text", (c) => c.notNull())
        .addColumn("action", "text", (c) => c.notNull())
        .addColumn("resource", "text", (c) => c.notNull())
        .addColumn("summary", "text", (c) => c.notNull())
        .addColumn("request_id", "text", (c) => c.notNull())
        .addColumn("prev_hash", "text", (c) => c.notNull())
        .addColumn("hash", "text", (c) => c.notNull())
        .execute();
      await db.schema.createIndex("audit_log_actor").on("audit_log").columns(["actor", "seq"]).execute();
      await db.schema.createIndex("audit_log_resource").on("audit_log").columns(["resource", "seq"]).execute();
      await db.schema.createIndex("audit_log_time").on("audit_log").columns(["time"]).execute();
    },
  };
}

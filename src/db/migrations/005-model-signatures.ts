import type { Kysely, Migration } from "kysely";

/**
 * The signature captured when a model version is registered (read from its .onnx file or its MLmodel),
 * one row per version, gone with the version. `signature` is the JSON document the Keel API answers;
 * `source` ("onnx" | "mlmodel" | "none") is also a column so a later search can filter on it.
 */
export function migration005(_kind: "sqlite" | "postgres"): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable("model_version_signatures")
        .addColumn("model_id", "integer", (c) => c.notNull())
        .addColumn("version", "integer", (c) => c.notNull())
        .addColumn("source", "text", (c) => c.notNull())
        .addColumn("signature", "text", (c) => c.notNull())
        .addColumn("captured_time", "bigint", (c) => c.notNull())
        .addPrimaryKeyConstraint("model_version_signatures_pk", ["model_id", "version"])
        .addForeignKeyConstraint("model_version_signatures_version_fk", ["model_id", "version"], "model_versions", ["model_id", "version"], (c) =>
          c.onDelete("cascade"),
        )
        .execute();
    },
  };
}

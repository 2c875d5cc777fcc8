import type { Database } from "../db/database.js";
import type { ModelSignature } from "./model-signature.js";

export interface StoredSignature {
  signature: ModelSignature;
  /** Epoch ms. */
  captured: number;
}

/** Where captured signatures live: one per version, removed with it (a foreign key with cascade). */
export interface SignatureStore {
  /** Records the version's signature unless one is recorded already; false when the version does not exist. */
  put(name: string, version: number, signature: ModelSignature, now: number): Promise<boolean>;
  get(name: string, version: number): Promise<StoredSignature | undefined>;
}

export function createSqlSignatureStore(database: Database): SignatureStore {
  const db = database.db;
  return {
    async put(name, version, signature, now) {
      const v = await db
        .selectFrom("model_versions as v")
        .innerJoin("registered_models as m", "m.model_id", "v.model_id")
        .select("v.model_id")
        .where("m.name", "=", name)
        .where("v.version", "=", version)
        .executeTakeFirst();
      if (!v) return false;
      await db
        .insertInto("model_version_signatures")
        .values({ model_id: v.model_id, version, source: signature.source, signature: JSON.stringify(signature), captured_time: now })
        .onConflict((oc) => oc.columns(["model_id", "version"]).doNothing())
        .execute();
      return true;
    },

    async get(name, version) {
      const row = await db
        .selectFrom("model_version_signatures as s")
        .innerJoin("registered_models as m", "m.model_id", "s.model_id")
        .select(["s.signature", "s.captured_time"])
        .where("m.name", "=", name)
        .where("s.version", "=", version)
        .executeTakeFirst();
      return row ? { signature: JSON.parse(row.signature) as ModelSignature, captured: Number(row.captured_time) } : undefined;
    },
  };
}

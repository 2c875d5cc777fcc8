import type { Database } from "../db/database.js";
import { badInput } from "../serving/errors.js";
import type { Tensor } from "../serving/tensor.js";
import type { FeatureSpec } from "./spec.js";
import { lookupFeatureRows } from "./store-sql.js";

/**
 * The feature-lookup hook: entity keys in the request → features fetched before inference. A request
 * names its entities in `parameters.entity_ids` (OIP) or `params.entity_ids` (MLflow `inputs`); the
 * hook reads those rows from a table and hands the model one FP32 input of [entities, columns]. The
 * feature store (a later capability) will implement the same interface over its online store.
 */
export interface FeatureLookup {
  /** The model input this lookup fills (clients do not send it). */
  readonly input: string;
  lookup(parameters: Record<string, unknown> | undefined): Promise<Tensor>;
}

export function sqlFeatureLookup(database: Database, spec: FeatureSpec): FeatureLookup {
  return {
    input: spec.input,
    async lookup(parameters) {
      const ids = parameters?.entity_ids;
      if (!Array.isArray(ids) || ids.length === 0 || ids.length > 10_000 || ids.some((k) => typeof k !== "string" && typeof k !== "number")) {
        throw badInput(`This deployment looks its features up by entity: send parameters.entity_ids, a list of 1 to 10000 ${spec.key_column} values.`);
      }
      const rows = await lookupFeatureRows(database, spec.table, spec.key_column, spec.columns, ids as (string | number)[]);
      const data = new Float32Array(ids.length * spec.columns.length);
      ids.forEach((id, i) => {
        const row = rows.get(String(id));
        if (!row) throw badInput(`No features for ${spec.key_column} '${String(id)}' in ${spec.table}.`);
        row.forEach((v, j) => {
          data[i * spec.columns.length + j] = v ?? Number.NaN;
        });
      });
      return { name: spec.input, datatype: "FP32", shape: [ids.length, spec.columns.length], data };
    },
  };
}

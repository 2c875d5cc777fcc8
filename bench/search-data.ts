/** The search benchmark's data set (shared by bench/search.ts and ad-hoc EXPLAIN sessions). */
import { randomUUID } from "node:crypto";
import { sql } from "kysely";
import { openDatabase } from "../src/db/database.js";
import { createTracking } from "../src/tracking/index.js";
import { prng } from "./lib.js";

export const FILTER = "metrics.acc > 0.9 and params.model = 'x'";
export const METRIC_KEYS = [
  "acc", "loss", "val_acc", "val_loss", "f1", "precision", "recall", "auc", "lr", "epoch",
  "grad_norm", "train/acc", "train/loss", "test/acc", "test/loss", "throughput", "gpu_mem_mb", "wall_time_s", "best_val_acc", "best_epoch",
];
export const PARAM_KEYS = [
  "model", "lr", "batch_size", "optimizer", "weight_decay", "epochs", "seed", "dropout", "warmup_steps", "scheduler",
  "dataset", "image_size", "augment", "momentum", "beta1", "beta2", "grad_clip", "precision", "num_layers", "hidden_size",
];
const MODELS = ["resnet50", "vit-b16", "bert-base", "gpt2"];


/**
 * Seeds `runs` runs with the rows the tracking service writes for create-run + log-batch (runs, the
 * mlflow.runName/mlflow.user tags, params, metrics, latest_metrics, the experiment's key catalog), as chunked multi-row inserts in one
 * transaction (going through the service one run at a time takes minutes on Postgres). The experiment is
 * created through the service. Returns the number of runs that match FILTER.
 */
export async function seed(dataDir: string, databaseUrl: string | undefined, runs: number): Promise<{ experimentId: string; matches: number }> {
  const database = await openDatabase({ dataDir, databaseUrl });
  try {
    const svc = createTracking(database);
    const experimentId = await svc.createExperiment("bench-search", undefined, []);
    const exp = await svc.getExperiment(experimentId);
    const rnd = prng(runs);
    const t0 = Date.now() - runs * 1000;
    let matches = 0;
    type Rows = Record<string, string | number | null>[];
    const runRows: Rows = [];
    const tagRows: Rows = [];
    const paramRows: Rows = [];
    const metricRows: Rows = [];
    for (let i = 0; i < runs; i++) {
      const runId = randomUUID().replace(/-/g, "");
      const acc = rnd();
      const model = i % 5 === 0 ? "x" : MODELS[i % MODELS.length];
      if (acc > 0.9 && model === "x") matches++;
      const name = `run-${i}`;
      runRows.push({
        run_uuid: runId,
        experiment_id: Number(experimentId),
        name,
        user_id: "bench",
        status: "FINISHED",
        start_time: t0 + i * 1000,
        end_time: t0 + i * 1000 + 900,
        lifecycle_stage: "active",
        artifact_uri: `${exp.artifact_location}/${runId}/artifacts`,
        deleted_time: null,
      });
      tagRows.push({ run_uuid: runId, key: "mlflow.runName", value: name }, { run_uuid: runId, key: "mlflow.user", value: "bench" });
      const ts = t0 + i * 1000 + 500;
      for (const [k, key] of METRIC_KEYS.entries()) metricRows.push({ run_uuid: runId, key, step: 10, timestamp: ts, value: k === 0 ? acc : rnd() * 10, is_nan: 0 });
      for (const [k, key] of PARAM_KEYS.entries()) paramRows.push({ run_uuid: runId, key, value: k === 0 ? model : `${key}-${Math.floor(rnd() * 8)}` });
    }
    await database.db.transaction().execute(async (tx) => {
      const insert = async (table: "runs" | "tags" | "params" | "metrics" | "latest_metrics" | "experiment_keys", rows: Rows) => {
        const width = Object.keys(rows[0]).length;
        const size = Math.floor(30000 / width);
        for (let i = 0; i < rows.length; i += size) await tx.insertInto(table).values(rows.slice(i, i + size) as never).execute();
      };
      await insert("runs", runRows);
      await insert("tags", tagRows);
      await insert("params", paramRows);
      await insert("metrics", metricRows);
      await insert("latest_metrics", metricRows);
      const catalog = (kind: string, keys: readonly string[]) => keys.map((key) => ({ experiment_id: Number(experimentId), kind, key }));
      await insert("experiment_keys", [...catalog("metric", METRIC_KEYS), ...catalog("param", PARAM_KEYS), ...catalog("tag", ["mlflow.runName", "mlflow.user"])]);
    });
    if (database.kind === "postgres") await sql`analyze`.execute(database.db);
    return { experimentId, matches };
  } finally {
    await database.close();
  }
}

import { type Kysely, type Migration, sql } from "kysely";
import { TierBuilder } from "../../tracking/metric-tiers.js";
import { upsertTiers } from "../../tracking/store-sql-metrics.js";
import type { MetricRow } from "../../tracking/metric-batch.js";

/**
 * Chart summaries of metric histories (src/tracking/metric-tiers.ts): per run, key, tier and step bucket,
 * the count and the first, last, lowest, highest and first-NaN points. Histories logged before this
 * migration are summarized here, a page of points at a time, so every history has its summaries.
 */
export function migration008(kind: "sqlite" | "postgres"): Migration {
  const pg = kind === "postgres";
  const real = pg ? "double precision" : "real";
  return {
    async up(db: Kysely<unknown>) {
      let table = db.schema
        .createTable("metric_tiers")
        .addColumn("run_uuid", "text", (c) => c.notNull().references("runs.run_uuid").onDelete("cascade"))
        .addColumn("key", "text", (c) => c.notNull())
        .addColumn("tier", "smallint", (c) => c.notNull())
        .addColumn("bucket", "bigint", (c) => c.notNull())
        .addColumn("n", "bigint", (c) => c.notNull());
      for (const p of ["first", "last"]) {
        table = table
          .addColumn(`${p}_step`, "bigint", (c) => c.notNull())
          .addColumn(`${p}_ts`, "bigint", (c) => c.notNull())
          .addColumn(`${p}_value`, real, (c) => c.notNull())
          .addColumn(`${p}_nan`, "smallint", (c) => c.notNull());
      }
      for (const p of ["min", "max"]) table = table.addColumn(`${p}_step`, "bigint").addColumn(`${p}_ts`, "bigint").addColumn(`${p}_value`, real);
      table = table.addColumn("nan_step", "bigint").addColumn("nan_ts", "bigint").addPrimaryKeyConstraint("metric_tiers_pk", ["run_uuid", "key", "tier", "bucket"]);
      if (!pg) table = table.modifyEnd(sql`without rowid`);
      await table.execute();

      const series = await sql<{ run_uuid: string; key: string }>`select run_uuid, key from latest_metrics order by run_uuid, key`.execute(db);
      const PAGE = 50_000;
      for (const { run_uuid, key } of series.rows) {
        const builder = new TierBuilder();
        let after: MetricRow | undefined;
        for (;;) {
          const cursor = after ? sql`and (step, timestamp, value, is_nan) > (${after.step}, ${after.timestamp}, ${after.value}, ${after.is_nan})` : sql``;
          const page = await sql<MetricRow>`select key, step, timestamp, value, is_nan from metrics where run_uuid = ${run_uuid} and key = ${key} ${cursor}
            order by step, timestamp, value, is_nan limit ${PAGE}`.execute(db);
          builder.addPoints(page.rows);
          if (page.rows.length < PAGE) break;
          after = page.rows[page.rows.length - 1];
        }
        await upsertTiers(db, pg, run_uuid, builder.finish());
      }
    },
  };
}

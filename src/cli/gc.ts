import { Command, Option } from "commander";
import { parseDuration } from "../core/duration.js";
import { artifactsOption, dataOption, databaseUrlOption, s3EndpointOption } from "./options.js";

/** Maintenance: opens the database directly (no server needed), like MLflow's `mlflow gc`. */
export function gcCommand(): Command {
  return new Command("gc")
    .description("Permanently remove deleted runs and experiments (deleted longer ago than --older-than)")
    .addOption(new Option("--older-than <duration>", "only what was deleted at least this long ago (e.g. 30d, 12h, 0s)").default("30d"))
    .addOption(new Option("--experiment-ids <ids>", "comma-separated: limit to these deleted experiments (and their deleted runs)"))
    .addOption(new Option("--run-ids <ids>", "comma-separated: limit to these deleted runs"))
    .addOption(dataOption())
    .addOption(databaseUrlOption())
    .addOption(artifactsOption())
    .addOption(s3EndpointOption())
    .action(async (o) => {
      let olderThan: number;
      try {
        olderThan = parseDuration(o.olderThan);
      } catch (err) {
        console.error(`keel gc: ${(err as Error).message}`);
        process.exit(2);
      }
      const { openDatabase } = await import("../db/database.js");
      const { createTracking } = await import("../tracking/index.js");
      const database = await openDatabase({ databaseUrl: o.databaseUrl, dataDir: o.data });
      try {
        const tracking = createTracking(database);
        const split = (s?: string) => (s ? s.split(",").map((x) => x.trim()).filter(Boolean) : undefined);
        const { audited, installAuditHook } = await import("../governance/audit-chain.js");
        const { systemAudit } = await import("../governance/index.js");
        const { cliActor } = await import("./direct.js");
        installAuditHook(database, Date.now);
        const scope = { experimentIds: split(o.experimentIds), runIds: split(o.runIds) };
        const res = await audited(database, systemAudit(cliActor(), "keel gc", "", { older_than: o.olderThan, ...scope }), () => tracking.gc(Date.now() - olderThan, scope));
        console.log(`Removed ${res.runs.length} run(s) and ${res.experiments.length} experiment(s) permanently.`);
        for (const id of res.experiments) console.log(`  experiment ${id}`);
        for (const id of res.runs) console.log(`  run ${id}`);
        const { deleteArtifactsOf } = await import("../artifacts/gc.js");
        const { openArtifactStore } = await import("../artifacts/open.js");
        const store = await openArtifactStore({ artifacts: o.artifacts, dataDir: o.data, s3Endpoint: o.s3Endpoint });
        const files = await deleteArtifactsOf(store, res.artifactUris, (uri, why) => console.error(`  kept artifacts at ${uri}: ${why}`));
        console.log(`Removed ${files} artifact file(s).`);
      } finally {
        await database.close();
      }
    });
}

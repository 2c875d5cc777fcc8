import { Command, Option } from "commander";
import { findExperiment } from "./experiments.js";
import { intArg } from "./options.js";
import {
  action,
  clientFor,
  collect,
  formatDuration,
  formatTime,
  printFields,
  printJson,
  printTable,
  type RemoteOptions,
  remote,
  take,
  UsageError,
  viewOption,
  viewType,
} from "./remote.js";

/** `keel runs list|get|delete|restore` against a running server. */
export function runsCommand(): Command {
  const cmd = new Command("runs").description("List, inspect and manage runs on a Keel (or MLflow) server");

  remote(cmd.command("list").description("List runs of one or more experiments"))
    .requiredOption("--experiment <ids-or-names>", "comma-separated experiment ids or names")
    .addOption(viewOption())
    .option("--filter <expr>", "MLflow search filter, e.g. \"metrics.loss < 0.1 and params.lr = '0.01'\"")
    .option("--order-by <term>", "e.g. 'metrics.loss ASC' (repeatable)", collect)
    .addOption(new Option("--max-results <n>", "most runs to list").default(100).argParser(intArg("--max-results", 1, 1_000_000)))
    .action(
      action("runs list", async (o: RemoteOptions & { experiment: string; view: string; filter?: string; orderBy?: string[]; maxResults: number }) => {
        const client = clientFor(o.serverUrl);
        const refs = o.experiment
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean);
        if (!refs.length) throw new UsageError("--experiment names no experiment.");
        const ids = [];
        for (const ref of refs) ids.push((await findExperiment(client, ref)).experiment_id);
        const { items, more } = await take(
          client.iterateRuns({ experimentIds: ids, viewType: viewType(o.view), filter: o.filter, orderBy: o.orderBy, maxResults: Math.min(o.maxResults, 1000) }),
          o.maxResults,
        );
        if (o.json) printJson(items);
        else
          printTable(
            ["RUN ID", "NAME", "STATUS", "STARTED", "DURATION", "USER"],
            items.map((r) => [
              r.info.run_id,
              r.info.run_name,
              r.info.lifecycle_stage === "deleted" ? `${r.info.status} (deleted)` : r.info.status,
              formatTime(r.info.start_time),
              r.info.end_time ? formatDuration(r.info.end_time - r.info.start_time) : "",
              r.info.user_id,
            ]),
            "(no runs)",
          );
        if (more) console.error("(more runs match: raise --max-results)");
      }),
    );

  remote(cmd.command("get").description("Show a run: info, params, latest metrics, tags and dataset inputs").argument("<run-id>")).action(
    action("runs get", async (o: RemoteOptions, runId) => {
      const run = await clientFor(o.serverUrl).getRun(runId);
      if (o.json) {
        printJson(run);
        return;
      }
      const i = run.info;
      printFields([
        ["run id", i.run_id],
        ["name", i.run_name],
        ["experiment", i.experiment_id],
        ["status", i.status],
        ["lifecycle", i.lifecycle_stage],
        ["user", i.user_id],
        ["started", formatTime(i.start_time)],
        ["ended", formatTime(i.end_time)],
        ["duration", i.end_time ? formatDuration(i.end_time - i.start_time) : ""],
        ["artifacts", i.artifact_uri],
      ]);
      const section = (title: string, headers: string[], rows: (string | number)[][]) => {
        if (!rows.length) return;
        process.stdout.write(`\n${title}\n`);
        printTable(headers, rows);
      };
      section(
        "Params",
        ["KEY", "VALUE"],
        (run.data.params ?? []).map((p) => [p.key, p.value]),
      );
      section(
        "Metrics (latest)",
        ["KEY", "VALUE", "STEP", "TIME"],
        (run.data.metrics ?? []).map((m) => [m.key, m.value, m.step, formatTime(m.timestamp)]),
      );
      section(
        "Tags",
        ["KEY", "VALUE"],
        (run.data.tags ?? []).map((t) => [t.key, t.value.length > 120 ? `${t.value.slice(0, 117)}...` : t.value]),
      );
      section(
        "Inputs",
        ["DATASET", "DIGEST", "SOURCE TYPE", "CONTEXT"],
        (run.inputs?.dataset_inputs ?? []).map((d) => [d.dataset.name, d.dataset.digest, d.dataset.source_type, d.tags?.find((t) => t.key === "mlflow.data.context")?.value ?? ""]),
      );
    }),
  );

  for (const verb of ["delete", "restore"] as const) {
    remote(
      cmd
        .command(verb)
        .description(verb === "delete" ? "Delete runs (restorable until `keel gc`)" : "Restore deleted runs")
        .argument("<run-ids...>"),
    ).action(async (...args: unknown[]) => {
      // Variadic: commander hands the ids as one array.
      const ids = args[0] as string[];
      const rest = args.slice(1);
      await action(`runs ${verb}`, async (o: RemoteOptions) => {
        const client = clientFor(o.serverUrl);
        for (const id of ids) await (verb === "delete" ? client.deleteRun(id) : client.restoreRun(id));
        if (o.json) printJson(ids.map((run_id) => ({ run_id, lifecycle_stage: verb === "delete" ? "deleted" : "active" })));
        else for (const id of ids) console.log(`${verb === "delete" ? "Deleted" : "Restored"} run ${id}.`);
      })(...rest);
    });
  }
  return cmd;
}

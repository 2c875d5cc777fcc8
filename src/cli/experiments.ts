import { Command, Option } from "commander";
import type { Experiment, KeelClient } from "../sdk/index.js";
import { KeelApiError } from "../sdk/index.js";
import { intArg } from "./options.js";
import { action, clientFor, collectTags, formatTime, printJson, printTable, type RemoteOptions, remote, take, viewOption, viewType } from "./remote.js";

/** An experiment named by id (all digits) or by name. */
export async function findExperiment(client: KeelClient, ref: string): Promise<Experiment> {
  if (/^\d+$/.test(ref)) return client.getExperiment(ref);
  const exp = await client.getExperimentByName(ref);
  if (!exp) throw new KeelApiError(404, "RESOURCE_DOES_NOT_EXIST", `No experiment named '${ref}'.`);
  return exp;
}

/** `keel experiments list|create|rename|delete|restore` against a running server. */
export function experimentsCommand(): Command {
  const cmd = new Command("experiments").description("List and manage experiments on a Keel (or MLflow) server");

  remote(cmd.command("list").description("List experiments"))
    .addOption(viewOption())
    .option("--filter <expr>", "MLflow search filter, e.g. \"name LIKE 'vision%'\"")
    .addOption(new Option("--max-results <n>", "most experiments to list").default(1000).argParser(intArg("--max-results", 1, 1_000_000)))
    .action(
      action("experiments list", async (o: RemoteOptions & { view: string; filter?: string; maxResults: number }) => {
        const client = clientFor(o.serverUrl);
        const { items, more } = await take(client.iterateExperiments({ viewType: viewType(o.view), filter: o.filter, maxResults: Math.min(o.maxResults, 1000) }), o.maxResults);
        if (o.json) printJson(items);
        else
          printTable(
            ["ID", "NAME", "STAGE", "CREATED", "ARTIFACT LOCATION"],
            items.map((e) => [e.experiment_id, e.name, e.lifecycle_stage, formatTime(e.creation_time), e.artifact_location]),
            "(no experiments)",
          );
        if (more) console.error(`(more experiments exist: raise --max-results)`);
      }),
    );

  remote(cmd.command("create").description("Create an experiment; prints its id").argument("<name>"))
    .option("--artifact-location <uri>", "where its runs keep artifacts (default: the server's)")
    .option("--tag <key=value>", "experiment tag (repeatable)", collectTags)
    .action(
      action("experiments create", async (o: RemoteOptions & { artifactLocation?: string; tag?: { key: string; value: string }[] }, name) => {
        const id = await clientFor(o.serverUrl).createExperiment(name, { artifactLocation: o.artifactLocation, tags: o.tag });
        if (o.json) printJson({ experiment_id: id, name });
        else console.log(`Created experiment '${name}' with id ${id}.`);
      }),
    );

  remote(cmd.command("rename").description("Rename an experiment (named by id or name)").argument("<experiment>").argument("<new-name>")).action(
    action("experiments rename", async (o: RemoteOptions, ref, newName) => {
      const client = clientFor(o.serverUrl);
      const exp = await findExperiment(client, ref);
      await client.renameExperiment(exp.experiment_id, newName);
      if (o.json) printJson({ experiment_id: exp.experiment_id, name: newName, previous_name: exp.name });
      else console.log(`Renamed experiment ${exp.experiment_id} from '${exp.name}' to '${newName}'.`);
    }),
  );

  for (const [verb, past] of [
    ["delete", "Deleted"],
    ["restore", "Restored"],
  ] as const) {
    remote(
      cmd
        .command(verb)
        .description(verb === "delete" ? "Delete an experiment and its runs (restorable until `keel gc`)" : "Restore a deleted experiment and its runs")
        .argument("<experiment>", "id or name"),
    ).action(
      action(`experiments ${verb}`, async (o: RemoteOptions, ref) => {
        const client = clientFor(o.serverUrl);
        const exp = await findExperiment(client, ref);
        await (verb === "delete" ? client.deleteExperiment(exp.experiment_id) : client.restoreExperiment(exp.experiment_id));
        if (o.json) printJson({ experiment_id: exp.experiment_id, name: exp.name, lifecycle_stage: verb === "delete" ? "deleted" : "active" });
        else console.log(`${past} experiment ${exp.experiment_id} ('${exp.name}').`);
      }),
    );
  }
  return cmd;
}

import { Command, Option } from "commander";
import type { ModelVersion, RegisteredModel } from "../sdk/index.js";
import { intArg } from "./options.js";
import { action, clientFor, formatTime, printFields, printJson, printTable, type RemoteOptions, remote, take } from "./remote.js";

const STAGES = ["None", "Staging", "Production", "Archived"];

function aliasesOf(model: RegisteredModel): Map<string, string[]> {
  const byVersion = new Map<string, string[]>();
  for (const a of model.aliases ?? []) byVersion.set(a.version, [...(byVersion.get(a.version) ?? []), a.alias]);
  return byVersion;
}

function latestVersion(model: RegisteredModel): string {
  const v = (model.latest_versions ?? []).map((x) => Number(x.version));
  return v.length ? String(Math.max(...v)) : "";
}

function versionRows(versions: ModelVersion[], aliases: Map<string, string[]>) {
  return versions.map((v) => [v.version, v.current_stage, (aliases.get(v.version) ?? []).join(","), v.run_id, v.source, formatTime(v.creation_timestamp)]);
}

/** `keel models list|get|versions|set-alias|delete-alias|transition` against a running server. */
export function modelsCommand(): Command {
  const cmd = new Command("models").description("List and manage registered models on a Keel (or MLflow) server");

  remote(cmd.command("list").description("List registered models"))
    .option("--filter <expr>", "MLflow search filter, e.g. \"name LIKE 'fraud%'\"")
    .addOption(new Option("--max-results <n>", "most models to list").default(1000).argParser(intArg("--max-results", 1, 1_000_000)))
    .action(
      action("models list", async (o: RemoteOptions & { filter?: string; maxResults: number }) => {
        const client = clientFor(o.serverUrl);
        const { items, more } = await take(client.iterateRegisteredModels({ filter: o.filter, maxResults: Math.min(o.maxResults, 1000) }), o.maxResults);
        if (o.json) printJson(items);
        else
          printTable(
            ["NAME", "LATEST", "ALIASES", "UPDATED", "DESCRIPTION"],
            items.map((m) => [
              m.name,
              latestVersion(m),
              (m.aliases ?? []).map((a) => `${a.alias}=v${a.version}`).join(","),
              formatTime(m.last_updated_timestamp),
              (m.description ?? "").split("\n")[0].slice(0, 60),
            ]),
            "(no registered models)",
          );
        if (more) console.error("(more models exist: raise --max-results)");
      }),
    );

  remote(cmd.command("get").description("Show a registered model with its versions and aliases").argument("<name>")).action(
    action("models get", async (o: RemoteOptions, name) => {
      const client = clientFor(o.serverUrl);
      const model = await client.getRegisteredModel(name);
      const versions = await client.modelVersions(name);
      if (o.json) {
        printJson({ ...model, versions });
        return;
      }
      printFields([
        ["name", model.name],
        ["description", model.description],
        ["created", formatTime(model.creation_timestamp)],
        ["updated", formatTime(model.last_updated_timestamp)],
        ["aliases", (model.aliases ?? []).map((a) => `${a.alias}=v${a.version}`).join(", ")],
        ["tags", (model.tags ?? []).map((t) => `${t.key}=${t.value}`).join(", ")],
      ]);
      process.stdout.write("\n");
      printTable(["VERSION", "STAGE", "ALIASES", "RUN ID", "SOURCE", "CREATED"], versionRows(versions, aliasesOf(model)), "(no versions)");
    }),
  );

  remote(cmd.command("versions").description("List a model's versions").argument("<name>")).action(
    action("models versions", async (o: RemoteOptions, name) => {
      const client = clientFor(o.serverUrl);
      const model = await client.getRegisteredModel(name);
      const versions = await client.modelVersions(name);
      const aliases = aliasesOf(model);
      if (o.json) printJson(versions.map((v) => ({ ...v, aliases: aliases.get(v.version) ?? [] })));
      else printTable(["VERSION", "STAGE", "ALIASES", "RUN ID", "SOURCE", "CREATED"], versionRows(versions, aliases), "(no versions)");
    }),
  );

  remote(cmd.command("set-alias").description("Point an alias at a version (moves it if it exists)").argument("<name>").argument("<alias>").argument("<version>")).action(
    action("models set-alias", async (o: RemoteOptions, name, alias, version) => {
      await clientFor(o.serverUrl).setRegisteredModelAlias(name, alias, version);
      if (o.json) printJson({ name, alias, version });
      else console.log(`Alias '${alias}' of '${name}' now points at version ${version}.`);
    }),
  );

  remote(cmd.command("delete-alias").description("Remove an alias").argument("<name>").argument("<alias>")).action(
    action("models delete-alias", async (o: RemoteOptions, name, alias) => {
      await clientFor(o.serverUrl).deleteRegisteredModelAlias(name, alias);
      if (o.json) printJson({ name, alias, deleted: true });
      else console.log(`Deleted alias '${alias}' of '${name}'.`);
    }),
  );

  remote(
    cmd
      .command("transition")
      .description(`Move a version to a stage (${STAGES.join(", ")})`)
      .argument("<name>")
      .argument("<version>")
      .argument("<stage>"),
  )
    .option("--archive-existing", "archive the versions now in that stage (Staging/Production only)", false)
    .action(
      action("models transition", async (o: RemoteOptions & { archiveExisting: boolean }, name, version, stage) => {
        const v = await clientFor(o.serverUrl).transitionModelVersionStage(name, version, stage, o.archiveExisting);
        if (o.json) printJson(v);
        else console.log(`Version ${v.version} of '${name}' is now in stage ${v.current_stage}.`);
      }),
    );
  return cmd;
}

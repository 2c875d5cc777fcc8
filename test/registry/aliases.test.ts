import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { client, startTestApp, type TestApp } from "../helpers/app.js";
import { expectError, newModel, newRun, newVersion } from "../helpers/registry.js";

let t: TestApp;
let c: ReturnType<typeof client>;
beforeAll(async () => {
  t = await startTestApp();
  c = client(t.url);
  const run = await newRun(c);
  await newModel(c, "aliased");
  for (let i = 0; i < 3; i++) await newVersion(c, "aliased", run);
});
afterAll(async () => t?.close());

const setAlias = (alias: string, version: string | number, name = "aliased") => c.post("registered-models/alias", { name, alias, version });
const getAlias = (alias: string, name = "aliased") => c.get("registered-models/alias", { name, alias });
const deleteAlias = (alias: string, name = "aliased") => c.call("DELETE", "registered-models/alias", { name, alias });

describe("aliases", () => {
  it("points an alias at a version; reading it answers that model_version with its aliases", async () => {
    expect(await setAlias("champion", "1")).toEqual({ status: 200, body: {} });
    expect((await setAlias("prod-2024_a", 1)).status).toBe(200);
    const r = await getAlias("champion");
    expect(r.status).toBe(200);
    expect(r.body.model_version).toMatchObject({ name: "aliased", version: "1", aliases: ["champion", "prod-2024_a"] });
    expect((await c.get("model-versions/get", { name: "aliased", version: "1" })).body.model_version.aliases).toEqual(["champion", "prod-2024_a"]);
    expect((await c.get("model-versions/get", { name: "aliased", version: "2" })).body.model_version.aliases).toBeUndefined();
  });

  it("moves an alias when it is set again, and lists aliases on the registered model", async () => {
    await setAlias("champion", "2");
    expect((await getAlias("champion")).body.model_version.version).toBe("2");
    expect((await c.get("model-versions/get", { name: "aliased", version: "1" })).body.model_version.aliases).toEqual(["prod-2024_a"]);
    const model = (await c.get("registered-models/get", { name: "aliased" })).body.registered_model;
    expect(model.aliases).toEqual([
      { alias: "champion", version: "2" },
      { alias: "prod-2024_a", version: "1" },
    ]);
    const searched = (await c.get("registered-models/search", { filter: "name = 'aliased'" })).body.registered_models[0];
    expect(searched.aliases).toEqual(model.aliases);
  });

  it("shows aliases on single-version answers: transition-stage, update, latest versions", async () => {
    const moved = await c.post("model-versions/transition-stage", { name: "aliased", version: "2", stage: "Staging" });
    expect(moved.body.model_version.aliases).toEqual(["champion"]);
    const updated = await c.call("PATCH", "model-versions/update", { name: "aliased", version: "2", description: "d" });
    expect(updated.body.model_version.aliases).toEqual(["champion"]);
    const latest = await c.get("registered-models/get-latest-versions", { name: "aliased", stages: "Staging" });
    expect(latest.body.model_versions[0].aliases).toEqual(["champion"]);
  });

  it("deletes an alias; deleting one that is not there is not an error", async () => {
    expect(await deleteAlias("prod-2024_a")).toEqual({ status: 200, body: {} });
    expect((await deleteAlias("prod-2024_a")).status).toBe(200);
    expectError(await getAlias("prod-2024_a"), 400, "INVALID_PARAMETER_VALUE", /prod-2024_a/);
  });

  it("deleting a version removes the aliases pointing at it", async () => {
    await setAlias("doomed", "3");
    await setAlias("also-doomed", "3");
    expect((await c.call("DELETE", "model-versions/delete", { name: "aliased", version: "3" })).status).toBe(200);
    expectError(await getAlias("doomed"), 400, "INVALID_PARAMETER_VALUE");
    const model = (await c.get("registered-models/get", { name: "aliased" })).body.registered_model;
    expect(model.aliases.map((a: { alias: string }) => a.alias)).toEqual(["champion"]);
  });

  it("follows MLflow's alias name rules", async () => {
    for (const alias of ["latest", "LATEST", "Latest", "v1", "V12", "v0"]) {
      expectError(await setAlias(alias, "1"), 400, "INVALID_PARAMETER_VALUE", /reserved/);
    }
    for (const alias of ["has space", "a/b", "a.b", "ünï", "x;drop", "a\tb"]) {
      expectError(await setAlias(alias, "1"), 400, "INVALID_PARAMETER_VALUE", /alphanumerics/);
    }
    expectError(await setAlias("a".repeat(256), "1"), 400, "INVALID_PARAMETER_VALUE", /255/);
    expectError(await setAlias("", "1"), 400, "INVALID_PARAMETER_VALUE", /empty/);
    for (const alias of ["v1a", "version1", "a".repeat(255), "-", "_", "latest-2"]) expect((await setAlias(alias, "1")).status, alias).toBe(200);
    expectError(await getAlias("latest"), 400, "INVALID_PARAMETER_VALUE", /reserved/);
  });

  it("needs an existing model and version", async () => {
    expectError(await setAlias("x", "99"), 404, "RESOURCE_DOES_NOT_EXIST", /version=99/);
    expectError(await setAlias("x", "3"), 404, "RESOURCE_DOES_NOT_EXIST");
    expectError(await setAlias("x", "one"), 400, "INVALID_PARAMETER_VALUE", /integer/);
    expectError(await c.post("registered-models/alias", { name: "aliased", alias: "x" }), 400, "INVALID_PARAMETER_VALUE", /version/);
    expectError(await setAlias("x", "1", "nope"), 404, "RESOURCE_DOES_NOT_EXIST");
    expectError(await deleteAlias("x", "nope"), 404, "RESOURCE_DOES_NOT_EXIST");
    expectError(await getAlias("x", "nope"), 400, "INVALID_PARAMETER_VALUE");
  });

  it("keeps aliases through a rename", async () => {
    await newModel(c, "to-rename");
    await newVersion(c, "to-rename", await newRun(c));
    await setAlias("keep", "1", "to-rename");
    await c.post("registered-models/rename", { name: "to-rename", new_name: "renamed" });
    expect((await getAlias("keep", "renamed")).body.model_version).toMatchObject({ name: "renamed", version: "1", aliases: ["keep"] });
  });
});

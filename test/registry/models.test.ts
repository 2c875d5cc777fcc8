import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { client, startTestApp, type TestApp } from "../helpers/app.js";
import { expectError, newModel, newRun, newVersion } from "../helpers/registry.js";

let t: TestApp;
let c: ReturnType<typeof client>;
let run: { runId: string; artifactUri: string };
beforeAll(async () => {
  t = await startTestApp();
  c = client(t.url);
  run = await newRun(c);
});
afterAll(async () => t?.close());

const del = (path: string, body: unknown) => c.call("DELETE", path, body);
const patch = (path: string, body: unknown) => c.call("PATCH", path, body);
const names = (r: { body: { registered_models?: { name: string }[] } }) => (r.body.registered_models ?? []).map((m) => m.name);

describe("registered models", () => {
  it("creates a model in MLflow's shape: empty fields left out, times in epoch ms", async () => {
    const before = Date.now();
    const r = await c.post("registered-models/create", { name: "shape" });
    expect(r.status).toBe(200);
    expect(Object.keys(r.body.registered_model).sort()).toEqual(["creation_timestamp", "last_updated_timestamp", "name"]);
    expect(r.body.registered_model.creation_timestamp).toBeGreaterThanOrEqual(before);
    expect(r.body.registered_model.last_updated_timestamp).toBe(r.body.registered_model.creation_timestamp);
    const full = await c.post("registered-models/create", { name: "full", description: "a model", tags: [{ key: "team", value: "ml" }, { key: "team", value: "ds" }] });
    expect(full.body.registered_model).toMatchObject({ name: "full", description: "a model", tags: [{ key: "team", value: "ds" }] });
  });

  it("refuses a second model with the same name, and empty or over-long names", async () => {
    await newModel(c, "dup");
    expectError(await c.post("registered-models/create", { name: "dup" }), 400, "RESOURCE_ALREADY_EXISTS", /dup/);
    expectError(await c.post("registered-models/create", {}), 400, "INVALID_PARAMETER_VALUE", /name/);
    expectError(await c.post("registered-models/create", { name: "" }), 400, "INVALID_PARAMETER_VALUE");
    expectError(await c.post("registered-models/create", { name: "x".repeat(257) }), 400, "INVALID_PARAMETER_VALUE", /256/);
    expect((await c.post("registered-models/create", { name: "é".repeat(256) })).status).toBe(200);
    expectError(await c.post("registered-models/create", { name: "d", description: "x".repeat(5001) }), 400, "INVALID_PARAMETER_VALUE", /5000/);
    expectError(await c.post("registered-models/create", { name: "t", tags: [{ key: "../x", value: "v" }] }), 400, "INVALID_PARAMETER_VALUE", /tag name/);
    expectError(await c.post("registered-models/create", { name: "t", tags: [{ key: "k", value: "v".repeat(5001) }] }), 400, "INVALID_PARAMETER_VALUE", /5000/);
    expectError(await c.post("registered-models/create", { name: "t", tags: "k=v" }), 400, "INVALID_PARAMETER_VALUE", /tags/);
    expect((await c.get("registered-models/get", { name: "t" })).status).toBe(404);
  });

  it("gets a model by name and answers 404 RESOURCE_DOES_NOT_EXIST for an unknown one", async () => {
    await newModel(c, "getme", { description: "d" });
    expect((await c.get("registered-models/get", { name: "getme" })).body.registered_model).toMatchObject({ name: "getme", description: "d" });
    expectError(await c.get("registered-models/get", { name: "nope" }), 404, "RESOURCE_DOES_NOT_EXIST", /nope/);
    expectError(await c.get("registered-models/get", {}), 400, "INVALID_PARAMETER_VALUE");
  });

  it("renames a model with its versions; the old name is gone and taken names are refused", async () => {
    await newModel(c, "old-name");
    await newVersion(c, "old-name", run);
    const r = await c.post("registered-models/rename", { name: "old-name", new_name: "new-name" });
    expect(r.status).toBe(200);
    expect(r.body.registered_model.name).toBe("new-name");
    expect(r.body.registered_model.latest_versions[0]).toMatchObject({ name: "new-name", version: "1" });
    expect((await c.get("registered-models/get", { name: "old-name" })).status).toBe(404);
    expect((await c.get("model-versions/get", { name: "new-name", version: "1" })).status).toBe(200);
    await newModel(c, "taken");
    expectError(await c.post("registered-models/rename", { name: "new-name", new_name: "taken" }), 400, "RESOURCE_ALREADY_EXISTS");
    expect((await c.post("registered-models/rename", { name: "new-name", new_name: "new-name" })).status).toBe(200);
    expectError(await c.post("registered-models/rename", { name: "missing", new_name: "x" }), 404, "RESOURCE_DOES_NOT_EXIST");
    expectError(await c.post("registered-models/rename", { name: "new-name" }), 400, "INVALID_PARAMETER_VALUE", /new_name/);
  });

  it("updates the description with PATCH and stamps the last update", async () => {
    await newModel(c, "upd", { description: "before" });
    const created = (await c.get("registered-models/get", { name: "upd" })).body.registered_model;
    await new Promise((r) => setTimeout(r, 5));
    const r = await patch("registered-models/update", { name: "upd", description: "after" });
    expect(r.status).toBe(200);
    expect(r.body.registered_model.description).toBe("after");
    expect(r.body.registered_model.last_updated_timestamp).toBeGreaterThan(created.last_updated_timestamp);
    const cleared = await patch("registered-models/update", { name: "upd" });
    expect(cleared.body.registered_model.description).toBeUndefined();
    expectError(await patch("registered-models/update", { name: "nope", description: "x" }), 404, "RESOURCE_DOES_NOT_EXIST");
    expectError(await c.post("registered-models/update", { name: "upd" }), 404, "ENDPOINT_NOT_FOUND");
  });

  it("deletes a model (JSON body on DELETE) with its versions, tags and aliases; the name can be reused", async () => {
    await newModel(c, "gone", { tags: [{ key: "k", value: "v" }] });
    await newVersion(c, "gone", run);
    await c.post("registered-models/alias", { name: "gone", alias: "a", version: "1" });
    expect((await del("registered-models/delete", { name: "gone" })).status).toBe(200);
    expect((await c.get("registered-models/get", { name: "gone" })).status).toBe(404);
    expect((await c.get("model-versions/get", { name: "gone", version: "1" })).status).toBe(404);
    expectError(await del("registered-models/delete", { name: "gone" }), 404, "RESOURCE_DOES_NOT_EXIST");
    await newModel(c, "gone");
    expect(await newVersion(c, "gone", run)).toBe("1");
    expect((await c.get("registered-models/get", { name: "gone" })).body.registered_model.tags).toBeUndefined();
  });

  it("sets and deletes tags; deleting an absent tag is not an error, on a missing model it is", async () => {
    await newModel(c, "tagged");
    expect((await c.post("registered-models/set-tag", { name: "tagged", key: "a", value: "1" })).status).toBe(200);
    expect((await c.post("registered-models/set-tag", { name: "tagged", key: "a", value: "2" })).status).toBe(200);
    expect((await c.post("registered-models/set-tag", { name: "tagged", key: "b" })).status).toBe(200);
    expect((await c.get("registered-models/get", { name: "tagged" })).body.registered_model.tags).toEqual([
      { key: "a", value: "2" },
      { key: "b", value: "" },
    ]);
    expect((await del("registered-models/delete-tag", { name: "tagged", key: "a" })).status).toBe(200);
    expect((await del("registered-models/delete-tag", { name: "tagged", key: "a" })).status).toBe(200);
    expect((await c.get("registered-models/get", { name: "tagged" })).body.registered_model.tags).toEqual([{ key: "b", value: "" }]);
    expectError(await c.post("registered-models/set-tag", { name: "nope", key: "a", value: "1" }), 404, "RESOURCE_DOES_NOT_EXIST");
    expectError(await del("registered-models/delete-tag", { name: "nope", key: "a" }), 404, "RESOURCE_DOES_NOT_EXIST");
    expectError(await c.post("registered-models/set-tag", { name: "tagged", value: "1" }), 400, "INVALID_PARAMETER_VALUE", /key/);
    expectError(await c.post("registered-models/set-tag", { name: "tagged", key: "a b!", value: "1" }), 400, "INVALID_PARAMETER_VALUE");
    expectError(await c.post("registered-models/set-tag", { name: "tagged", key: "k", value: { nested: 1 } }), 400, "INVALID_PARAMETER_VALUE");
  });
});

describe("registered-models/search", () => {
  beforeAll(async () => {
    for (const [name, team] of [["s-alpha", "red"], ["s-beta", "blue"], ["s-gamma", "red"], ["S-Delta", "blue"]]) {
      await newModel(c, name, { tags: [{ key: "team", value: team }] });
    }
  });

  it("filters on name with = != LIKE ILIKE, and on tags", async () => {
    expect(names(await c.get("registered-models/search", { filter: "name = 's-beta'" }))).toEqual(["s-beta"]);
    expect(names(await c.get("registered-models/search", { filter: "name LIKE 's-%'" }))).toEqual(["s-alpha", "s-beta", "s-gamma"]);
    expect(names(await c.get("registered-models/search", { filter: "name ILIKE 's-%' and name != 's-beta'" }))).toEqual(["S-Delta", "s-alpha", "s-gamma"].sort());
    expect(names(await c.get("registered-models/search", { filter: "tags.team = 'red'" }))).toEqual(["s-alpha", "s-gamma"]);
    expect(names(await c.get("registered-models/search", { filter: "tags.`team` LIKE 'b%' and name LIKE 's%'" }))).toEqual(["s-beta"]);
    expect(names(await c.get("registered-models/search", { filter: "tags.team != 'red' and attributes.name ILIKE '%delta'" }))).toEqual(["S-Delta"]);
  });

  it("answers {} when nothing matches, as MLflow's server does", async () => {
    const r = await c.get("registered-models/search", { filter: "name = 'no-such-model'" });
    expect(r).toEqual({ status: 200, body: {} });
  });

  it("orders by name or last update, then by name, and pages with tokens", async () => {
    const desc = await c.get("registered-models/search", { filter: "name LIKE 's-%'", order_by: "name DESC" });
    expect(names(desc)).toEqual(["s-gamma", "s-beta", "s-alpha"]);
    await c.call("PATCH", "registered-models/update", { name: "s-alpha", description: "touched" });
    const recent = await c.get("registered-models/search", { filter: "name LIKE 's-%'", order_by: ["last_updated_timestamp DESC"] });
    expect(names(recent)[0]).toBe("s-alpha");
    const byTimestamp = await c.get("registered-models/search", { filter: "name LIKE 's-%'", order_by: ["timestamp ASC"] });
    expect(names(byTimestamp).at(-1)).toBe("s-alpha");
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = await c.get("registered-models/search", { filter: "name ILIKE 's-%'", max_results: 2, ...(token ? { page_token: token } : {}) });
      expect(page.status).toBe(200);
      seen.push(...names(page));
      token = page.body.next_page_token;
    } while (token);
    expect(seen).toEqual(["S-Delta", "s-alpha", "s-beta", "s-gamma"]);
  });

  it("refuses bad filters, orders, limits and tokens with 400 saying what is wrong", async () => {
    const bad: [Record<string, string | string[] | number>, RegExp][] = [
      [{ filter: "name = 's-a' OR name = 's-b'" }, /OR/],
      [{ filter: "run_id = 'x'" }, /run_id/],
      [{ filter: "name > 'a'" }, /comparator/i],
      [{ filter: "name = s-alpha" }, /quoted/],
      [{ filter: "metrics.x > 1" }, /entity type|prefix/i],
      [{ order_by: "version_number" }, /version_number/],
      [{ order_by: ["name", "name DESC"] }, /more than once/],
      [{ order_by: "name SIDEWAYS" }, /ASC or DESC/],
      [{ max_results: 0 }, /at least 1/],
      [{ max_results: 1001 }, /at most 1000/],
      [{ max_results: "ten" }, /integer/],
      [{ page_token: "not-a-token" }, /page token/],
    ];
    for (const [query, message] of bad) expectError(await c.get("registered-models/search", query), 400, "INVALID_PARAMETER_VALUE", message);
    expect((await c.get("registered-models/search", { max_results: 1000 })).status).toBe(200);
  });
});

describe("registered-models/get-latest-versions and latest_versions", () => {
  it("lists the newest version in each stage, by POST and GET, with stage filters matched case-insensitively", async () => {
    await newModel(c, "latest");
    for (let i = 0; i < 5; i++) await newVersion(c, "latest", run);
    const move = (version: string, stage: string) => c.post("model-versions/transition-stage", { name: "latest", version, stage });
    await move("1", "Production");
    await move("2", "Staging");
    await move("3", "Staging");
    await move("4", "Archived");
    const all = await c.post("registered-models/get-latest-versions", { name: "latest" });
    expect(all.status).toBe(200);
    expect(all.body.model_versions.map((v: { version: string; current_stage: string }) => `${v.version}:${v.current_stage}`)).toEqual([
      "1:Production",
      "3:Staging",
      "4:Archived",
      "5:None",
    ]);
    const some = await c.get("registered-models/get-latest-versions", { name: "latest", stages: ["staging", "PRODUCTION"] });
    expect(some.body.model_versions.map((v: { version: string }) => v.version)).toEqual(["1", "3"]);
    const model = (await c.get("registered-models/get", { name: "latest" })).body.registered_model;
    expect(model.latest_versions.map((v: { version: string }) => v.version)).toEqual(["1", "3", "4", "5"]);
    expect(await c.post("registered-models/get-latest-versions", { name: "latest", stages: ["Production"] }).then((r) => r.body.model_versions[0].version)).toBe("1");
  });

  it("answers {} for a model without versions, 404 for a missing model, 400 for an unknown stage", async () => {
    await newModel(c, "empty-latest");
    expect(await c.post("registered-models/get-latest-versions", { name: "empty-latest" })).toEqual({ status: 200, body: {} });
    expectError(await c.post("registered-models/get-latest-versions", { name: "nope" }), 404, "RESOURCE_DOES_NOT_EXIST");
    expectError(await c.post("registered-models/get-latest-versions", { name: "empty-latest", stages: ["Prod"] }), 400, "INVALID_PARAMETER_VALUE", /Staging/);
  });
});

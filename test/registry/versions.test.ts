import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { client, startTestApp, type TestApp } from "../helpers/app.js";
import { expectError, newModel, newRun, newVersion } from "../helpers/registry.js";

let t: TestApp;
let c: ReturnType<typeof client>;
let run: { runId: string; artifactUri: string };
let other: { runId: string; artifactUri: string };
beforeAll(async () => {
  t = await startTestApp();
  c = client(t.url);
  run = await newRun(c);
  other = await newRun(c);
});
afterAll(async () => t?.close());

const del = (path: string, body: unknown) => c.call("DELETE", path, body);
const stageOf = async (name: string, version: string) => (await c.get("model-versions/get", { name, version })).body.model_version.current_stage;
const versions = (r: { body: { model_versions?: { name: string; version: string }[] } }) => (r.body.model_versions ?? []).map((v) => `${v.name}/${v.version}`);

describe("model versions", () => {
  it("creates READY versions numbered from 1 per model, in MLflow's shape", async () => {
    await newModel(c, "mv");
    const before = Date.now();
    const r = await c.post("model-versions/create", {
      name: "mv",
      source: `${run.artifactUri}/model`,
      run_id: run.runId,
      run_link: "http://ui/run",
      description: "first",
      tags: [{ key: "k", value: "v" }],
    });
    expect(r.status).toBe(200);
    const v = r.body.model_version;
    expect(v).toEqual({
      name: "mv",
      version: "1",
      creation_timestamp: v.creation_timestamp,
      last_updated_timestamp: v.creation_timestamp,
      current_stage: "None",
      description: "first",
      source: `${run.artifactUri}/model`,
      run_id: run.runId,
      status: "READY",
      tags: [{ key: "k", value: "v" }],
      run_link: "http://ui/run",
    });
    expect(v.creation_timestamp).toBeGreaterThanOrEqual(before);
    expect(await newVersion(c, "mv", run)).toBe("2");
    await newModel(c, "mv-other");
    expect(await newVersion(c, "mv-other", run)).toBe("1");
    const model = (await c.get("registered-models/get", { name: "mv" })).body.registered_model;
    expect(model.last_updated_timestamp).toBeGreaterThanOrEqual(v.creation_timestamp);
  });

  it("never reuses a deleted version's number", async () => {
    await newModel(c, "renumber");
    for (let i = 1; i <= 3; i++) await newVersion(c, "renumber", run);
    expect((await del("model-versions/delete", { name: "renumber", version: "3" })).status).toBe(200);
    expect((await del("model-versions/delete", { name: "renumber", version: "2" })).status).toBe(200);
    expect(await newVersion(c, "renumber", run)).toBe("4");
    expectError(await c.get("model-versions/get", { name: "renumber", version: "3" }), 404, "RESOURCE_DOES_NOT_EXIST", /version=3/);
    expectError(await del("model-versions/delete", { name: "renumber", version: "3" }), 404, "RESOURCE_DOES_NOT_EXIST");
  });

  it("needs an existing model, a source, and well-formed optional fields", async () => {
    const src = `${run.artifactUri}/model`;
    expectError(await c.post("model-versions/create", { name: "no-model", source: src }), 404, "RESOURCE_DOES_NOT_EXIST", /no-model/);
    expectError(await c.post("model-versions/create", { name: "mv" }), 400, "INVALID_PARAMETER_VALUE", /source/);
    expectError(await c.post("model-versions/create", { source: src }), 400, "INVALID_PARAMETER_VALUE", /name/);
    expectError(await c.post("model-versions/create", { name: "mv", source: src, run_link: "x".repeat(501) }), 400, "INVALID_PARAMETER_VALUE", /500/);
    expectError(await c.post("model-versions/create", { name: "mv", source: src, description: "x".repeat(5001) }), 400, "INVALID_PARAMETER_VALUE", /5000/);
    expectError(await c.post("model-versions/create", { name: "mv", source: src, tags: [{ key: "", value: "v" }] }), 400, "INVALID_PARAMETER_VALUE");
  });

  it("gets, updates the description of, and deletes a version", async () => {
    await newModel(c, "crud");
    await newVersion(c, "crud", run);
    const got = await c.get("model-versions/get", { name: "crud", version: "1" });
    expect(got.body.model_version).toMatchObject({ name: "crud", version: "1", current_stage: "None", description: "" });
    await new Promise((r) => setTimeout(r, 5));
    const upd = await c.call("PATCH", "model-versions/update", { name: "crud", version: 1, description: "better" });
    expect(upd.status).toBe(200);
    expect(upd.body.model_version.description).toBe("better");
    expect(upd.body.model_version.last_updated_timestamp).toBeGreaterThan(got.body.model_version.last_updated_timestamp);
    expectError(await c.call("PATCH", "model-versions/update", { name: "crud", version: "9", description: "x" }), 404, "RESOURCE_DOES_NOT_EXIST");
    expect((await del("model-versions/delete", { name: "crud", version: "1" })).status).toBe(200);
    expect((await c.get("model-versions/get", { name: "crud", version: "1" })).status).toBe(404);
    expect((await c.get("registered-models/get", { name: "crud" })).body.registered_model.latest_versions).toBeUndefined();
  });

  it("reads versions as integers: non-integers are 400, impossible numbers 404", async () => {
    for (const version of ["abc", "1.5", "1e3", "", " "]) {
      expectError(await c.get("model-versions/get", { name: "mv", version }), 400, "INVALID_PARAMETER_VALUE");
    }
    for (const version of ["0", "-1", "99999999999", "2147483648"]) {
      expectError(await c.get("model-versions/get", { name: "mv", version }), 404, "RESOURCE_DOES_NOT_EXIST");
    }
    expect((await c.get("model-versions/get", { name: "mv", version: " 1 " })).status).toBe(200);
  });

  it("sets and deletes version tags", async () => {
    expect((await c.post("model-versions/set-tag", { name: "mv", version: "1", key: "validated", value: "yes" })).status).toBe(200);
    expect((await c.get("model-versions/get", { name: "mv", version: "1" })).body.model_version.tags).toEqual([
      { key: "k", value: "v" },
      { key: "validated", value: "yes" },
    ]);
    expect((await del("model-versions/delete-tag", { name: "mv", version: "1", key: "validated" })).status).toBe(200);
    expect((await del("model-versions/delete-tag", { name: "mv", version: "1", key: "validated" })).status).toBe(200);
    expectError(await c.post("model-versions/set-tag", { name: "mv", version: "99", key: "a", value: "b" }), 404, "RESOURCE_DOES_NOT_EXIST");
    expectError(await del("model-versions/delete-tag", { name: "mv", version: "99", key: "a" }), 404, "RESOURCE_DOES_NOT_EXIST");
    expectError(await c.post("model-versions/set-tag", { name: "mv", version: "1", key: "a", value: "v".repeat(5001) }), 400, "INVALID_PARAMETER_VALUE", /5000/);
  });

  it("answers the registered source as the download URI", async () => {
    const r = await c.get("model-versions/get-download-uri", { name: "mv", version: "1" });
    expect(r).toEqual({ status: 200, body: { artifact_uri: `${run.artifactUri}/model` } });
    await c.post("model-versions/create", { name: "mv", source: `runs:/${run.runId}/model` });
    expect((await c.get("model-versions/get-download-uri", { name: "mv", version: "3" })).body.artifact_uri).toBe(`runs:/${run.runId}/model`);
    expectError(await c.get("model-versions/get-download-uri", { name: "mv", version: "42" }), 404, "RESOURCE_DOES_NOT_EXIST");
  });
});

describe("stage transitions", () => {
  beforeAll(async () => {
    await newModel(c, "staged");
    for (let i = 0; i < 4; i++) await newVersion(c, "staged", run);
  });

  it("moves a version between stages, accepting any letter case, and stamps the last update", async () => {
    const r = await c.post("model-versions/transition-stage", { name: "staged", version: "1", stage: "staging", archive_existing_versions: false });
    expect(r.status).toBe(200);
    expect(r.body.model_version).toMatchObject({ version: "1", current_stage: "Staging" });
    expect(r.body.model_version.last_updated_timestamp).toBeGreaterThanOrEqual(r.body.model_version.creation_timestamp);
    for (const [stage, canonical] of [["PRODUCTION", "Production"], ["archived", "Archived"], ["none", "None"], ["Production", "Production"]]) {
      const moved = await c.post("model-versions/transition-stage", { name: "staged", version: "2", stage });
      expect(moved.body.model_version.current_stage).toBe(canonical);
    }
  });

  it("archives the other versions in the target stage only when asked", async () => {
    await c.post("model-versions/transition-stage", { name: "staged", version: "3", stage: "Production" });
    expect(await stageOf("staged", "2")).toBe("Production");
    const r = await c.post("model-versions/transition-stage", { name: "staged", version: "4", stage: "Production", archive_existing_versions: true });
    expect(r.body.model_version.current_stage).toBe("Production");
    expect(await stageOf("staged", "2")).toBe("Archived");
    expect(await stageOf("staged", "3")).toBe("Archived");
    expect(await stageOf("staged", "1")).toBe("Staging");
    await c.post("model-versions/transition-stage", { name: "staged", version: "3", stage: "Staging", archive_existing_versions: "true" });
    expect(await stageOf("staged", "1")).toBe("Archived");
  });

  it("refuses unknown stages, archiving from inactive stages, and missing versions", async () => {
    expectError(await c.post("model-versions/transition-stage", { name: "staged", version: "1", stage: "Prod" }), 400, "INVALID_PARAMETER_VALUE", /None, Staging, Production, Archived/);
    expectError(await c.post("model-versions/transition-stage", { name: "staged", version: "1" }), 400, "INVALID_PARAMETER_VALUE", /stage/);
    expectError(
      await c.post("model-versions/transition-stage", { name: "staged", version: "1", stage: "Archived", archive_existing_versions: true }),
      400,
      "INVALID_PARAMETER_VALUE",
      /not an Active stage/,
    );
    expectError(await c.post("model-versions/transition-stage", { name: "staged", version: "1", stage: "None", archive_existing_versions: "maybe" }), 400, "INVALID_PARAMETER_VALUE");
    expectError(await c.post("model-versions/transition-stage", { name: "staged", version: "77", stage: "Staging" }), 404, "RESOURCE_DOES_NOT_EXIST");
    expectError(await c.post("model-versions/transition-stage", { name: "nope", version: "1", stage: "Staging" }), 404, "RESOURCE_DOES_NOT_EXIST");
  });
});

describe("model-versions/search", () => {
  beforeAll(async () => {
    await newModel(c, "search-a");
    await newModel(c, "search-b");
    await newVersion(c, "search-a", run, { tags: [{ key: "quality", value: "good" }] });
    await newVersion(c, "search-a", other, { source: `${other.artifactUri}/weights/model` });
    await newVersion(c, "search-b", run, { tags: [{ key: "quality", value: "bad" }] });
    await newVersion(c, "search-b", other, { source: `${other.artifactUri}/model` });
    await newVersion(c, "search-b", run);
  });

  it("filters on name, run_id (= and IN), source_path, version_number and tags", async () => {
    const q = async (filter: string) => versions(await c.get("model-versions/search", { filter, order_by: ["name", "version_number"] }));
    expect(await q("name = 'search-a'")).toEqual(["search-a/1", "search-a/2"]);
    expect(await q("name LIKE 'search-%' and version_number >= 2")).toEqual(["search-a/2", "search-b/2", "search-b/3"]);
    expect(await q(`name ILIKE 'SEARCH-%' and run_id = '${other.runId}'`)).toEqual(["search-a/2", "search-b/2"]);
    expect(await q(`run_id IN ('${other.runId}', '${"0".repeat(32)}') and name = 'search-b'`)).toEqual(["search-b/2"]);
    expect(await q("source_path LIKE '%/weights/%'")).toEqual(["search-a/2"]);
    expect(await q("tags.quality = 'good'")).toEqual(["search-a/1"]);
    expect(await q("tags.quality != 'good' and name LIKE 'search-%'")).toEqual(["search-b/1"]);
    expect(await q("name = 'search-b' and version_number != 2")).toEqual(["search-b/1", "search-b/3"]);
    expect(await q("tags.version_number = '1'")).toEqual([]);
  });

  it("leaves aliases out of search results, as MLflow does, and answers {} when nothing matches", async () => {
    await c.post("registered-models/alias", { name: "search-a", alias: "champ", version: "1" });
    const r = await c.get("model-versions/search", { filter: "name = 'search-a'" });
    expect(r.body.model_versions.every((v: { aliases?: string[] }) => v.aliases === undefined)).toBe(true);
    expect(await c.get("model-versions/search", { filter: "name = 'none-such'" })).toEqual({ status: 200, body: {} });
  });

  it("orders by last update by default, then name ascending and version descending, and pages with tokens", async () => {
    const all = versions(await c.get("model-versions/search", { filter: "name LIKE 'search-%'" }));
    expect(all[0]).toBe("search-b/3");
    await c.call("PATCH", "model-versions/update", { name: "search-a", version: "1", description: "touched" });
    expect(versions(await c.get("model-versions/search", { filter: "name LIKE 'search-%'" }))[0]).toBe("search-a/1");
    const byName = versions(await c.get("model-versions/search", { filter: "name LIKE 'search-%'", order_by: "name DESC" }));
    expect(byName).toEqual(["search-b/3", "search-b/2", "search-b/1", "search-a/2", "search-a/1"]);
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = await c.get("model-versions/search", { filter: "name LIKE 'search-%'", order_by: ["name ASC", "version_number ASC"], max_results: 2, ...(token ? { page_token: token } : {}) });
      seen.push(...versions(page));
      token = page.body.next_page_token;
    } while (token);
    expect(seen).toEqual(["search-a/1", "search-a/2", "search-b/1", "search-b/2", "search-b/3"]);
  });

  it("refuses bad filters, orders and limits with 400 saying what is wrong", async () => {
    const bad: [Record<string, string | string[] | number>, RegExp][] = [
      [{ filter: "version_number = '1'" }, /numeric/],
      [{ filter: "version_number > 1.5" }, /whole number/],
      [{ filter: "version_number = 99999999999" }, /whole number/],
      [{ filter: "name IN ('a')" }, /comparator/i],
      [{ filter: "source_path > 'a'" }, /comparator/i],
      [{ filter: "current_stage = 'Production'" }, /attribute/],
      [{ filter: `run_id IN (${Array.from({ length: 1001 }, (_, i) => `'r${i}'`).join(",")})` }, /1000/],
      [{ filter: Array.from({ length: 21 }, () => "name = 'a'").join(" and ") }, /20/],
      [{ order_by: "tags.quality" }, /not supported|entity/i],
      [{ order_by: ["version_number", "version_number DESC"] }, /more than once/],
      [{ max_results: 200_001 }, /200000/],
      [{ max_results: -5 }, /at least 1/],
    ];
    for (const [query, message] of bad) expectError(await c.get("model-versions/search", query), 400, "INVALID_PARAMETER_VALUE", message);
    expect((await c.get("model-versions/search", { max_results: 200_000 })).status).toBe(200);
  });
});

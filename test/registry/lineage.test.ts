/**
 * Lineage both ways, from what normal use records: model versions registered with a run_id, and the
 * datasets runs logged with log-inputs. Version → run → datasets; run → datasets and versions; dataset →
 * runs and versions.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLineage } from "../../src/registry/lineage.js";
import { createSqlRegistryStore } from "../../src/registry/store-sql.js";
import { client, startTestApp, type TestApp } from "../helpers/app.js";
import { expectError, newModel, newRun } from "../helpers/registry.js";

let t: TestApp;
let c: ReturnType<typeof client>;
let expA: string;
let expB: string;
let run1: { runId: string; artifactUri: string };
let run2: { runId: string; artifactUri: string };
let run3: { runId: string; artifactUri: string };

const dataset = (name: string, digest: string, context?: string) => ({
  ...(context ? { tags: [{ key: "mlflow.data.context", value: context }] } : {}),
  dataset: { name, digest, source_type: "local", source: `{"uri": "/data/${name}.csv"}` },
});

async function logInputs(runId: string, datasets: unknown[]): Promise<void> {
  const r = await c.post("runs/log-inputs", { run_id: runId, datasets });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
}

async function register(name: string, run: { runId: string; artifactUri: string }, withRunId = true): Promise<string> {
  const r = await c.post("model-versions/create", { name, source: `${run.artifactUri}/model`, ...(withRunId ? { run_id: run.runId } : {}) });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body.model_version.version;
}

const lineage = (query: Record<string, string | number>) => c.get("/api/keel/v1/lineage", query);

beforeAll(async () => {
  let clock = 1_700_000_000_000;
  t = await startTestApp({ now: () => (clock += 1000) });
  c = client(t.url);
  expA = (await c.post("experiments/create", { name: "lineage-a" })).body.experiment_id;
  expB = (await c.post("experiments/create", { name: "lineage-b" })).body.experiment_id;
  run1 = await newRun(c, expA);
  run2 = await newRun(c, expB);
  run3 = await newRun(c, expA);
  await logInputs(run1.runId, [dataset("iris", "d1", "training"), dataset("iris-test", "d2", "evaluation")]);
  await logInputs(run2.runId, [dataset("iris", "d1", "training")]);
  await logInputs(run3.runId, [dataset("odd", "it's\\x", "training")]);
  await newModel(c, "m1");
  await newModel(c, "m2");
  await register("m1", run1); // m1 v1
  await register("m2", run1); // m2 v1
  await register("m1", run2); // m1 v2
  await register("m1", run3, false); // m1 v3: no run_id
});
afterAll(async () => t?.close());

describe("lineage of a model version", () => {
  it("answers the version, its run with its experiment, and the run's datasets with their context", async () => {
    const r = await lineage({ model: "m1", version: "1" });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.model_version).toMatchObject({ name: "m1", version: "1", run_id: run1.runId, source: `${run1.artifactUri}/model`, current_stage: "None" });
    expect(r.body.run).toMatchObject({ run_id: run1.runId, experiment_id: expA, experiment_name: "lineage-a", lifecycle_stage: "active", status: "RUNNING" });
    expect(typeof r.body.run.run_name).toBe("string");
    expect(r.body.datasets).toEqual([
      { name: "iris", digest: "d1", source_type: "local", source: '{"uri": "/data/iris.csv"}', context: "training" },
      { name: "iris-test", digest: "d2", source_type: "local", source: '{"uri": "/data/iris-test.csv"}', context: "evaluation" },
    ]);
    expect(r.body.next_page_token).toBeUndefined();
  });

  it("answers run null for a version registered without a run", async () => {
    const r = await lineage({ model: "m1", version: 3 });
    expect(r.body).toMatchObject({ model_version: { name: "m1", version: "3", run_id: "" }, run: null, datasets: [] });
  });

  it("pages the datasets", async () => {
    const first = await lineage({ model: "m1", version: "1", max_results: 1 });
    expect(first.body.datasets.map((d: { name: string }) => d.name)).toEqual(["iris"]);
    expect(first.body.next_page_token).toEqual(expect.any(String));
    const second = await lineage({ model: "m1", version: "1", max_results: 1, page_token: first.body.next_page_token });
    expect(second.body.datasets.map((d: { name: string }) => d.name)).toEqual(["iris-test"]);
    expect(second.body.next_page_token).toBeUndefined();
  });
});

describe("lineage of a run", () => {
  it("answers the run's datasets and the versions made from it", async () => {
    const r = await lineage({ run_id: run1.runId });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.run).toMatchObject({ run_id: run1.runId, experiment_name: "lineage-a" });
    expect(r.body.datasets.map((d: { digest: string }) => d.digest)).toEqual(["d1", "d2"]);
    expect(r.body.model_versions.map((v: { name: string; version: string }) => `${v.name}/${v.version}`)).toEqual(["m1/1", "m2/1"]);
    expect(r.body.model_versions[0]).toEqual({
      name: "m1",
      version: "1",
      source: `${run1.artifactUri}/model`,
      run_id: run1.runId,
      current_stage: "None",
      creation_timestamp: expect.any(Number),
    });

    const none = await lineage({ run_id: run3.runId });
    expect(none.body).toMatchObject({ run: { run_id: run3.runId }, model_versions: [] });
  });

  it("pages both lists together, continuing while either has more", async () => {
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const r = await lineage({ run_id: run1.runId, max_results: 1, ...(token ? { page_token: token } : {}) });
      expect(r.body.datasets.length + r.body.model_versions.length).toBeGreaterThan(0);
      seen.push(...r.body.datasets.map((d: { name: string }) => d.name), ...r.body.model_versions.map((v: { name: string }) => v.name));
      token = r.body.next_page_token;
      pages++;
    } while (token);
    expect(pages).toBe(2);
    expect(seen.sort()).toEqual(["iris", "iris-test", "m1", "m2"]);
  });

  it("still answers for a deleted run, marked deleted", async () => {
    const gone = await newRun(c, expB);
    await logInputs(gone.runId, [dataset("iris", "d1", "training")]);
    await newModel(c, "m-deleted-run");
    await register("m-deleted-run", gone);
    expect((await c.post("runs/delete", { run_id: gone.runId })).status).toBe(200);
    const r = await lineage({ model: "m-deleted-run", version: "1" });
    expect(r.body.run).toMatchObject({ run_id: gone.runId, lifecycle_stage: "deleted" });
    const d = await lineage({ dataset_digest: "d1" });
    expect(d.body.runs.map((x: { run_id: string }) => x.run_id)).toContain(gone.runId);
    // Cleanup for the dataset tests below: the model and its run leave the picture.
    expect((await c.call("DELETE", "registered-models/delete", { name: "m-deleted-run" })).status).toBe(200);
    await t.database.db.deleteFrom("runs").where("run_uuid", "=", gone.runId).execute();
  });
});

describe("lineage of a dataset", () => {
  it("answers the runs that used it across experiments, newest first, and the versions made from them", async () => {
    const r = await lineage({ dataset_digest: "d1" });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.dataset).toEqual({ digest: "d1" });
    expect(r.body.runs.map((x: { run_id: string; experiment_name: string }) => [x.run_id, x.experiment_name])).toEqual([
      [run2.runId, "lineage-b"],
      [run1.runId, "lineage-a"],
    ]);
    expect(r.body.runs[1].datasets).toEqual([{ name: "iris", digest: "d1", source_type: "local", source: '{"uri": "/data/iris.csv"}', context: "training" }]);
    expect(r.body.model_versions.map((v: { name: string; version: string }) => `${v.name}/${v.version}`)).toEqual(["m1/1", "m2/1", "m1/2"]);
    expect(r.body.next_page_token).toBeUndefined();
  });

  it("narrows by name, and finds digests that need quoting in a search filter", async () => {
    expect((await lineage({ dataset_digest: "d1", dataset_name: "iris-test" })).body).toMatchObject({ dataset: { digest: "d1", name: "iris-test" }, runs: [], model_versions: [] });
    const test = await lineage({ dataset_digest: "d2", dataset_name: "iris-test" });
    expect(test.body.runs.map((x: { run_id: string }) => x.run_id)).toEqual([run1.runId]);
    expect(test.body.runs[0].datasets).toEqual([expect.objectContaining({ name: "iris-test", context: "evaluation" })]);
    const odd = await lineage({ dataset_digest: "it's\\x" });
    expect(odd.body.runs.map((x: { run_id: string }) => x.run_id)).toEqual([run3.runId]);
    expect((await lineage({ dataset_digest: "unknown" })).body).toEqual({ dataset: { digest: "unknown" }, runs: [], model_versions: [] });
  });

  it("pages the runs, with the versions of each page's runs", async () => {
    const first = await lineage({ dataset_digest: "d1", max_results: 1 });
    expect(first.body.runs.map((x: { run_id: string }) => x.run_id)).toEqual([run2.runId]);
    expect(first.body.model_versions.map((v: { name: string; version: string }) => `${v.name}/${v.version}`)).toEqual(["m1/2"]);
    const second = await lineage({ dataset_digest: "d1", max_results: 1, page_token: first.body.next_page_token });
    expect(second.body.runs.map((x: { run_id: string }) => x.run_id)).toEqual([run1.runId]);
    expect(second.body.model_versions.map((v: { name: string; version: string }) => `${v.name}/${v.version}`)).toEqual(["m1/1", "m2/1"]);
    expect(second.body.next_page_token).toBeUndefined();
  });

  it("walks experiments in chunks when there are more than one run search takes, losing and repeating nothing", async () => {
    const expected: string[] = [];
    for (let e = 0; e < 5; e++) {
      const exp = (await c.post("experiments/create", { name: `chunky-${e}` })).body.experiment_id;
      for (let r = 0; r < e % 3; r++) {
        const run = await newRun(c, exp);
        await logInputs(run.runId, [dataset("chunky", "c1"), dataset("other", "c2")]);
        expected.push(run.runId);
      }
    }
    const store = createSqlRegistryStore(t.database);
    for (const per of [1, 2, 3, 5000]) {
      const chunked = createLineage({ store, tracking: t.tracking, experimentsPerSearch: per });
      for (const limit of [1, 2, 3, 100]) {
        const seen: string[] = [];
        let offset: number | undefined = 0;
        let pages = 0;
        while (offset !== undefined) {
          const page = await chunked.ofDataset("c1", "chunky", { offset, limit });
          expect(page.runs.length).toBeLessThanOrEqual(limit);
          seen.push(...page.runs.map((r) => r.run_id));
          offset = page.nextOffset;
          expect(++pages).toBeLessThan(50);
        }
        expect(seen.sort(), `${per} experiments per search, pages of ${limit}`).toEqual([...expected].sort());
        expect(pages, `${per}/${limit}`).toBe(Math.max(1, Math.ceil(expected.length / limit)));
      }
    }
  });
});

describe("lineage errors", () => {
  it("answers 400 for missing, mixed or malformed query parameters", async () => {
    const bad: [Record<string, string | number>, RegExp][] = [
      [{}, /Missing lineage query/],
      [{ model: "m1" }, /'version'/],
      [{ version: "1" }, /'model'/],
      [{ model: "m1", version: "1", run_id: run1.runId }, /only one kind/],
      [{ run_id: run1.runId, dataset_digest: "d1" }, /only one kind/],
      [{ dataset_name: "iris" }, /dataset_digest/],
      [{ dataset_digest: "" }, /dataset_digest/],
      [{ dataset_digest: "x".repeat(37) }, /at most 36/],
      [{ dataset_digest: "d1", dataset_name: "" }, /dataset_name/],
      [{ run_id: "not-a-run" }, /run ids are 32/],
      [{ run_id: "" }, /run_id/],
      [{ model: "m1", version: "one" }, /integer/],
      [{ model: "", version: "1" }, /'model'/],
      [{ run_id: run1.runId, max_results: 0 }, /max_results/],
      [{ run_id: run1.runId, max_results: 1001 }, /max_results/],
      [{ run_id: run1.runId, max_results: "1e400" }, /max_results/],
      [{ run_id: run1.runId, max_results: "ten" }, /max_results/],
      [{ run_id: run1.runId, page_token: "garbage!" }, /page token/],
      [{ run_id: run1.runId, colour: "red" }, /additional/],
    ];
    for (const [query, msg] of bad) expectError(await lineage(query), 400, "INVALID_PARAMETER_VALUE", msg);
  });

  it("answers 404 with a clear message for an unknown model, version or run", async () => {
    expectError(await lineage({ model: "nope", version: "1" }), 404, "RESOURCE_DOES_NOT_EXIST", /Registered Model with name=nope not found/);
    expectError(await lineage({ model: "m1", version: "99" }), 404, "RESOURCE_DOES_NOT_EXIST", /Model Version \(name=m1, version=99\) not found/);
    expectError(await lineage({ model: "m1", version: "0" }), 404, "RESOURCE_DOES_NOT_EXIST");
    expectError(await lineage({ run_id: "0".repeat(32) }), 404, "RESOURCE_DOES_NOT_EXIST", /Run with id=0{32} not found/);
  });
});

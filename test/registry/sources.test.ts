/**
 * A model version's source must name artifacts this server stores, and when a run_id is given, that run's
 * own artifacts: registering must never turn into reading arbitrary files, fetching URLs from the server,
 * or claiming another run's model.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { client, startTestApp, type TestApp } from "../helpers/app.js";
import { expectError, newModel, newRun } from "../helpers/registry.js";

let t: TestApp;
let c: ReturnType<typeof client>;
let run: { runId: string; artifactUri: string };
let other: { runId: string; artifactUri: string };
beforeAll(async () => {
  t = await startTestApp();
  c = client(t.url);
  const exp = (await c.post("experiments/create", { name: "sources" })).body.experiment_id;
  run = await newRun(c, exp);
  other = await newRun(c, exp);
  await newModel(c, "src");
});
afterAll(async () => t?.close());

const create = (source: string, runId?: string) => c.post("model-versions/create", { name: "src", source, ...(runId ? { run_id: runId } : {}) });

describe("model version sources", () => {
  it("accepts the run's own artifacts as mlflow-artifacts:/ or runs:/ URIs", async () => {
    for (const [source, runId] of [
      [`${run.artifactUri}/model`, run.runId],
      [`runs:/${run.runId}/model`, run.runId],
      [`runs:/${run.runId}/model`, undefined],
      [`runs:/${run.runId}/deep/er/model`, undefined],
      [`${run.artifactUri}`, run.runId],
      [`mlflow-artifacts://server:5000/${run.artifactUri.slice("mlflow-artifacts:/".length)}/model`, run.runId],
      [`${other.artifactUri}/model`, undefined],
      [`${run.artifactUri}/my%20model`, run.runId],
    ] as const) {
      const r = await create(source, runId);
      expect(r.status, `${source} ${JSON.stringify(r.body)}`).toBe(200);
      expect(r.body.model_version.source).toBe(source);
    }
  });

  it("records where in the artifact store each version's files are, for serving", async () => {
    const root = run.artifactUri.slice("mlflow-artifacts:/".length);
    expect(await t.registry.artifactPath("src", 1)).toBe(`${root}/model`);
    expect(await t.registry.artifactPath("src", 2)).toBe(`${root}/model`);
    expect(await t.registry.artifactPath("src", 4)).toBe(`${root}/deep/er/model`);
    expect(await t.registry.artifactPath("src", 8)).toBe(`${root}/my model`);
    await expect(t.registry.artifactPath("src", 99)).rejects.toMatchObject({ code: "RESOURCE_DOES_NOT_EXIST" });
  });

  it("refuses a source outside the given run's artifacts", async () => {
    expectError(await create(`${other.artifactUri}/model`, run.runId), 400, "INVALID_PARAMETER_VALUE", new RegExp(`not inside the artifacts of run ${run.runId}`));
    expectError(await create(`runs:/${other.runId}/model`, run.runId), 400, "INVALID_PARAMETER_VALUE", /not inside/);
    const [, exp] = /mlflow-artifacts:\/(\d+)\//.exec(run.artifactUri) ?? [];
    expectError(await create(`mlflow-artifacts:/${exp}/${run.runId}`, run.runId), 400, "INVALID_PARAMETER_VALUE", /not inside/);
    expectError(await create(`mlflow-artifacts:/${exp}/${run.runId}/artifactsX/model`, run.runId), 400, "INVALID_PARAMETER_VALUE", /not inside/);
    expectError(await create(`mlflow-artifacts:/0/${run.runId}/artifacts/model`, run.runId), 400, "INVALID_PARAMETER_VALUE", /not inside/);
  });

  it("refuses local paths, file:// and remote URLs with a message that says what is accepted", async () => {
    for (const source of [
      "/etc/passwd",
      "model",
      "./model",
      "../model",
      "C:\\models\\m",
      "file:///etc/passwd",
      "file://localhost/etc/passwd",
      "http://127.0.0.1:5000/api/2.0/mlflow-artifacts/artifacts/x",
      "https://169.254.169.254/latest/meta-data",
      "s3://bucket/model",
      "models:/other/1",
      "dbfs:/x",
    ]) {
      expectError(await create(source), 400, "INVALID_PARAMETER_VALUE", /mlflow-artifacts:\/… and runs:\/<run_id>/);
      expectError(await create(source, run.runId), 400, "INVALID_PARAMETER_VALUE");
    }
  });

  it("refuses traversal however it is spelled, and the artifact store's root", async () => {
    for (const source of [
      `${run.artifactUri}/../../other`,
      `${run.artifactUri}/model/../../../x`,
      `${run.artifactUri}/%2e%2e/%2e%2e/x`,
      `${run.artifactUri}/%252e%252e/x`,
      `${run.artifactUri}//model`,
      `${run.artifactUri}/model\\..\\x`,
      `runs:/${run.runId}/../../x`,
      `${run.artifactUri}/model?x=1`,
      `${run.artifactUri}/model#frag`,
      `${run.artifactUri}/%ZZ`,
    ]) {
      expectError(await create(source, run.runId), 400, "INVALID_PARAMETER_VALUE");
    }
    expectError(await create("mlflow-artifacts:/"), 400, "INVALID_PARAMETER_VALUE", /root/);
  });

  it("needs the run to exist, and run ids in MLflow's shape", async () => {
    expectError(await create(`runs:/${"0".repeat(32)}/model`), 404, "RESOURCE_DOES_NOT_EXIST", /Run/);
    expectError(await create(`${run.artifactUri}/model`, "f".repeat(32)), 404, "RESOURCE_DOES_NOT_EXIST", /Run/);
    expectError(await create(`${run.artifactUri}/model`, "not-a-run"), 400, "INVALID_PARAMETER_VALUE", /run_id/);
    expectError(await create(`runs:/${run.runId.toUpperCase()}/model`), 400, "INVALID_PARAMETER_VALUE");
  });

  it("refuses runs whose artifacts live outside this server's store", async () => {
    const exp = (await c.post("experiments/create", { name: "elsewhere", artifact_location: "s3://bucket/prefix" })).body.experiment_id;
    const elsewhere = await newRun(c, exp);
    expect(elsewhere.artifactUri.startsWith("s3://")).toBe(true);
    expectError(await create(`runs:/${elsewhere.runId}/model`), 400, "INVALID_PARAMETER_VALUE", /outside this server's artifact store/);
    expectError(await create(`${run.artifactUri}/model`, elsewhere.runId), 400, "INVALID_PARAMETER_VALUE", /outside this server's artifact store/);
  });

  it("created nothing for the refused sources", async () => {
    const r = await c.get("model-versions/search", { filter: "name = 'src'", max_results: 1000 });
    expect(r.body.model_versions).toHaveLength(8);
  });
});

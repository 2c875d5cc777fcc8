import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { credentialsFromEnv, KeelApiError, KeelClient, KeelNetworkError, resolveServerUrl } from "../../src/sdk/index.js";
import { startTestApp, type TestApp } from "../helpers/app.js";
import { freePort } from "../helpers/cli.js";
import { userWithToken } from "../helpers/governance.js";

let t: TestApp;
let k: KeelClient;
beforeAll(async () => {
  t = await startTestApp();
  k = new KeelClient({ url: `${t.url}/` });
});
afterAll(async () => t?.close());

describe("KeelClient", () => {
  it("drives a whole tracking session", async () => {
    expect(await k.health()).toBe(true);
    expect(await k.getExperimentByName("sdk")).toBeUndefined();
    const exp = await k.createExperiment("sdk", { tags: [{ key: "a", value: "b" }] });
    expect((await k.getExperiment(exp)).name).toBe("sdk");
    const run = await k.createRun(exp, { runName: "r" });
    const id = run.info.run_id;
    await k.logParam(id, "lr", "0.1");
    await k.setTag(id, "t", "v");
    await k.logMetric(id, "m", Number.NaN, { step: 0 });
    await k.logBatch(id, { metrics: Array.from({ length: 600 }, (_, i) => ({ key: "loss", value: 1 / (i + 1), step: i, timestamp: i })) });
    const hist = await k.metricHistory(id, "loss", 250);
    expect(hist).toHaveLength(600);
    expect(hist[599].step).toBe(599);
    expect((await k.getRun(id)).data.metrics?.find((m) => m.key === "m")?.value).toBe("NaN");
    expect((await k.updateRun(id, { status: "FINISHED", endTime: 5 })).status).toBe("FINISHED");
    const found = await k.searchRuns({ experimentIds: [exp], filter: "params.lr = '0.1'" });
    expect(found.runs?.map((r) => r.info.run_id)).toEqual([id]);
    const series = await k.compareRuns({ runIds: [id], metricKeys: ["loss"], maxPoints: 50 });
    expect(series[0].points).toHaveLength(50);
    expect((await k.experimentKeys([exp])).params).toEqual(["lr"]);
    await k.deleteRun(id);
    expect((await k.getRun(id)).info.lifecycle_stage).toBe("deleted");
    await k.restoreRun(id);
  });

  it("raises KeelApiError with the server's code and status", async () => {
    const err = await k.getExperiment("424242").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KeelApiError);
    expect((err as KeelApiError).status).toBe(404);
    expect((err as KeelApiError).code).toBe("RESOURCE_DOES_NOT_EXIST");
  });

  it("resolves the server URL from flag, KEEL_SERVER_URL, MLFLOW_TRACKING_URI, default", () => {
    expect(resolveServerUrl("http://a", { KEEL_SERVER_URL: "http://b" })).toBe("http://a");
    expect(resolveServerUrl(undefined, { KEEL_SERVER_URL: "http://b", MLFLOW_TRACKING_URI: "http://c" })).toBe("http://b");
    expect(resolveServerUrl(undefined, { MLFLOW_TRACKING_URI: "http://c" })).toBe("http://c");
    expect(resolveServerUrl(undefined, {})).toBe("http://127.0.0.1:5000");
  });
});

describe("KeelClient: pagination, registry, Keel extensions", () => {
  const collect = async <T>(it: AsyncIterable<T>) => {
    const out: T[] = [];
    for await (const x of it) out.push(x);
    return out;
  };

  it("iterates every page of experiments, runs, models and versions", async () => {
    const names = Array.from({ length: 7 }, (_, i) => `page-exp-${i}`);
    for (const n of names) await k.createExperiment(n);
    const exps = await collect(k.iterateExperiments({ filter: "name LIKE 'page-exp-%'", maxResults: 2 }));
    expect(exps.map((e) => e.name).sort()).toEqual(names);

    const exp = (await k.getExperimentByName("page-exp-0"))!.experiment_id;
    const ids = [];
    for (let i = 0; i < 11; i++) ids.push((await k.createRun(exp, { runName: `r${i}`, startTime: 1000 + i })).info.run_id);
    const runs = await collect(k.iterateRuns({ experimentIds: [exp], orderBy: ["attributes.start_time ASC"], maxResults: 3 }));
    expect(runs.map((r) => r.info.run_id)).toEqual(ids);

    for (let i = 0; i < 5; i++) await k.createRegisteredModel(`page-model-${i}`);
    const models = await collect(k.iterateRegisteredModels({ filter: "name LIKE 'page-model-%'", maxResults: 2 }));
    expect(models).toHaveLength(5);
    for (let i = 0; i < 5; i++) await k.createModelVersion({ name: "page-model-0", source: `runs:/${ids[i]}/model`, runId: ids[i] });
    const versions = await collect(k.iterateModelVersions({ filter: "name = 'page-model-0'", maxResults: 2 }));
    expect(versions.map((v) => v.version).sort()).toEqual(["1", "2", "3", "4", "5"]);
    expect((await k.modelVersions("page-model-0")).map((v) => v.version)).toEqual(["1", "2", "3", "4", "5"]);
  });

  it("covers experiments, runs and inputs", async () => {
    const exp = await k.createExperiment("sdk-more");
    await k.renameExperiment(exp, "sdk-more-renamed");
    await k.setExperimentTag(exp, "owner", "me");
    const e = await k.getExperiment(exp);
    expect(e.name).toBe("sdk-more-renamed");
    expect(e.tags).toContainEqual({ key: "owner", value: "me" });
    await k.deleteExperiment(exp);
    expect((await k.getExperiment(exp)).lifecycle_stage).toBe("deleted");
    await k.restoreExperiment(exp);

    const run = (await k.createRun(exp, { runName: "in", userId: "alice" })).info.run_id;
    await k.logInputs(run, [{ dataset: { name: "train", digest: "abc123", source_type: "local", source: "{}" }, tags: [{ key: "mlflow.data.context", value: "training" }] }]);
    await k.setTag(run, "gone", "soon");
    await k.deleteTag(run, "gone");
    const got = await k.getRun(run);
    expect(got.info.user_id).toBe("alice");
    expect(got.inputs?.dataset_inputs?.[0].dataset.digest).toBe("abc123");
    expect(got.data.tags?.some((t) => t.key === "gone")).toBe(false);
    expect((await k.searchDatasets([exp]))[0]).toMatchObject({ name: "train", digest: "abc123", context: "training" });
  });

  it("drives the registry: models, versions, stages, aliases, tags, signatures, lineage and events", async () => {
    const before = (await k.events({ after: 0, limit: 1000 })).next_after;
    const exp = await k.createExperiment("sdk-registry");
    const run = (await k.createRun(exp)).info.run_id;
    await k.logInputs(run, [{ dataset: { name: "d", digest: "dd", source_type: "local", source: "{}" } }]);
    const m = await k.createRegisteredModel("sdk-model", { description: "first", tags: [{ key: "team", value: "a" }] });
    expect(m.name).toBe("sdk-model");
    expect(await k.findRegisteredModel("nope-model")).toBeUndefined();
    const v1 = await k.createModelVersion({ name: "sdk-model", source: `runs:/${run}/model`, runId: run, tags: [{ key: "k", value: "v" }], description: "v1" });
    expect(v1.version).toBe("1");
    await k.createModelVersion({ name: "sdk-model", source: `runs:/${run}/model2`, runId: run });
    expect((await k.transitionModelVersionStage("sdk-model", 1, "Production")).current_stage).toBe("Production");
    await k.setRegisteredModelAlias("sdk-model", "champion", 2);
    expect((await k.getModelVersionByAlias("sdk-model", "champion")).version).toBe("2");
    await k.setModelVersionTag("sdk-model", 2, "x", "y");
    await k.deleteModelVersionTag("sdk-model", 2, "x");
    await k.setRegisteredModelTag("sdk-model", "t2", "v2");
    await k.deleteRegisteredModelTag("sdk-model", "team");
    await k.updateRegisteredModel("sdk-model", "second");
    await k.updateModelVersion("sdk-model", 2, "v2 desc");
    const got = await k.getRegisteredModel("sdk-model");
    expect(got.description).toBe("second");
    expect(got.tags).toEqual([{ key: "t2", value: "v2" }]);
    expect(got.aliases).toEqual([{ alias: "champion", version: "2" }]);
    expect((await k.getModelVersion("sdk-model", 2)).description).toBe("v2 desc");
    expect((await k.getLatestVersions("sdk-model", ["Production"])).map((v) => v.version)).toEqual(["1"]);
    expect(await k.getModelVersionDownloadUri("sdk-model", 1)).toBe(`runs:/${run}/model`);
    expect((await k.modelVersionSignature("sdk-model", 1)).source).toBe("none");
    expect((await k.lineage({ model: "sdk-model", version: 1 })).run?.run_id).toBe(run);
    expect((await k.lineage({ runId: run })).model_versions?.map((v) => v.version).sort()).toEqual(["1", "2"]);
    expect((await k.lineage({ datasetDigest: "dd" })).runs?.map((r) => r.run_id)).toEqual([run]);
    const events = await k.events({ after: before, limit: 1000 });
    expect(events.events.filter((e) => e.name === "sdk-model").map((e) => e.type)).toEqual(
      expect.arrayContaining(["model_created", "version_created", "stage_changed", "alias_set"]),
    );
    await k.deleteRegisteredModelAlias("sdk-model", "champion");
    await k.deleteModelVersion("sdk-model", 2);
    await k.renameRegisteredModel("sdk-model", "sdk-model-2");
    await k.deleteRegisteredModel("sdk-model-2");
    expect(await k.findRegisteredModel("sdk-model-2")).toBeUndefined();
    expect((await k.serverInfo()).status).toBe("ok");
  });

  it("wraps network failures with the URL", async () => {
    const port = await freePort();
    const dead = new KeelClient({ url: `http://127.0.0.1:${port}` });
    const err = await dead.listUsers().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KeelNetworkError);
    expect((err as Error).message).toMatch(new RegExp(`^cannot reach http://127\\.0\\.0\\.1:${port}/api/keel/v1/users: .*ECONNREFUSED`));
  });

  it("carries the request and the server's message on API errors", async () => {
    const err = (await k.createExperiment("").catch((e: unknown) => e)) as KeelApiError;
    expect(err).toBeInstanceOf(KeelApiError);
    expect(err.status).toBe(400);
    expect(err.code).toBe("INVALID_PARAMETER_VALUE");
    expect(err.request).toBe(`POST ${t.url}/api/2.0/mlflow/experiments/create`);
  });

  it("reads credentials from the environment as the MLflow client does", () => {
    expect(credentialsFromEnv({ KEEL_TOKEN: "a", MLFLOW_TRACKING_TOKEN: "b" })).toEqual({ token: "a" });
    expect(credentialsFromEnv({ MLFLOW_TRACKING_TOKEN: "b", MLFLOW_TRACKING_USERNAME: "u" })).toEqual({ token: "b" });
    expect(credentialsFromEnv({ MLFLOW_TRACKING_USERNAME: "u", MLFLOW_TRACKING_PASSWORD: "p" })).toEqual({ username: "u", password: "p" });
    expect(credentialsFromEnv({})).toEqual({});
  });
});

describe("KeelClient with auth on: credentials and the admin API", () => {
  let a: TestApp;
  beforeAll(async () => {
    a = await startTestApp({ auth: { enabled: true } });
  });
  afterAll(async () => a?.close());

  it("signs in with a Bearer token or Basic credentials, and answers 401 without", async () => {
    const token = await userWithToken(a, "root", { admin: true, password: "root-password-1" });
    const err = (await new KeelClient({ url: a.url }).whoami().catch((e: unknown) => e)) as KeelApiError;
    expect(err.status).toBe(401);
    expect(err.code).toBe("UNAUTHENTICATED");
    expect(await new KeelClient({ url: a.url, token }).whoami()).toEqual({ username: "root", is_admin: true, authenticated_by: "token" });
    expect(await new KeelClient({ url: a.url, username: "root", password: "root-password-1" }).whoami()).toMatchObject({ username: "root", authenticated_by: "password" });
  });

  it("manages users, groups, tokens, permissions and reads the audit trail", async () => {
    const admin = new KeelClient({ url: a.url, token: await userWithToken(a, "boss", { admin: true }) });
    const u = await admin.createUser({ username: "carol", password: "carol-password-1" });
    expect(u).toMatchObject({ username: "carol", is_admin: false });
    await admin.updateUser("carol", { isAdmin: false });
    expect((await admin.listUsers()).map((x) => x.username)).toContain("carol");
    await admin.createGroup("team");
    await admin.addGroupMember("team", "carol");
    expect(await admin.listGroups()).toContainEqual({ name: "team", members: ["carol"] });
    await admin.removeGroupMember("team", "carol");
    await admin.deleteGroup("team");

    const carol = new KeelClient({ url: a.url, username: "carol", password: "carol-password-1" });
    const created = await carol.createToken({ name: "ci" });
    expect(created.token).toBeTruthy();
    const carolByToken = new KeelClient({ url: a.url, token: created.token });
    expect((await carolByToken.whoami()).username).toBe("carol");
    expect((await carol.listTokens()).map((x) => x.name)).toEqual(["ci"]);

    const exp = await admin.createExperiment("guarded");
    await admin.setPermission({ resource: `experiment:${exp}`, username: "carol", permission: "NO_PERMISSIONS" });
    expect(((await carol.getExperiment(exp).catch((e: unknown) => e)) as KeelApiError).status).toBe(403);
    const access = await admin.whoCanAccess(`experiment:${exp}`);
    expect(access.users.find((x) => x.username === "carol")?.permission).toBe("NO_PERMISSIONS");
    await admin.deletePermission({ resource: `experiment:${exp}`, username: "carol" });
    expect((await carol.getExperiment(exp)).name).toBe("guarded");
    expect((await admin.getUser("carol")).experiment_permissions).toEqual([]);

    await carol.revokeToken(created.id);
    expect(((await carolByToken.whoami().catch((e: unknown) => e)) as KeelApiError).status).toBe(401);

    const page = await admin.audit({ limit: 2 });
    expect(page.records).toHaveLength(2);
    expect(page.next_after).toBe(page.records[1].seq);
    const all: number[] = [];
    for await (const r of admin.iterateAudit({ limit: 3 })) all.push(r.seq);
    expect(all.length).toBeGreaterThan(5);
    expect(all).toEqual([...all].sort((x, y) => x - y));
    expect((await admin.verifyAudit()).ok).toBe(true);
    await admin.deleteUser("carol");
  });
});

/**
 * `keel import mlflow` with Keel itself as the source (it serves the same MLflow REST API): a seeded
 * source app, target apps with auth on, the compiled CLI in between. Everything must arrive exactly
 * (metric histories point by point incl. NaN/±Infinity, artifact bytes by sha256, version numbers, stages,
 * aliases), a rerun must duplicate nothing, and an import killed mid-run or mid-model must finish cleanly
 * when run again.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type KeelClient as Client, KeelClient, type KeyValue, proxiedArtifactPath, type WireMetric, type WireRun, wireNumber } from "../../src/sdk/index.js";
import { dbKind, startTestApp, type TestApp } from "../helpers/app.js";
import { requireBuiltCli, runCli } from "../helpers/cli.js";
import { userWithToken } from "../helpers/governance.js";

const SOURCE_TAG = "keel.import.source_run_id";
const PENDING_TAG = "keel.import.pending_source_run_id";
const MLMODEL = readFileSync(new URL("../fixtures/mlmodel/columns.MLmodel", import.meta.url));
const HISTORY = 25_500;

let source: TestApp;
let sourceToken: string;
let src: Client;
let dir: string;
const apps: TestApp[] = [];

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

const sorted = (tags: KeyValue[] | undefined) => [...(tags ?? [])].filter((t) => !t.key.startsWith("keel.import.")).sort((a, b) => a.key.localeCompare(b.key));
const tag = (r: WireRun, key: string) => r.data.tags?.find((t) => t.key === key)?.value;

async function bytes(c: Client, path: string): Promise<Buffer> {
  const { stream } = await c.downloadArtifact(path);
  const chunks: Uint8Array[] = [];
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

/** relative path → sha256 of every artifact file of a run. */
async function artifactHashes(c: Client, run: WireRun): Promise<Record<string, string>> {
  const root = proxiedArtifactPath(run.info.artifact_uri);
  const out: Record<string, string> = {};
  if (root === undefined) return out;
  for await (const f of c.walkArtifacts(root)) out[f.path.slice(root.length + 1)] = createHash("sha256").update(await bytes(c, f.path)).digest("hex");
  return out;
}

const byPoint = (a: WireMetric, b: WireMetric) => a.step - b.step || a.timestamp - b.timestamp || String(a.value).localeCompare(String(b.value));

/** Seeds the source: 2 experiments, 4 runs (one deleted), a 25k+ point history with NaN/±Inf, nested artifacts, 2 models. */
async function seed(c: Client) {
  const a = await c.createExperiment("exp-a", { tags: [{ key: "team", value: "vision" }] });
  const b = await c.createExperiment("exp-b");
  await c.setExperimentTag(b, "mlflow.note.content", "second experiment");

  const r1 = (await c.createRun(a, { runName: "train-1", startTime: 1_700_000_000_000, userId: "alice", tags: [{ key: "team", value: "vision" }] })).info;
  const params = Array.from({ length: 120 }, (_, i) => ({ key: `p${String(i).padStart(3, "0")}`, value: `value-${i}` }));
  for (let i = 0; i < params.length; i += 100) await c.logBatch(r1.run_id, { params: params.slice(i, i + 100) });
  const tags = Array.from({ length: 110 }, (_, i) => ({ key: `t${i}`, value: `v${i}` }));
  for (let i = 0; i < tags.length; i += 100) await c.logBatch(r1.run_id, { tags: tags.slice(i, i + 100) });
  const loss: WireMetric[] = [];
  for (let i = 0; i < HISTORY; i++) {
    const special = i === 100 ? Number.NaN : i === 200 ? Number.POSITIVE_INFINITY : i === 300 ? Number.NEGATIVE_INFINITY : undefined;
    loss.push({ key: "loss", value: wireNumber(special ?? Math.sin(i) / (i + 1) + 0.1 + 0.2), step: i, timestamp: 1_700_000_000_000 + i });
  }
  // The same step logged twice, and a tiny and a huge value.
  loss.push({ key: "loss", value: 1e-300, step: 7, timestamp: 1_700_000_099_999 }, { key: "loss", value: 1.7976931348623157e308, step: 8, timestamp: 1 });
  for (let i = 0; i < loss.length; i += 1000) await c.logBatch(r1.run_id, { metrics: loss.slice(i, i + 1000) });
  await c.logBatch(r1.run_id, { metrics: [0.5, 0.7, 0.9].map((v, i) => ({ key: "acc", value: v, step: i, timestamp: 5 + i })) });
  await c.logInputs(r1.run_id, [
    { dataset: { name: "train", digest: "d1", source_type: "local", source: '{"uri":"/data/train.csv"}', schema: '{"mlflow_colspec":[]}' }, tags: [{ key: "mlflow.data.context", value: "training" }] },
    { dataset: { name: "eval", digest: "d2", source_type: "local", source: "{}" }, tags: [{ key: "mlflow.data.context", value: "evaluation" }] },
  ]);
  const root1 = proxiedArtifactPath(r1.artifact_uri)!;
  await c.uploadArtifact(`${root1}/model/MLmodel`, MLMODEL);
  await c.uploadArtifact(`${root1}/model/model.bin`, randomBytes(300_000));
  await c.uploadArtifact(`${root1}/plots/deep/er/chart.txt`, "a chart\n");
  await c.uploadArtifact(`${root1}/notes.txt`, "");
  await c.updateRun(r1.run_id, { status: "FINISHED", endTime: 1_700_000_360_000 });

  const r2 = (await c.createRun(a, { runName: "child", startTime: 1_700_000_100_000, userId: "bob", tags: [{ key: "mlflow.parentRunId", value: r1.run_id }] })).info;
  await c.logParam(r2.run_id, "depth", "3");
  await c.uploadArtifact(`${proxiedArtifactPath(r2.artifact_uri)}/model/MLmodel`, MLMODEL);
  await c.updateRun(r2.run_id, { status: "FAILED", endTime: 1_700_000_200_000 });

  const r3 = (await c.createRun(b, { runName: "other", startTime: 1_700_000_500_000, userId: "carol" })).info;
  await c.logMetric(r3.run_id, "m", Number.NaN, { step: 0, timestamp: 9 });
  await c.uploadArtifact(`${proxiedArtifactPath(r3.artifact_uri)}/out.txt`, "out\n");
  await c.updateRun(r3.run_id, { status: "KILLED", endTime: 1_700_000_600_000 });

  const r4 = (await c.createRun(b, { runName: "deleted" })).info;
  await c.deleteRun(r4.run_id);

  // Artifacts the source server does not proxy: reported, and the run imported without them.
  const elsewhere = await c.createExperiment("exp-s3", { artifactLocation: "s3://bucket/keel" });
  const r5 = (await c.createRun(elsewhere, { runName: "remote-artifacts", startTime: 1_700_000_700_000 })).info;
  await c.logParam(r5.run_id, "where", "s3");

  await c.createRegisteredModel("clf", { description: "the classifier", tags: [{ key: "owner", value: "ml-team" }] });
  await c.createModelVersion({ name: "clf", source: `runs:/${r1.run_id}/model`, runId: r1.run_id, description: "first", tags: [{ key: "q", value: "good" }] });
  await c.createModelVersion({ name: "clf", source: `mlflow-artifacts:/${proxiedArtifactPath(r2.artifact_uri)}/model`, runId: r2.run_id });
  await c.createModelVersion({ name: "clf", source: `runs:/${r3.run_id}/model`, runId: r3.run_id });
  await c.deleteModelVersion("clf", 3); // a gap: version numbers must survive it
  await c.createModelVersion({ name: "clf", source: `runs:/${r3.run_id}/out.txt`, runId: r3.run_id });
  await c.transitionModelVersionStage("clf", 1, "Production");
  await c.transitionModelVersionStage("clf", 4, "Staging");
  await c.setRegisteredModelAlias("clf", "champion", 2);
  await c.setRegisteredModelAlias("clf", "challenger", 4);
  await c.createRegisteredModel("empty-model");
  return { runs: [r1.run_id, r2.run_id, r3.run_id, r5.run_id], points: loss.length + 3 + 1 };
}

/** Everything of the source's experiments and models is in the target, exactly. */
async function verify(dst: Client): Promise<void> {
  const runMap = new Map<string, string>();
  const pairs: [WireRun, WireRun][] = [];
  for (const name of ["exp-a", "exp-b", "exp-s3"]) {
    const se = (await src.getExperimentByName(name))!;
    const de = (await dst.getExperimentByName(name))!;
    expect(de.lifecycle_stage).toBe("active");
    expect(sorted(de.tags)).toEqual(sorted(se.tags));
    const sruns = await collect(src.iterateRuns({ experimentIds: [se.experiment_id] }));
    const druns = await collect(dst.iterateRuns({ experimentIds: [de.experiment_id] }));
    expect(druns).toHaveLength(sruns.length);
    for (const d of druns) {
      expect(tag(d, PENDING_TAG)).toBeUndefined();
      const s = sruns.find((r) => r.info.run_id === tag(d, SOURCE_TAG));
      expect(s).toBeDefined();
      runMap.set(s!.info.run_id, d.info.run_id);
      pairs.push([s!, d]);
    }
  }
  for (const [s, d] of pairs) {
    const pick = (r: WireRun) => ({ ...r.info, run_id: "", run_uuid: "", experiment_id: "", artifact_uri: "" });
    expect(pick(d)).toEqual(pick(s));
    expect(sorted(d.data.params)).toEqual(sorted(s.data.params));
    const expectedTags = sorted(s.data.tags).map((t) => (t.key === "mlflow.parentRunId" ? { ...t, value: runMap.get(t.value) } : t));
    expect(sorted(d.data.tags)).toEqual(expectedTags);
    expect(d.inputs).toEqual(s.inputs);
    const keys = (r: WireRun) => (r.data.metrics ?? []).map((m) => m.key).sort();
    expect(keys(d)).toEqual(keys(s));
    for (const key of keys(s)) {
      const sh = (await src.metricHistory(s.info.run_id, key)).sort(byPoint);
      const dh = (await dst.metricHistory(d.info.run_id, key)).sort(byPoint);
      expect(dh).toEqual(sh);
    }
    expect(await artifactHashes(dst, d)).toEqual(await artifactHashes(src, s));
  }

  for (const name of ["clf", "empty-model"]) {
    const sm = await src.getRegisteredModel(name);
    const dm = await dst.getRegisteredModel(name);
    expect(dm.description).toEqual(sm.description);
    expect(sorted(dm.tags)).toEqual(sorted(sm.tags));
    expect(dm.aliases).toEqual(sm.aliases);
    const sv = await src.modelVersions(name);
    const dv = await dst.modelVersions(name);
    expect(dv.map((v) => [v.version, v.current_stage, v.description, sorted(v.tags)])).toEqual(sv.map((v) => [v.version, v.current_stage, v.description, sorted(v.tags)]));
    for (const [i, v] of sv.entries()) {
      const newRun = runMap.get(v.run_id)!;
      expect(dv[i].run_id).toBe(newRun);
      const newRoot = proxiedArtifactPath((await dst.getRun(newRun)).info.artifact_uri);
      const oldRoot = proxiedArtifactPath((await src.getRun(v.run_id)).info.artifact_uri)!;
      const expected = v.source.startsWith("runs:/") ? v.source.replace(v.run_id, newRun) : `mlflow-artifacts:/${newRoot}${proxiedArtifactPath(v.source)!.slice(oldRoot.length)}`;
      expect(dv[i].source).toBe(expected);
      // The rewritten source names the copied files: the signature is read from them.
      const { captured_timestamp: _a, ...ss } = await src.modelVersionSignature(name, v.version);
      const { captured_timestamp: _b, ...ds } = await dst.modelVersionSignature(name, v.version);
      expect(ds).toEqual(ss);
    }
  }
}

async function targetRuns(c: Client, view: "ALL" | "DELETED_ONLY" = "ALL"): Promise<WireRun[]> {
  const ids = (await collect(c.iterateExperiments({ viewType: "ALL" }))).map((e) => e.experiment_id);
  return collect(c.iterateRuns({ experimentIds: ids, viewType: view }));
}

function journal(path: string): Record<string, unknown>[] {
  return readFileSync(path, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

beforeAll(async () => {
  requireBuiltCli();
  dir = mkdtempSync(join(tmpdir(), "keel-import-"));
  source = await startTestApp({ auth: { enabled: true } });
  sourceToken = await userWithToken(source, "seed", { admin: true });
  src = new KeelClient({ url: source.url, token: sourceToken });
}, 120_000);
afterAll(async () => {
  for (const a of apps) await a.close();
  await source?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function target(): Promise<{ app: TestApp; token: string; client: Client }> {
  const app = await startTestApp({ auth: { enabled: true } });
  apps.push(app);
  // An ordinary user (not an admin): what it creates, it may manage.
  const token = await userWithToken(app, "importer");
  return { app, token, client: new KeelClient({ url: app.url, token }) };
}

const importCli = (to: TestApp, token: string, state: string, env: Record<string, string> = {}) =>
  runCli(["import", "mlflow", "--from", source.url, "--to", to.url, "--state-file", state, "--json"], {
    env: { KEEL_TOKEN: token, KEEL_IMPORT_FROM_TOKEN: sourceToken, ...env },
    timeoutMs: 180_000,
  });

describe(`keel import mlflow (${dbKind})`, () => {
  let seeded: Awaited<ReturnType<typeof seed>>;
  beforeAll(async () => {
    seeded = await seed(src);
  }, 120_000);

  it("copies everything exactly, with credentials on both ends, and a rerun duplicates nothing", async () => {
    const t = await target();
    const state = join(dir, "state-1.jsonl");
    const first = await importCli(t.app, t.token, state);
    expect(first.stderr).not.toContain("error:");
    expect(first.code).toBe(0);
    const s1 = JSON.parse(first.stdout);
    expect(s1).toMatchObject({
      experiments: { created: 3, skipped: 0 },
      runs: { imported: 4, already_imported: 0, redone: 0, failed: 0 },
      metric_points: seeded.points,
      artifacts: { files: 6 },
      models: { imported: 2, already_imported: 0, failed: 0 },
      model_versions: 3,
      warnings: [`run ${seeded.runs[3]}: its artifacts are at 's3://bucket/keel/${seeded.runs[3]}/artifacts', which the source does not serve through its artifact proxy; artifacts not copied.`],
      errors: [],
    });
    expect(first.stderr).toContain("runs: 100% (4/4)");
    expect(first.stderr).toContain(`warning: run ${seeded.runs[3]}: its artifacts are at 's3://`);
    await verify(t.client);
    expect(await targetRuns(t.client)).toHaveLength(4);
    // Spot checks of what verify() compared wholesale.
    const train = (await targetRuns(t.client)).find((r) => tag(r, SOURCE_TAG) === seeded.runs[0])!;
    const loss = await t.client.metricHistory(train.info.run_id, "loss");
    expect(loss).toHaveLength(HISTORY + 2);
    expect(loss.filter((m) => typeof m.value === "string").map((m) => [m.step, m.value])).toEqual([
      [100, "NaN"],
      [200, "Infinity"],
      [300, "-Infinity"],
    ]);
    expect(train.info).toMatchObject({ run_name: "train-1", user_id: "alice", status: "FINISHED", start_time: 1_700_000_000_000, end_time: 1_700_000_360_000 });
    expect((await t.client.modelVersionSignature("clf", 1)).source).toBe("mlmodel");
    expect((await t.client.getModelVersionByAlias("clf", "challenger")).current_stage).toBe("Staging");
    // The deleted source version 3 left a gap, kept by a placeholder deleted at once.
    expect((await t.client.modelVersions("clf")).map((v) => v.version)).toEqual(["1", "2", "4"]);

    const second = await importCli(t.app, t.token, state);
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({
      experiments: { created: 0, reused: 4 },
      runs: { imported: 0, already_imported: 4, redone: 0 },
      metric_points: 0,
      artifacts: { files: 0 },
      models: { imported: 0, already_imported: 2 },
      model_versions: 0,
    });
    expect(await targetRuns(t.client)).toHaveLength(4);
    await verify(t.client);

    // Without the state file, the tags the import left recognise what is already there.
    const fresh = await importCli(t.app, t.token, join(dir, "state-1b.jsonl"));
    expect(fresh.code).toBe(0);
    expect(JSON.parse(fresh.stdout)).toMatchObject({ runs: { imported: 0, already_imported: 4 }, models: { imported: 0, already_imported: 2 } });
    expect(await targetRuns(t.client)).toHaveLength(4);
  });

  it("finishes cleanly after being killed mid-run and mid-model", async () => {
    const t = await target();
    const state = join(dir, "state-2.jsonl");
    const killedInRun = await importCli(t.app, t.token, state, { KEEL_TEST_CRASH_AT: "run-params:2" });
    expect(killedInRun.signal).toBe("SIGKILL");
    expect(journal(state).filter((r) => "run" in r)).toHaveLength(1);
    const partial = (await targetRuns(t.client)).filter((r) => tag(r, PENDING_TAG));
    expect(partial).toHaveLength(1);

    const killedInModel = await importCli(t.app, t.token, state, { KEEL_TEST_CRASH_AT: "model-version:2" });
    expect(killedInModel.signal).toBe("SIGKILL");
    const records = journal(state);
    expect(records.filter((r) => "run" in r)).toHaveLength(4);
    expect(records.filter((r) => "model" in r)).toEqual([{ model: "clf", status: "started" }]);
    expect((await t.client.modelVersions("clf")).map((v) => v.version)).toEqual(["1", "2"]);

    const done = await importCli(t.app, t.token, state);
    expect(done.code).toBe(0);
    expect(JSON.parse(done.stdout)).toMatchObject({
      runs: { imported: 0, already_imported: 4, failed: 0 },
      models: { imported: 2, redone: 1, failed: 0 },
      model_versions: 3,
      errors: [],
    });
    await verify(t.client);
    // The interrupted copy was deleted (kept restorable, as MLflow deletes), not left beside the finished one.
    const deleted = await targetRuns(t.client, "DELETED_ONLY");
    expect(deleted.map((r) => r.info.run_id)).toEqual([partial[0].info.run_id]);
    expect((await targetRuns(t.client)).filter((r) => r.info.lifecycle_stage === "active")).toHaveLength(4);
  });

  it("imports only the experiments asked for (and only whole models), and refuses a model it did not create", async () => {
    const t = await target();
    await t.client.createRegisteredModel("empty-model");
    const only = await runCli(
      ["import", "mlflow", "--from", source.url, "--to", t.app.url, "--experiments", "exp-b", "--state-file", join(dir, "state-3.jsonl"), "--json"],
      { env: { KEEL_TOKEN: t.token, KEEL_IMPORT_FROM_TOKEN: sourceToken } },
    );
    expect(only.code).toBe(0);
    const s = JSON.parse(only.stdout);
    expect(s).toMatchObject({ experiments: { created: 1 }, runs: { imported: 1 }, models: { imported: 0, skipped: 2 }, errors: [] });
    expect(s.warnings).toContain("registered model 'clf': version(s) 1, 2 come from runs not imported (--experiments); model skipped.");
    expect(await t.client.getExperimentByName("exp-a")).toBeUndefined();
    expect(await t.client.findRegisteredModel("clf")).toBeUndefined();

    const all = await importCli(t.app, t.token, join(dir, "state-3.jsonl"));
    expect(all.code).toBe(1);
    expect(all.stderr).toContain("error: registered model 'empty-model' already exists in the target and was not created by this import");
    expect(all.stderr).toContain("keel import mlflow: finished with 1 error(s); run the same command again to retry what failed.");
    expect(JSON.parse(all.stdout)).toMatchObject({ runs: { imported: 3, already_imported: 1 }, models: { imported: 1, failed: 1 } });
    expect((await t.client.modelVersions("clf")).map((v) => v.version)).toEqual(["1", "2", "4"]);
  });

  it("says per run when the source does not serve artifacts, and imports the rest", async () => {
    // The source behind a proxy that answers the artifact routes as `mlflow server --no-serve-artifacts` does.
    const proxy = createServer((req, res) => {
      if (req.url?.startsWith("/api/2.0/mlflow-artifacts/")) {
        res.writeHead(503, { "content-type": "application/json" });
        res.end(JSON.stringify({ error_code: "INTERNAL_ERROR", message: "Endpoint disabled due to the mlflow server running with `--no-serve-artifacts`." }));
        return;
      }
      const up = new URL(source.url);
      const fwd = request({ host: up.hostname, port: up.port, path: req.url, method: req.method, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      req.pipe(fwd);
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    try {
      const from = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
      const t = await target();
      const r = await runCli(["import", "mlflow", "--from", from, "--to", t.app.url, "--experiments", "exp-b", "--state-file", join(dir, "state-6.jsonl"), "--json"], {
        env: { KEEL_TOKEN: t.token, KEEL_IMPORT_FROM_TOKEN: sourceToken },
      });
      expect(r.code).toBe(0);
      const s = JSON.parse(r.stdout);
      expect(s).toMatchObject({ runs: { imported: 1 }, artifacts: { files: 0 }, errors: [] });
      expect(s.warnings[0]).toBe(
        `run ${seeded.runs[2]}: the source does not serve artifacts through /api/2.0/mlflow-artifacts (start it with --serve-artifacts to copy them): ` +
          "Endpoint disabled due to the mlflow server running with `--no-serve-artifacts`. (HTTP 503 INTERNAL_ERROR); artifacts not copied.",
      );
      const [run] = await targetRuns(t.client);
      expect(run.info).toMatchObject({ run_name: "other", status: "KILLED" });
      expect(await artifactHashes(t.client, run)).toEqual({});
    } finally {
      proxy.close();
    }
  });

  it("says what is wrong with its arguments and its servers", async () => {
    const same = await runCli(["import", "mlflow", "--from", source.url, "--to", `${source.url}/`]);
    expect(same.code).toBe(2);
    expect(same.stderr).toBe(`keel import mlflow: --from and --to both name ${source.url}: import into another server.\n`);
    const t = await target();
    const noCreds = await runCli(["import", "mlflow", "--from", source.url, "--to", t.app.url, "--state-file", join(dir, "state-5.jsonl")], { env: { KEEL_TOKEN: t.token } });
    expect(noCreds.code).toBe(1);
    expect(noCreds.stderr).toMatch(/^keel import mlflow: .*\(HTTP 401 UNAUTHENTICATED\)/m);
  });
});

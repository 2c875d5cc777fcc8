/**
 * `keel experiments|runs|models|artifacts` as users run them: the compiled CLI against a real app, table and
 * --json output, HTTP errors as one clear line and a non-zero exit, resumed downloads and uploads.
 */
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KeelClient } from "../../src/sdk/index.js";
import { dbKind, startTestApp, type TestApp } from "../helpers/app.js";
import { freePort, requireBuiltCli, runCli } from "../helpers/cli.js";
import { userWithToken } from "../helpers/governance.js";

let t: TestApp;
let k: KeelClient;
let dir: string;

beforeAll(async () => {
  requireBuiltCli();
  t = await startTestApp();
  k = new KeelClient({ url: t.url });
  dir = mkdtempSync(join(tmpdir(), "keel-cli-"));
});
afterAll(async () => {
  await t?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const keel = (args: string[], env: Record<string, string> = {}) => runCli([...args, "--server-url", t.url], { env });
const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
/** Table output: rows of cells split on runs of 2+ spaces. */
const rows = (stdout: string) =>
  stdout
    .trimEnd()
    .split("\n")
    .map((l) => l.split(/ {2,}/));

function expectCleanFailure(r: { code: number | null; stderr: string }, code = 1) {
  expect(r.code).toBe(code);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.stderr.trim().split("\n")).toHaveLength(1);
}

describe(`keel experiments|runs|models (${dbKind})`, () => {
  it("creates, lists, renames, deletes and restores experiments", async () => {
    const created = await keel(["experiments", "create", "cli-exp", "--tag", "team=vision"]);
    expect(created.code).toBe(0);
    const id = /with id (\d+)\./.exec(created.stdout)?.[1];
    expect(id).toBeDefined();
    const json = await keel(["experiments", "create", "cli-exp-2", "--json"]);
    expect(JSON.parse(json.stdout)).toMatchObject({ name: "cli-exp-2", experiment_id: expect.any(String) });

    const table = await keel(["experiments", "list"]);
    expect(table.code).toBe(0);
    const t1 = rows(table.stdout);
    expect(t1[0]).toEqual(["ID", "NAME", "STAGE", "CREATED", "ARTIFACT LOCATION"]);
    expect(t1.find((r) => r[1] === "cli-exp")).toEqual([id, "cli-exp", "active", expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/), `mlflow-artifacts:/${id}`]);
    const listed = JSON.parse((await keel(["experiments", "list", "--json"])).stdout);
    expect(listed.find((e: { name: string }) => e.name === "cli-exp").tags).toEqual([{ key: "team", value: "vision" }]);

    expect((await keel(["experiments", "rename", "cli-exp", "cli-exp-renamed"])).stdout).toBe(`Renamed experiment ${id} from 'cli-exp' to 'cli-exp-renamed'.\n`);
    expect((await keel(["experiments", "delete", id!])).stdout).toBe(`Deleted experiment ${id} ('cli-exp-renamed').\n`);
    const deleted = JSON.parse((await keel(["experiments", "list", "--view", "deleted", "--json"])).stdout);
    expect(deleted.map((e: { name: string }) => e.name)).toEqual(["cli-exp-renamed"]);
    expect((await keel(["experiments", "restore", "cli-exp-renamed", "--json"])).stdout).toContain('"lifecycle_stage": "active"');
    expect((await k.getExperiment(id!)).lifecycle_stage).toBe("active");
  });

  it("lists, shows, deletes and restores runs", async () => {
    const exp = await k.createExperiment("cli-runs");
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await k.createRun(exp, { runName: `run-${i}`, startTime: 1_700_000_000_000 + i * 1000, userId: "alice" });
      ids.push(r.info.run_id);
      await k.logBatch(r.info.run_id, { params: [{ key: "lr", value: `0.${i}` }], metrics: [{ key: "loss", value: 1 / (i + 1), step: 5, timestamp: 1 }] });
    }
    await k.updateRun(ids[0], { status: "FINISHED", endTime: 1_700_000_065_000 });

    const table = await keel(["runs", "list", "--experiment", "cli-runs", "--order-by", "attributes.start_time ASC"]);
    expect(table.code).toBe(0);
    expect(rows(table.stdout)).toEqual([
      ["RUN ID", "NAME", "STATUS", "STARTED", "DURATION", "USER"],
      [ids[0], "run-0", "FINISHED", "2023-11-14T22:13:20Z", "1m05s", "alice"],
      [ids[1], "run-1", "RUNNING", "2023-11-14T22:13:21Z", "alice"],
      [ids[2], "run-2", "RUNNING", "2023-11-14T22:13:22Z", "alice"],
    ]);
    const json = JSON.parse((await keel(["runs", "list", "--experiment", exp, "--filter", "params.lr = '0.1'", "--json"])).stdout);
    expect(json.map((r: { info: { run_id: string } }) => r.info.run_id)).toEqual([ids[1]]);
    const capped = await keel(["runs", "list", "--experiment", exp, "--max-results", "2", "--json"]);
    expect(JSON.parse(capped.stdout)).toHaveLength(2);
    expect(capped.stderr).toContain("more runs match");

    const shown = await keel(["runs", "get", ids[1]]);
    expect(shown.stdout).toContain(`run id:     ${ids[1]}`);
    expect(shown.stdout).toMatch(/Params\nKEY\s+VALUE\nlr\s+0\.1\n/);
    expect(shown.stdout).toMatch(/Metrics \(latest\)\nKEY\s+VALUE\s+STEP\s+TIME\nloss\s+0\.5\s+5\s+1970-01-01T00:00:00Z\n/);
    expect(JSON.parse((await keel(["runs", "get", ids[1], "--json"])).stdout).data.params).toEqual([{ key: "lr", value: "0.1" }]);

    expect((await keel(["runs", "delete", ids[1], ids[2]])).stdout).toBe(`Deleted run ${ids[1]}.\nDeleted run ${ids[2]}.\n`);
    expect(JSON.parse((await keel(["runs", "list", "--experiment", exp, "--view", "deleted", "--json"])).stdout)).toHaveLength(2);
    await keel(["runs", "restore", ids[1]]);
    expect((await k.getRun(ids[1])).info.lifecycle_stage).toBe("active");
  });

  it("lists models and versions, moves aliases and stages", async () => {
    const exp = await k.createExperiment("cli-models");
    const run = (await k.createRun(exp)).info.run_id;
    await k.createRegisteredModel("cli-model", { description: "fraud scorer" });
    await k.createModelVersion({ name: "cli-model", source: `runs:/${run}/model`, runId: run });
    await k.createModelVersion({ name: "cli-model", source: `runs:/${run}/model`, runId: run });

    expect((await keel(["models", "set-alias", "cli-model", "champion", "2"])).stdout).toBe("Alias 'champion' of 'cli-model' now points at version 2.\n");
    expect((await keel(["models", "transition", "cli-model", "1", "production"])).stdout).toBe("Version 1 of 'cli-model' is now in stage Production.\n");
    const list = rows((await keel(["models", "list"])).stdout);
    expect(list[0]).toEqual(["NAME", "LATEST", "ALIASES", "UPDATED", "DESCRIPTION"]);
    expect(list.find((r) => r[0] === "cli-model")).toEqual(["cli-model", "2", "champion=v2", expect.any(String), "fraud scorer"]);
    const versions = rows((await keel(["models", "versions", "cli-model"])).stdout);
    expect(versions.slice(1).map((r) => r.slice(0, 4))).toEqual([
      ["1", "Production", run, `runs:/${run}/model`],
      ["2", "None", "champion", run],
    ]);
    const json = JSON.parse((await keel(["models", "versions", "cli-model", "--json"])).stdout);
    expect(json.map((v: { version: string; aliases: string[] }) => [v.version, v.aliases])).toEqual([
      ["1", []],
      ["2", ["champion"]],
    ]);
    const got = JSON.parse((await keel(["models", "get", "cli-model", "--json"])).stdout);
    expect(got).toMatchObject({ name: "cli-model", aliases: [{ alias: "champion", version: "2" }] });
    expect(got.versions).toHaveLength(2);
    await keel(["models", "delete-alias", "cli-model", "champion"]);
    expect((await k.getRegisteredModel("cli-model")).aliases).toBeUndefined();
  });

  it("fails with the server's message and exit 1, never a stack trace", async () => {
    const missing = await keel(["runs", "get", "0".repeat(32)]);
    expectCleanFailure(missing);
    expect(missing.stderr).toBe(`keel runs get: Run with id=${"0".repeat(32)} not found (HTTP 404 RESOURCE_DOES_NOT_EXIST)\n`);
    const bad = await keel(["models", "transition", "no-such-model", "1", "Production"]);
    expectCleanFailure(bad);
    expect(bad.stderr).toMatch(/^keel models transition: .*no-such-model.* \(HTTP 404 RESOURCE_DOES_NOT_EXIST\)\n$/);

    const port = await freePort();
    const down = await runCli(["experiments", "list", "--server-url", `http://127.0.0.1:${port}`]);
    expectCleanFailure(down);
    expect(down.stderr).toMatch(new RegExp(`^keel experiments list: cannot reach http://127\\.0\\.0\\.1:${port}/api/2\\.0/mlflow/experiments/search: .*ECONNREFUSED`));
    const notUrl = await runCli(["experiments", "list", "--server-url", "localhost:5000"]);
    expectCleanFailure(notUrl, 2);
    expect(notUrl.stderr).toContain("--server-url: 'localhost:5000' is not an http(s) URL.");
    // KEEL_SERVER_URL is the fallback.
    expect((await runCli(["experiments", "list", "--json"], { env: { KEEL_SERVER_URL: t.url } })).code).toBe(0);
  });

  it("sends KEEL_TOKEN, MLFLOW_TRACKING_TOKEN or MLFLOW_TRACKING_USERNAME/PASSWORD, and explains a 401", async () => {
    const a = await startTestApp({ auth: { enabled: true } });
    try {
      const token = await userWithToken(a, "cli-user", { password: "cli-user-password" });
      const run = (args: string[], env: Record<string, string> = {}) => runCli([...args, "--server-url", a.url], { env });
      const none = await run(["experiments", "list"]);
      expectCleanFailure(none);
      expect(none.stderr).toContain("(HTTP 401 UNAUTHENTICATED) Set KEEL_TOKEN (or MLFLOW_TRACKING_TOKEN), or MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD.");
      expect((await run(["experiments", "create", "mine"], { KEEL_TOKEN: token })).code).toBe(0);
      expect((await run(["experiments", "list", "--json"], { MLFLOW_TRACKING_TOKEN: token })).stdout).toContain('"name": "mine"');
      const basic = await run(["experiments", "list", "--json"], { MLFLOW_TRACKING_USERNAME: "cli-user", MLFLOW_TRACKING_PASSWORD: "cli-user-password" });
      expect(basic.stdout).toContain('"name": "mine"');
    } finally {
      await a.close();
    }
  });
});

describe(`keel artifacts (${dbKind})`, () => {
  let runId: string;
  const local = () => join(dir, "upload");
  const big = randomBytes(700_000);

  beforeAll(async () => {
    const exp = await k.createExperiment("cli-artifacts");
    runId = (await k.createRun(exp)).info.run_id;
    mkdirSync(join(local(), "sub", "deeper"), { recursive: true });
    writeFileSync(join(local(), "big.bin"), big);
    writeFileSync(join(local(), "sub", "a.txt"), "alpha\n");
    writeFileSync(join(local(), "sub", "deeper", "b.txt"), "beta\n");
  });

  it("uploads a directory and a file, lists them as a table or JSON, and downloads them", async () => {
    const up = await keel(["artifacts", "upload", runId, local(), "data"]);
    expect(up.code).toBe(0);
    expect(up.stdout).toBe(`Uploaded 3 file(s), 684 KiB, to run ${runId} under data/.\n`);
    // Not a terminal: plain percentage lines on stderr.
    expect(up.stderr).toContain("upload: 100% (684 KiB/684 KiB)");
    const one = await keel(["artifacts", "upload", runId, join(local(), "sub", "a.txt"), "--json"]);
    expect(JSON.parse(one.stdout)).toEqual({ run_id: runId, files: [{ path: "a.txt", size: 6, multipart: false, resumed_parts: 0 }] });

    expect(rows((await keel(["artifacts", "list", runId])).stdout)).toEqual([["PATH", "SIZE"], ["a.txt", "6 B"], ["data/"]]);
    expect(rows((await keel(["artifacts", "list", runId, "data", "--recursive"])).stdout)).toEqual([
      ["PATH", "SIZE"],
      ["data/big.bin", "684 KiB"],
      ["data/sub/a.txt", "6 B"],
      ["data/sub/deeper/b.txt", "5 B"],
    ]);
    expect(JSON.parse((await keel(["artifacts", "list", runId, "data/sub", "--json"])).stdout)).toEqual([
      { path: "data/sub/a.txt", is_dir: false, file_size: 6 },
      { path: "data/sub/deeper", is_dir: true },
    ]);

    const dest = join(dir, "down-all");
    const all = await keel(["artifacts", "download", runId, "--dest", dest]);
    expect(all.code).toBe(0);
    expect(sha(readFileSync(join(dest, "data", "big.bin")))).toBe(sha(big));
    expect(readFileSync(join(dest, "data", "sub", "deeper", "b.txt"), "utf8")).toBe("beta\n");
    expect(readFileSync(join(dest, "a.txt"), "utf8")).toBe("alpha\n");
    const single = await keel(["artifacts", "download", runId, "data/sub/a.txt", "--dest", join(dir, "down-one"), "--json"]);
    expect(JSON.parse(single.stdout).files).toEqual([{ path: "data/sub/a.txt", local_path: expect.stringContaining("a.txt"), size: 6, resumed_from: 0 }]);
    const missing = await keel(["artifacts", "download", runId, "data/nope.txt", "--dest", join(dir, "down-none")]);
    expectCleanFailure(missing);
    expect(missing.stderr).toBe(`keel artifacts download: Run ${runId} has no artifact 'data/nope.txt'. (HTTP 404 RESOURCE_DOES_NOT_EXIST)\n`);
  });

  it("resumes a download from its partial file with a Range request", async () => {
    const dest = join(dir, "down-resume");
    mkdirSync(join(dest, "data"), { recursive: true });
    const target = join(dest, "data", "big.bin");
    writeFileSync(`${target}.part`, big.subarray(0, 250_000));
    const r = await keel(["artifacts", "download", runId, "data/big.bin", "--dest", dest, "--json"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("resumed data/big.bin at byte 250000");
    expect(JSON.parse(r.stdout).files[0]).toMatchObject({ size: big.length, resumed_from: 250_000 });
    expect(sha(readFileSync(target))).toBe(sha(big));
    expect(existsSync(`${target}.part`)).toBe(false);

    // A .part longer than the artifact belongs to something else: start over.
    writeFileSync(`${target}.part`, randomBytes(big.length + 10));
    const again = await keel(["artifacts", "download", runId, "data/big.bin", "--dest", dest, "--json"]);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).files[0].resumed_from).toBe(0);
    expect(sha(readFileSync(target))).toBe(sha(big));
  });

  it("resumes a multipart upload after the CLI was killed mid-way", async () => {
    const file = join(dir, "huge.bin");
    const data = randomBytes(1_200_000);
    writeFileSync(file, data);
    const env = { XDG_STATE_HOME: join(dir, "state") };
    const args = ["artifacts", "upload", runId, file, "models", "--multipart-threshold", "256KiB", "--part-size", "128KiB", "--json"];
    const killed = await keel(args, { ...env, KEEL_TEST_CRASH_AT: "upload-part:4" });
    expect(killed.signal).toBe("SIGKILL");
    const missing = await keel(["artifacts", "download", runId, "models/huge.bin", "--dest", join(dir, "x")]);
    expect(missing.code).toBe(1);

    const resumed = await keel(args, env);
    expect(resumed.code).toBe(0);
    const out = JSON.parse(resumed.stdout).files[0];
    expect(out).toMatchObject({ path: "models/huge.bin", size: data.length, multipart: true });
    expect(out.resumed_parts).toBeGreaterThanOrEqual(4);
    expect(resumed.stderr).toContain(`resumed the upload of models/huge.bin: ${out.resumed_parts} part(s) were already there`);
    const dest = join(dir, "down-huge");
    expect((await keel(["artifacts", "download", runId, "models/huge.bin", "--dest", dest])).code).toBe(0);
    expect(sha(readFileSync(join(dest, "models", "huge.bin")))).toBe(sha(data));

    // Done: the note is gone, so the same upload again starts afresh.
    const fresh = await keel(args, env);
    expect(JSON.parse(fresh.stdout).files[0].resumed_parts).toBe(0);
  });
});

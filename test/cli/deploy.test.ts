/** `keel deploy` and `keel deployments` (the built CLI) against a running server with a registered ONNX model. */
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { client, startTestApp, type TestApp } from "../helpers/app.js";
import { requireBuiltCli, runCli } from "../helpers/cli.js";
import { fixturePath } from "../helpers/serving.js";

let t: TestApp;
let dir: string;
const keel = (args: string[]) => runCli([...args, "--server-url", t.url]);

beforeAll(async () => {
  requireBuiltCli();
  dir = mkdtempSync(join(tmpdir(), "keel-deploy-"));
  t = await startTestApp();
  const c = client(t.url);
  const exp = (await c.post("experiments/create", { name: "deploy-cli" })).body.experiment_id;
  const run = (await c.post("runs/create", { experiment_id: exp })).body.run.info.run_id;
  await fetch(`${t.url}/api/2.0/mlflow-artifacts/artifacts/${exp}/${run}/artifacts/model/model.onnx`, { method: "PUT", body: readFileSync(fixturePath("mlp_small")) });
  await c.post("registered-models/create", { name: "fraud" });
  await c.post("model-versions/create", { name: "fraud", source: `runs:/${run}/model`, run_id: run });
  await c.post("model-versions/create", { name: "fraud", source: `runs:/${run}/model`, run_id: run });
  await c.post("registered-models/alias", { name: "fraud", alias: "champion", version: "1" });
});
afterAll(async () => {
  await t?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("keel deploy", () => {
  it("creates a deployment from flags, replaces it from a spec file, lists, shows and deletes it", async () => {
    const created = await keel(["deploy", "fraud", "--model", "fraud", "--alias", "champion", "--max-batch-size", "16", "--max-queue-delay-ms", "2"]);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toMatch(/champion\s+fraud\s+@champion\s+1\s+1\s+ready/);
    expect(created.stdout).toContain("/v2/models/fraud/infer");
    const spec = join(dir, "spec.json");
    writeFileSync(spec, JSON.stringify({ variants: [{ name: "champion", model: "fraud", alias: "champion", weight: 90 }, { name: "canary", model: "fraud", version: 2, weight: 10 }] }));
    const replaced = await keel(["deploy", "fraud", "--spec", spec, "--json"]);
    expect(replaced.code, replaced.stderr).toBe(0);
    expect(JSON.parse(replaced.stdout).variants.map((v: { name: string; weight: number; version: string }) => [v.name, v.weight, v.version])).toEqual([
      ["champion", 90, "1"],
      ["canary", 10, "2"],
    ]);
    const listed = await keel(["deployments", "list"]);
    expect(listed.stdout).toMatch(/fraud\s+champion=fraud\/v1, canary=fraud\/v2/);
    expect((await keel(["deployments", "get", "fraud"])).stdout).toMatch(/canary\s+fraud\s+2\s+10\s+ready/);
    expect((await keel(["deployments", "delete", "fraud"])).code).toBe(0);
    expect((await keel(["deployments", "list"])).stdout).toContain("(no deployments)");
  });

  it("fails clearly: usage mistakes exit 2, server refusals exit 1 with the server's message", async () => {
    const both = await keel(["deploy", "x", "--model", "fraud", "--alias", "champion", "--model-version", "1"]);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/exactly one of --alias or --model-version/);
    const none = await keel(["deploy", "x"]);
    expect(none.code).toBe(2);
    const unknown = await keel(["deploy", "x", "--model", "no-such-model", "--model-version", "1"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/keel deploy: .*no-such-model.*\(HTTP 404 RESOURCE_DOES_NOT_EXIST\)/);
    const badFile = await keel(["deploy", "x", "--spec", join(dir, "missing.json")]);
    expect(badFile.code).toBe(2);
  });
});

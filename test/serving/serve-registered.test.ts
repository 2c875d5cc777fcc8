/**
 * `keel serve models:/name@alias` (the built CLI) against a running Keel server with auth on: fetches the
 * alias's version through the registry and the artifact proxy with a token, serves it, and swaps in the
 * new version when the alias moves. `models:/name/<version>` stays pinned.
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, client, startTestApp, type TestApp } from "../helpers/app.js";
import { CliProcess, freePort, requireBuiltCli } from "../helpers/cli.js";
import { userWithToken } from "../helpers/governance.js";
import { fixtureCases, fixturePath, post } from "../helpers/serving.js";

let t: TestApp;
let token: string;
const procs: CliProcess[] = [];
const SMALL = fixtureCases("mlp_small")[0];

async function register(c: ReturnType<typeof client>, file: string): Promise<void> {
  const exp = (await c.post("experiments/create", { name: `e-${Math.random()}` })).body.experiment_id;
  const run = (await c.post("runs/create", { experiment_id: exp })).body.run.info.run_id;
  await fetch(`${t.url}/api/2.0/mlflow-artifacts/artifacts/${exp}/${run}/artifacts/model/model.onnx`, { method: "PUT", headers: bearer(token), body: readFileSync(file) });
  expect((await c.post("model-versions/create", { name: "fraud", source: `runs:/${run}/model`, run_id: run })).status).toBe(200);
}

async function serve(model: string): Promise<string> {
  const port = await freePort();
  const proc = new CliProcess(["serve", model, "--port", String(port), "--intra-op-threads", "1"], { KEEL_SERVER_URL: t.url, KEEL_TOKEN: token });
  procs.push(proc);
  const line = await proc.waitForLine((l) => l.msg === "keel serve listening", "the listening line");
  return line.address;
}

const answer = async (url: string) => (await post(`${url}/v2/models/fraud/infer`, { inputs: SMALL.inputs })).json.outputs[0].data as number[];
const isSmall = (out: number[]) => out.every((v, i) => Math.abs(v - (SMALL.outputs[0].data[i] as number)) < 1e-4);

beforeAll(async () => {
  requireBuiltCli();
  t = await startTestApp({ auth: { enabled: true } });
  token = await userWithToken(t, "ml");
  const c = client(t.url, bearer(token));
  await c.post("registered-models/create", { name: "fraud" });
  await register(c, fixturePath("mlp_small"));
  await register(c, fixturePath("mlp_medium"));
  await c.post("registered-models/alias", { name: "fraud", alias: "champion", version: "1" });
});
afterAll(async () => {
  for (const p of procs) await p.stop();
  await t?.close();
});

describe("keel serve models:/…", () => {
  it("serves the alias's version and follows the alias when it moves", async () => {
    const url = await serve("models:/fraud@champion");
    expect(isSmall(await answer(url))).toBe(true);
    expect((await (await fetch(`${url}/v2/models/fraud`)).json()) as { versions: string[] }).toMatchObject({ versions: ["1"] });
    await client(t.url, bearer(token)).post("registered-models/alias", { name: "fraud", alias: "champion", version: "2" });
    const deadline = Date.now() + 10_000;
    while (isSmall(await answer(url))) {
      if (Date.now() > deadline) throw new Error("the served model did not follow the alias");
      await new Promise((r) => setTimeout(r, 50));
    }
    expect((await (await fetch(`${url}/v2/models/fraud`)).json()) as { versions: string[] }).toMatchObject({ versions: ["2"] });
  });

  it("keeps a pinned version, and fails clearly on a bad URI or an unknown alias", async () => {
    const url = await serve("models:/fraud/1");
    expect(isSmall(await answer(url))).toBe(true);
    const bad = new CliProcess(["serve", "models:/fraud@", "--port", "0"], { KEEL_SERVER_URL: t.url, KEEL_TOKEN: token });
    expect((await bad.exited).code).toBe(2);
    expect(bad.stderr).toMatch(/not a registered model URI/);
    const unknown = new CliProcess(["serve", "models:/fraud@nope", "--port", "0"], { KEEL_SERVER_URL: t.url, KEEL_TOKEN: token });
    expect((await unknown.exited).code).toBe(2);
    expect(unknown.stderr).toMatch(/nope/);
  });
});

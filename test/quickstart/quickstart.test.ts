/**
 * `keel quickstart`: the TypeScript trainer (deterministic, ≥ 0.9 held-out accuracy), its .onnx run by
 * onnxruntime-node (same probabilities as the TS model), and the whole command through the built CLI on an
 * empty data dir, twice (the second run reuses everything: no new run, version or deployment).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openArtifactStore } from "../../src/artifacts/open.js";
import { openDatabase } from "../../src/db/database.js";
import { QUICKSTART } from "../../src/quickstart/demo.js";
import { IRIS_CLASSES, parseIris, readIrisCsv } from "../../src/quickstart/iris.js";
import { argmax, predictProba, softmaxRegressionOnnx, trainSoftmaxRegression } from "../../src/quickstart/train.js";
import { KeelClient } from "../../src/sdk/client.js";
import { buildApp } from "../../src/server/app.js";
import { CliProcess, freePort, requireBuiltCli, runCli } from "../helpers/cli.js";

const data = parseIris(readIrisCsv().text);

describe("quickstart trainer", () => {
  it("reads all of Iris: 150 rows, 50 per species", () => {
    expect(data.x).toHaveLength(150);
    expect(IRIS_CLASSES.map((_, k) => data.y.filter((y) => y === k).length)).toEqual([50, 50, 50]);
  });

  it("reaches ≥ 0.9 accuracy on the held-out split, the same model every time, with a falling loss", () => {
    const a = trainSoftmaxRegression(data);
    const b = trainSoftmaxRegression(data);
    expect(a.test.size).toBe(30);
    expect(a.test.accuracy).toBeGreaterThanOrEqual(0.9);
    expect(a.test.logLoss).toBeLessThan(0.3);
    expect(a.model).toEqual(b.model);
    expect(a.testIndices).toEqual(b.testIndices);
    expect(a.lossHistory).toHaveLength(a.options.epochs + 1);
    expect(a.lossHistory.at(-1)).toBeLessThan(a.lossHistory[0] / 4);
    // Another seed: another split and start, still a good model.
    const c = trainSoftmaxRegression(data, { seed: 7 });
    expect(c.testIndices).not.toEqual(a.testIndices);
    expect(c.test.accuracy).toBeGreaterThanOrEqual(0.9);
  });

  it("exports an .onnx that onnxruntime-node runs to the TS model's probabilities (1e-5) and labels", async () => {
    const { model } = trainSoftmaxRegression(data);
    const session = await ort.InferenceSession.create(softmaxRegressionOnnx(model));
    try {
      expect(session.inputNames).toEqual(["features"]);
      expect(session.outputNames).toEqual(["probabilities", "label"]);
      const out = await session.run({ features: new ort.Tensor("float32", Float32Array.from(data.x.flat()), [150, 4]) });
      expect(out.probabilities.dims).toEqual([150, 3]);
      expect(out.label.dims).toEqual([150]);
      expect(out.label.type).toBe("int64");
      const got = out.probabilities.data as Float32Array;
      const labels = out.label.data as BigInt64Array;
      const want = predictProba(model, data.x);
      want.forEach((p, i) => {
        p.forEach((v, k) => {
          if (Math.abs(got[i * 3 + k] - v) > 1e-5) expect.fail(`row ${i} class ${k}: onnxruntime ${got[i * 3 + k]}, TS ${v}`);
        });
        expect(Number(labels[i]), `row ${i}`).toBe(argmax(p));
      });
    } finally {
      await session.release();
    }
  });
});

describe("keel quickstart (built CLI)", () => {
  let dir: string;
  beforeAll(() => {
    requireBuiltCli();
    dir = mkdtempSync(join(tmpdir(), "keel-quickstart-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Opens the data dir as `keel server` would and hands a client to `check`. */
  async function withServer(check: (c: KeelClient) => Promise<void>): Promise<void> {
    const database = await openDatabase({ dataDir: dir, durability: "normal" });
    const { app } = await buildApp({ database, artifacts: await openArtifactStore({ dataDir: dir }), logger: { level: "error" } });
    try {
      const url = await app.listen({ host: "127.0.0.1", port: 0 });
      await check(new KeelClient({ url }));
    } finally {
      await app.close();
      await database.close();
    }
  }

  it("on an empty data dir: trains, logs, registers, deploys, predicts, prints the URLs and a curl line, exits 0 with --no-serve", async () => {
    const r = await runCli(["quickstart", "--no-serve", "--port", "0", "--data", dir], { timeoutMs: 60_000 });
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toMatch(/Logged run [0-9a-f]{32} in experiment 'quickstart-iris'/);
    expect(r.stdout).toContain("Registered model 'iris-classifier' version 1");
    expect(r.stdout).toMatch(/Logged 2 runs with smaller learning rates to compare with \(lr=0\.05: test accuracy [\d.]+; lr=0\.1: test accuracy [\d.]+\)/);
    expect(r.stdout).toContain("Deployment 'iris' created");
    expect(r.stdout).toMatch(/OIP\s+POST \/v2\/models\/iris\/infer\s+→ versicolor\s+probabilities \[[\d., ]+\]/);
    expect(r.stdout).toMatch(/MLflow\s+POST \/api\/keel\/v1\/deployments\/iris\/invocations → versicolor/);
    expect(r.stdout).toMatch(/curl -s http:\/\/127\.0\.0\.1:\d+\/v2\/models\/iris\/infer /);
    expect(r.stdout).toMatch(/API docs:\s+http:\/\/127\.0\.0\.1:\d+\/docs/);
    // The UI pages of what it made, each its own line.
    expect(r.stdout).toMatch(/Web UI:\s+http:\/\/127\.0\.0\.1:\d+\/experiments\/\d+\/runs\/[0-9a-f]{32} /);
    expect(r.stdout).toMatch(/^\s+http:\/\/127\.0\.0\.1:\d+\/models\/iris-classifier /m);
    expect(r.stdout).toMatch(/^\s+http:\/\/127\.0\.0\.1:\d+\/deployments\/iris /m);

    await withServer(async (c) => {
      const exp = await c.getExperimentByName(QUICKSTART.experiment);
      expect(exp).toBeDefined();
      const runs = (await c.searchRuns({ experimentIds: [exp?.experiment_id ?? ""] })).runs ?? [];
      // The served run and two with smaller learning rates, to compare with.
      expect(runs.map((r) => r.info.run_name).sort()).toEqual([QUICKSTART.runName, `${QUICKSTART.runName}-lr-0.05`, `${QUICKSTART.runName}-lr-0.1`]);
      for (const other of runs.filter((r) => r.info.run_name !== QUICKSTART.runName)) {
        expect(other.info.status).toBe("FINISHED");
        expect(other.data.params?.find((p) => p.key === "learning_rate")?.value).toBe(other.info.run_name.split("-lr-")[1]);
        expect(other.data.metrics?.some((m) => m.key === "train_loss")).toBe(true);
      }
      const run = runs.find((r) => r.info.run_name === QUICKSTART.runName)!;
      expect(run.info.status).toBe("FINISHED");
      const params = Object.fromEntries((run.data.params ?? []).map((p) => [p.key, p.value]));
      expect(params).toMatchObject({ learning_rate: "0.5", epochs: "200", seed: "42" });
      const acc = Number(run.data.metrics?.find((m) => m.key === "test_accuracy")?.value);
      expect(acc).toBeGreaterThanOrEqual(0.9);
      const history = await c.metricHistory(run.info.run_id, "train_loss");
      expect(history).toHaveLength(201);
      expect(Number(history[200].value)).toBeLessThan(Number(history[0].value));
      expect(run.inputs?.dataset_inputs?.[0]?.dataset).toMatchObject({ name: "iris", digest: expect.stringMatching(/^[0-9a-f]{8}$/) });
      const root = await c.runArtifactRoot(run);
      const files: string[] = [];
      for await (const f of c.walkArtifacts(root)) files.push(f.path.slice(root.length + 1));
      expect(files.sort()).toEqual(["data/iris.csv", "model/MLmodel", "model/model.onnx"]);

      const champion = await c.getModelVersionByAlias(QUICKSTART.model, "champion");
      expect(champion).toMatchObject({ version: "1", run_id: run.info.run_id });
      const sig = await c.modelVersionSignature(QUICKSTART.model, 1);
      expect(JSON.stringify(sig)).toContain("probabilities");

      const dep = await c.getDeployment(QUICKSTART.deployment);
      expect(dep.spec.variants).toEqual([expect.objectContaining({ model: QUICKSTART.model, alias: "champion" })]);
      // Deployments are served again after a restart.
      const deadline = Date.now() + 20_000;
      while (!(await c.getDeployment(QUICKSTART.deployment)).variants[0].ready) {
        if (Date.now() > deadline) throw new Error("the deployment was not served after reopening the data dir");
        await new Promise((res) => setTimeout(res, 100));
      }
      const answer = await c.infer(QUICKSTART.deployment, [{ name: "features", datatype: "FP32", shape: [1, 4], data: [5.1, 3.5, 1.4, 0.2] }]);
      expect(answer.outputs.find((o) => o.name === "label")?.data).toEqual([0]);
    });
  }, 90_000);

  it("a second quickstart on the same data dir reuses the run, the version and the deployment", async () => {
    const r = await runCli(["quickstart", "--no-serve", "--port", "0", "--data", dir], { timeoutMs: 60_000 });
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toMatch(/Reusing run [0-9a-f]{32}/);
    expect(r.stdout).toContain("Found model 'iris-classifier' version 1");
    expect(r.stdout).toContain("Deployment 'iris' exists");
    expect(r.stdout).toContain("All three agree");
    await withServer(async (c) => {
      const exp = await c.getExperimentByName(QUICKSTART.experiment);
      expect((await c.searchRuns({ experimentIds: [exp?.experiment_id ?? ""] })).runs).toHaveLength(3);
      expect((await c.modelVersions(QUICKSTART.model)).map((v) => v.version)).toEqual(["1"]);
      expect((await c.listDeployments()).map((d) => d.name)).toEqual(["iris"]);
    });
  }, 90_000);

  it("without --no-serve keeps serving the deployment until SIGINT, then exits 0", async () => {
    const port = await freePort();
    const p = new CliProcess(["quickstart", "--port", String(port), "--data", dir]);
    try {
      const deadline = Date.now() + 60_000;
      while (!p.lines.includes("Serving until Ctrl-C.")) {
        if (Date.now() > deadline) throw new Error(`no 'Serving until Ctrl-C.' line:\n${p.lines.join("\n")}\n${p.stderr}`);
        await new Promise((res) => setTimeout(res, 100));
      }
      const c = new KeelClient({ url: `http://127.0.0.1:${port}` });
      const scored = await c.invocations<{ label: number[] }>(QUICKSTART.deployment, { instances: [[6.3, 2.9, 5.6, 1.8]] });
      expect(scored.predictions.label).toEqual([2]);
      p.proc.kill("SIGINT");
      expect(await p.exited).toEqual({ code: 0, signal: null });
    } finally {
      await p.stop();
    }
  }, 90_000);

  it("says clearly when the port is taken", async () => {
    await withServer(async (c) => {
      const port = new URL(c.base).port;
      const r = await runCli(["quickstart", "--no-serve", "--port", port, "--data", dir], { timeoutMs: 30_000 });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`keel quickstart: cannot listen on 127.0.0.1:${port}: the port is in use (pick another with --port)`);
    });
  }, 60_000);

  it("the SDK's deployment helpers replace and delete the quickstart's deployment", async () => {
    await withServer(async (c) => {
      const replaced = await c.replaceDeployment({ name: QUICKSTART.deployment, variants: [{ name: "pinned", model: QUICKSTART.model, version: 1 }] });
      expect(replaced.variants).toEqual([expect.objectContaining({ name: "pinned", version: "1", ready: true })]);
      await c.deleteDeployment(QUICKSTART.deployment);
      expect(await c.findDeployment(QUICKSTART.deployment)).toBeUndefined();
      expect(await c.listDeployments()).toEqual([]);
    });
  }, 60_000);
});

/**
 * The run page's artifacts, inputs and models, the model registry pages and the deployment pages, in a real
 * browser against a real `keel server`: runs and artifacts go in through the SDK as a training script would
 * log them; a model is registered from a run in the UI, aliased, staged and tagged there; a deployment made
 * through the SDK serves real requests and its page shows the live numbers and the shadow's differences.
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KeelApiError, KeelClient } from "../../src/sdk/index.js";
import { screenshot, suitePage } from "../helpers/browser.js";
import { type CliProcess, requireBuiltCli } from "../helpers/cli.js";
import { png, servingFixture, startKeel } from "../helpers/ui-server.js";

const MODEL = "ui-classifier";
const DEPLOYMENT = "ui-dep";
const METRICS_JSON = { accuracy: 0.93, classes: ["cat", "dog"], confusion: [[40, 2], [3, 55]] };
const CSV = 'name,note\n"Smith, J","said ""hi"""\nDoe,plain\n';
const BIG = 1_200_000;
const { input } = servingFixture("mlp_small");

let dataDir: string;
let server: CliProcess;
let url: string;
let client: KeelClient;
let page: Page;
const ui = suitePage();
let expId: string;
let runId: string;
let run2Id: string;

/** Message the server gives for a call that fails (the UI must show the same words). */
async function serverMessage(call: () => Promise<unknown>): Promise<string> {
  try {
    await call();
  } catch (err) {
    if (err instanceof KeelApiError) return err.message;
    throw err;
  }
  throw new Error("expected the call to fail");
}

async function uploadRunFile(run: string, path: string, body: Uint8Array | string): Promise<void> {
  const root = await client.runArtifactRoot(run);
  await client.uploadArtifact(`${root}/${path}`, typeof body === "string" ? new TextEncoder().encode(body) : body);
}

beforeAll(async () => {
  requireBuiltCli();
  dataDir = mkdtempSync(join(tmpdir(), "keel-ui-registry-"));
  ({ p: server, url } = await startKeel(["--data", dataDir]));
  client = new KeelClient({ url });
  ({ page } = await ui.open());

  expId = await client.createExperiment("ui-registry");
  const run = await client.createRun(expId, { runName: "trained-run" });
  runId = run.info.run_id;
  await client.logBatch(runId, {
    params: [
      { key: "lr", value: "0.01" },
      { key: "layers", value: "2" },
    ],
    metrics: [{ key: "acc", value: 0.93, timestamp: Date.now(), step: 0 }],
  });
  await client.logInputs(runId, [
    {
      tags: [{ key: "mlflow.data.context", value: "training" }],
      dataset: {
        name: "training-set",
        digest: "abc123",
        source_type: "s3",
        source: JSON.stringify({ uri: "s3://bucket/train.csv" }),
        schema: JSON.stringify({ mlflow_colspec: [{ type: "double", name: "x", required: true }, { type: "string", name: "label", required: false }] }),
        profile: JSON.stringify({ num_rows: 1000 }),
      },
    },
  ]);
  await uploadRunFile(runId, "notes.txt", "Trained on the training set.\nSecond line.");
  await uploadRunFile(runId, "metrics.json", JSON.stringify(METRICS_JSON));
  await uploadRunFile(runId, "data/sample.csv", CSV);
  await uploadRunFile(runId, "plots/curve.png", png(240, 120, (x, y) => [x, (y * 2) % 256, y > 60 - 40 * Math.sin(x / 20) ? 220 : 40]));
  await uploadRunFile(runId, "big/blob.txt", "x".repeat(BIG));
  await uploadRunFile(runId, "model/model.onnx", servingFixture("mlp_small").onnx);
  await client.updateRun(runId, { status: "FINISHED", endTime: Date.now() });

  // A second run with a different model: version 2, whose answers differ from version 1's.
  const run2 = await client.createRun(expId, { runName: "bigger-model" });
  run2Id = run2.info.run_id;
  await uploadRunFile(run2Id, "model/model.onnx", servingFixture("mlp_medium").onnx);
  await client.updateRun(run2Id, { status: "FINISHED", endTime: Date.now() });
}, 180_000);


afterAll(async () => {
  await server?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe("run page: artifacts, inputs and models", () => {
  it("browses the artifacts: text, pretty JSON, CSV as a table, images inline, a download for a large file", async () => {
    await page.goto(`${url}/experiments/${expId}/runs/${runId}`);
    await page.getByRole("heading", { name: "trained-run", level: 1 }).waitFor();
    const tree = page.getByRole("navigation", { name: "Artifact files" });
    const preview = page.getByTestId("artifact-preview");

    await tree.locator('[data-artifact="notes.txt"]').click();
    await expect.poll(() => preview.locator(".preview-text").textContent()).toBe("Trained on the training set.\nSecond line.");
    expect(new URL(page.url()).searchParams.get("artifact")).toBe("notes.txt");

    await tree.locator('[data-artifact="metrics.json"]').click();
    await expect.poll(() => preview.getByTestId("json-preview").textContent()).toBe(JSON.stringify(METRICS_JSON, null, 2));

    await tree.getByRole("button", { name: "data/" }).click();
    expect(await tree.getByRole("button", { name: "data/" }).getAttribute("aria-expanded")).toBe("true");
    await tree.locator('[data-artifact="data/sample.csv"]').click();
    const table = preview.getByTestId("csv-preview");
    await table.waitFor();
    expect(await table.locator("thead th").allTextContents()).toEqual(["name", "note"]);
    expect(await table.locator("tbody tr").first().locator("td").allTextContents()).toEqual(["Smith, J", 'said "hi"']);
    expect(await table.locator("tbody tr").count()).toBe(2);

    await tree.getByRole("button", { name: "plots/" }).click();
    await tree.locator('[data-artifact="plots/curve.png"]').click();
    const img = preview.getByRole("img", { name: "Artifact curve.png" });
    await img.waitFor();
    await expect.poll(() => img.evaluate((el) => (el as HTMLImageElement).naturalWidth)).toBe(240);
    expect(await img.evaluate((el) => (el as HTMLImageElement).naturalHeight)).toBe(120);
    await page.getByRole("heading", { name: "Artifacts", level: 2 }).scrollIntoViewIfNeeded();
    await screenshot(page, "run-artifacts");

    // Past the text preview limit: no preview, a download of the whole file instead.
    await tree.getByRole("button", { name: "big/" }).click();
    await tree.locator('[data-artifact="big/blob.txt"]').click();
    await preview.getByText(/Too large to preview here/).waitFor();
    expect(await preview.locator(".preview-text").count()).toBe(0);
    const [download] = await Promise.all([page.waitForEvent("download"), preview.getByRole("button", { name: "Download blob.txt" }).click()]);
    expect(download.suggestedFilename()).toBe("blob.txt");
    expect(statSync((await download.path()) as string).size).toBe(BIG);

    // A deep link opens the file with its folders expanded.
    await page.goto(`${url}/experiments/${expId}/runs/${runId}?artifact=data/sample.csv`);
    await page.getByTestId("csv-preview").waitFor();
    expect(await tree.getByRole("button", { name: "data/" }).getAttribute("aria-expanded")).toBe("true");
  });

  it("shows the run's input datasets with source, digest, profile and schema", async () => {
    const card = page.locator('[data-dataset="training-set"]');
    await card.waitFor();
    const text = (await card.textContent()) ?? "";
    expect(text).toContain("training");
    expect(text).toContain("abc123");
    expect(text).toContain("s3://bucket/train.csv");
    expect(text).toContain("num rows: 1000");
    await card.getByText("Schema (2 columns)").click();
    expect(await card.locator("tbody tr").first().locator("td").allTextContents()).toEqual(["x", "double", "yes"]);
  });

  it("registers a model from the run in the UI and lists the version made from it", async () => {
    await page.goto(`${url}/experiments/${expId}/runs/${runId}`);
    await page.getByRole("heading", { name: "Registered models (0)" }).waitFor();
    await page.getByRole("button", { name: "Register a model from this run" }).click();
    const form = page.getByRole("form", { name: "Register model" });
    await form.getByLabel("Model name").fill(MODEL);
    expect(await form.getByLabel("Artifact folder").inputValue()).toBe("model");
    await form.getByRole("button", { name: "Register" }).click();
    await form.getByRole("status").getByRole("link", { name: `${MODEL} version 1` }).waitFor();
    const v1 = await client.getModelVersion(MODEL, 1);
    expect(v1).toMatchObject({ run_id: runId, source: `runs:/${runId}/model` });
    await page.getByRole("heading", { name: "Registered models (1)" }).waitFor();
    await page.getByTestId("run-models").getByRole("link", { name: `${MODEL} version 1` }).waitFor();
    // Version 2 comes from the other run, through the SDK.
    await client.createModelVersion({ name: MODEL, source: `runs:/${run2Id}/model`, runId: run2Id });
  });
});

describe("models", () => {
  it("sets, moves and deletes aliases on the model page; a refused alias shows the server's message", async () => {
    await page.getByTestId("run-models").getByRole("link", { name: `${MODEL} version 1` }).click();
    await page.getByRole("heading", { name: MODEL, level: 1 }).waitFor();
    await page.getByTestId("versions-table").locator('tr[data-version="2"]').waitFor();
    const aliasForm = page.getByRole("form", { name: "Set alias" });

    const refused = await serverMessage(() => client.setRegisteredModelAlias(MODEL, "v1", 1));
    await aliasForm.getByLabel("Alias").fill("v1");
    await aliasForm.getByRole("button", { name: "Set alias" }).click();
    await expect.poll(() => page.getByRole("alert").textContent()).toContain(refused);

    await aliasForm.getByLabel("Alias").fill("champion");
    await aliasForm.getByLabel("Version").selectOption("1");
    await aliasForm.getByRole("button", { name: "Set alias" }).click();
    const row = page.getByTestId("aliases-table").locator('tr[data-alias="champion"]');
    await expect.poll(() => row.textContent()).toContain("version 1");
    expect((await client.getModelVersionByAlias(MODEL, "champion")).version).toBe("1");

    await aliasForm.getByLabel("Alias").fill("champion");
    await aliasForm.getByLabel("Version").selectOption("2");
    await aliasForm.getByRole("button", { name: "Move alias (now version 1)" }).click();
    await expect.poll(() => row.textContent()).toContain("version 2");
    expect((await client.getModelVersionByAlias(MODEL, "champion")).version).toBe("2");
    await aliasForm.getByLabel("Alias").fill("champion");
    await aliasForm.getByLabel("Version").selectOption("1");
    await aliasForm.getByRole("button", { name: "Move alias (now version 2)" }).click();
    await expect.poll(() => row.textContent()).toContain("version 1");

    await aliasForm.getByLabel("Alias").fill("temp");
    await aliasForm.getByRole("button", { name: "Set alias" }).click();
    const temp = page.getByTestId("aliases-table").locator('tr[data-alias="temp"]');
    await temp.waitFor();
    await temp.getByRole("button", { name: "Delete alias temp" }).click();
    await temp.getByRole("button", { name: "Confirm delete" }).click();
    await expect.poll(() => temp.count()).toBe(0);
    await expect(client.getModelVersionByAlias(MODEL, "temp")).rejects.toThrow(/alias temp not found/);
  });

  it("moves versions between stages, archiving the others on request, and edits tags", async () => {
    const versions = page.getByTestId("versions-table");
    await versions.getByRole("link", { name: "Version 1" }).click();
    await page.getByRole("heading", { name: /^Version 1/, level: 2 }).waitFor();
    const stage = page.getByRole("form", { name: "Transition stage" });
    await stage.getByLabel("Move to stage").selectOption("Staging");
    await stage.getByRole("button", { name: "Transition" }).click();
    await expect.poll(() => versions.locator('tr[data-version="1"] td').nth(1).textContent()).toBe("Staging");

    await versions.getByRole("link", { name: "Version 2" }).click();
    await page.getByRole("heading", { name: /^Version 2/, level: 2 }).waitFor();
    await stage.getByLabel("Move to stage").selectOption("Staging");
    await stage.getByLabel("Archive the versions now in Staging").check();
    await stage.getByRole("button", { name: "Transition" }).click();
    await expect.poll(() => versions.locator('tr[data-version="2"] td').nth(1).textContent()).toBe("Staging");
    await expect.poll(() => versions.locator('tr[data-version="1"] td').nth(1).textContent()).toBe("Archived");
    expect((await client.getModelVersion(MODEL, 1)).current_stage).toBe("Archived");

    const modelTags = page.locator("section", { has: page.getByRole("heading", { name: "Model tags" }) });
    await modelTags.getByLabel("Key").fill("owner");
    await modelTags.getByLabel("Value").fill("ml-team");
    await modelTags.getByRole("button", { name: "Set tag" }).click();
    await modelTags.getByRole("cell", { name: "ml-team", exact: true }).waitFor();
    expect((await client.getRegisteredModel(MODEL)).tags).toEqual([{ key: "owner", value: "ml-team" }]);
    const versionTags = page.getByTestId("version-detail");
    await versionTags.getByLabel("Key").fill("validated");
    await versionTags.getByLabel("Value").fill("yes");
    await versionTags.getByRole("button", { name: "Set tag" }).click();
    await versionTags.getByRole("cell", { name: "validated", exact: true }).waitFor();
    expect((await client.getModelVersion(MODEL, 2)).tags).toEqual([{ key: "validated", value: "yes" }]);
    await versionTags.getByRole("button", { name: "Delete tag validated" }).click();
    await versionTags.getByRole("button", { name: "Delete tag validated" }).click();
    await expect.poll(async () => (await client.getModelVersion(MODEL, 2)).tags ?? []).toEqual([]);
  });

  it("shows the version's signature from Keel's signature endpoint and its lineage as a graph", async () => {
    await page.goto(`${url}/models/${MODEL}?version=1`);
    await page.getByRole("heading", { name: MODEL, level: 1 }).waitFor();
    const sig = await client.modelVersionSignature(MODEL, 1);
    const inputs = page.getByTestId("signature-inputs");
    await inputs.locator("tbody tr").first().waitFor();
    const [name, type, shape] = await inputs.locator("tbody tr").first().locator("td").allTextContents();
    expect(name).toBe(sig.inputs[0].name);
    expect(type.startsWith(sig.inputs[0].dtype)).toBe(true);
    expect(shape).toBe((sig.inputs[0].shape ?? []).map((d) => (d === null || d === -1 ? "?" : String(d))).join(" × "));
    expect(await page.getByTestId("signature-outputs").locator("tbody tr").count()).toBe(sig.outputs.length);
    // The producer's name, and its version only when the file has one: no "produced by keel-tests )".
    const about = (await page.locator("section", { has: page.getByRole("heading", { name: "Signature" }) }).locator("p").first().textContent()) ?? "";
    const producer = [sig.onnx?.producer.name, sig.onnx?.producer.version].filter(Boolean).join(" ");
    expect(about).toContain(`produced by ${producer})`);
    expect(about).not.toMatch(/\s\)/);

    const graph = page.getByTestId("lineage-graph");
    await graph.locator('[data-kind="version"]').waitFor();
    expect(await graph.locator('[data-kind="dataset"]').getAttribute("aria-label")).toBe("Dataset: training-set (training · abc123)");
    expect(await graph.locator('[data-kind="run"]').getAttribute("aria-label")).toContain("Run: trained-run");
    expect(await graph.locator(".lineage-edge").count()).toBe(2);
  });

  it("lists the model with its alias on the models page, searched on the server", async () => {
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Models" }).click();
    await page.getByRole("heading", { name: "Models", level: 1 }).waitFor();
    await page.getByLabel("Search models by name").fill("UI-CLASS");
    const row = page.getByTestId("models-table").locator(`tr[data-model="${MODEL}"]`);
    await row.waitFor();
    expect(await row.getByRole("link", { name: "@champion → v1" }).count()).toBe(1);
    expect(await row.getByRole("link", { name: "version 2" }).count()).toBe(1);
    await expect.poll(() => new URL(page.url()).searchParams.get("q")).toBe("UI-CLASS");
    await screenshot(page, "models");
    await page.getByLabel("Search models by name").fill("no-such-model");
    await page.getByText("No models match.").waitFor();
  });
});

describe("deployments", () => {
  let load: Promise<void> | undefined;
  let loading = false;

  /** Inference requests in the background until stopped (the live numbers need traffic between two reads). */
  function startLoad(): void {
    loading = true;
    load = (async () => {
      while (loading) {
        await client.infer(DEPLOYMENT, [{ name: input.name, datatype: "FP32", shape: input.shape, data: input.data }]);
        await new Promise((r) => setTimeout(r, 40));
      }
    })();
  }
  afterAll(async () => {
    loading = false;
    await load;
  });

  it("lists a deployment made through the SDK with its variants and traffic shares", async () => {
    await client.createDeployment({
      name: DEPLOYMENT,
      variants: [
        { name: "main", model: MODEL, version: 1, weight: 3 },
        { name: "canary", model: MODEL, version: 2, weight: 1 },
        { name: "shadow", model: MODEL, version: 2, weight: 0 },
      ],
      shadow: { variant: "shadow", fraction: 1 },
    });
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Deployments" }).click();
    const row = page.getByTestId("deployments-table").locator(`tr[data-deployment="${DEPLOYMENT}"]`);
    await row.waitFor();
    expect(await row.locator('[data-variant="main"]').textContent()).toBe(`main: ${MODEL} v1 · 75% of traffic`);
    expect(await row.locator('[data-variant="canary"]').textContent()).toBe(`canary: ${MODEL} v2 · 25% of traffic`);
    expect(await row.locator('[data-variant="shadow"]').textContent()).toBe(`shadow: ${MODEL} v2 · shadow`);
    expect(await row.getByText("ready").count()).toBe(1);
  });

  it("shows live request rate, latency percentiles, batch sizes and the shadow's differences under traffic", async () => {
    await page.getByRole("link", { name: DEPLOYMENT, exact: true }).click();
    await page.getByRole("heading", { name: DEPLOYMENT, level: 1 }).waitFor();
    const variants = page.getByTestId("variants-table");
    expect(await variants.locator('tr[data-variant="main"]').textContent()).toContain("version 1");
    expect(await variants.locator('tr[data-variant="main"]').textContent()).toContain("ready");
    // No traffic yet: the charts say so instead of drawing empty axes over a meaningless time range.
    const idle = page.getByTestId("live-idle");
    await expect.poll(() => idle.count()).toBe(3);
    expect(await idle.allTextContents()).toEqual(Array(3).fill("No requests yet. The charts start with the first one."));
    expect(await page.locator('[data-testid="live-panel"] canvas').count()).toBe(0);
    startLoad();
    const rate = page.getByTestId("request-rate");
    await expect.poll(async () => Number.parseFloat((await rate.textContent()) ?? ""), { timeout: 30_000 }).toBeGreaterThan(0);
    await expect.poll(() => page.getByTestId("latency").textContent()).toMatch(/^[\d.,]+ ms \/ [\d.,]+ ms \/ [\d.,]+ ms$/);
    expect(Number((await page.getByTestId("request-total").textContent())?.replace(/,/g, ""))).toBeGreaterThan(0);
    expect(await page.getByTestId("error-rate").textContent()).toBe("0%");
    // A malformed request is refused, and counted as such (not as a failure of the model).
    const bad = await fetch(`${url}/v2/models/${DEPLOYMENT}/infer`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"inputs": []}' });
    expect(bad.status).toBe(400);
    await expect.poll(() => page.getByTestId("request-refused").textContent(), { timeout: 15_000 }).toBe("1 / 0");
    await page.getByTestId("batch-histogram").waitFor();
    expect(await page.locator('[data-testid="live-panel"] canvas').count()).toBeGreaterThanOrEqual(3);
    expect(await idle.count()).toBe(0);
    // The bucket labels ("129–256", "257–512"…) do not run into each other.
    const boxes = await page.getByTestId("bar-label").evaluateAll((els) => els.map((e) => e.getBoundingClientRect().toJSON() as DOMRect));
    expect(boxes.length).toBe(11);
    for (let i = 0; i < boxes.length; i++)
      for (let j = i + 1; j < boxes.length; j++) {
        const [a, b] = [boxes[i], boxes[j]];
        const overlap = a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
        expect(overlap, `labels ${i} and ${j}`).toBe(false);
      }
    // Counts agree with their nouns ("1 row", "2 rows").
    const caption = (await page.getByTestId("batch-histogram").locator("figcaption").textContent()) ?? "";
    const m = /^([\d,]+) (batch|batches), ([\d,]+) (row|rows), mean ([\d.]+) (row|rows) per batch$/.exec(caption);
    expect(m, caption).not.toBeNull();
    const noun = (n: string, one: string, many: string) => (Number(n.replace(/,/g, "")) === 1 ? one : many);
    expect([m![2], m![4], m![6]]).toEqual([noun(m![1], "batch", "batches"), noun(m![3], "row", "rows"), noun(m![5], "row", "rows")]);

    const shadow = page.getByTestId("shadow-panel");
    await expect.poll(async () => Number((await shadow.getByTestId("shadow-compared").textContent({ timeout: 1000 }).catch(() => "0"))?.replace(/,/g, "")), { timeout: 20_000 }).toBeGreaterThan(0);
    // Version 2 answers differently from version 1: the comparison says by how much.
    expect(Number.parseFloat((await shadow.getByTestId("shadow-max-diff").textContent()) ?? "")).toBeGreaterThan(0);
    await screenshot(page, "deployment");
    loading = false;
    await load;
  });

  it("edits traffic weights through the spec; a refused weight shows the server's message", async () => {
    const variants = page.getByTestId("variants-table");
    const current = await client.getDeployment(DEPLOYMENT);
    const refused = await serverMessage(() => client.replaceDeployment({ ...current.spec, variants: current.spec.variants.map((v) => (v.name === "canary" ? { ...v, weight: -1 } : v)) }));
    await variants.getByLabel("Weight of variant canary").fill("-1");
    await page.getByRole("button", { name: "Save weights" }).click();
    await expect.poll(() => page.getByRole("alert").textContent()).toContain(refused);

    await variants.getByLabel("Weight of variant main").fill("1");
    await variants.getByLabel("Weight of variant canary").fill("1");
    expect(await page.getByTestId("share-main").textContent()).toBe("50%");
    await page.getByRole("button", { name: "Save weights" }).click();
    await page.getByText("Saved.").waitFor();
    const after = await client.getDeployment(DEPLOYMENT);
    expect(after.variants.map((v) => [v.name, v.weight])).toEqual([
      ["main", 1],
      ["canary", 1],
      ["shadow", 0],
    ]);
    expect(after.spec.shadow).toEqual({ variant: "shadow", fraction: 1 });
  });

  it("draws the deployment at the end of the version's lineage", async () => {
    await page.goto(`${url}/models/${MODEL}?version=1`);
    const graph = page.getByTestId("lineage-graph");
    await graph.locator('[data-kind="deployment"]').waitFor();
    expect(await graph.locator('[data-kind="deployment"]').getAttribute("aria-label")).toBe(`Deployment: ${DEPLOYMENT} (variant main)`);
    expect(await page.getByTestId("versions-table").locator('tr[data-version="1"]').getByRole("link", { name: DEPLOYMENT }).count()).toBe(1);
    await graph.scrollIntoViewIfNeeded();
    await screenshot(page, "model");
    await page.getByRole("button", { name: "Switch to dark theme" }).click();
    await screenshot(page, "model-dark");
    await page.getByRole("button", { name: "Switch to light theme" }).click();
    // Following the run node opens the run that made the version.
    await graph.locator('[data-kind="run"]').click();
    await page.getByRole("heading", { name: "trained-run", level: 1 }).waitFor();
  });
});

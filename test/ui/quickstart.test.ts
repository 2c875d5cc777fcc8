/**
 * The "done when": a new user runs `keel quickstart`, opens the Web UI address it prints, and sees
 * the quickstart's experiment, run, metric charts, registered model and deployment. Here the quickstart
 * runs with --no-serve on a fresh data dir, then `keel server` serves that dir (as after a restart), and a
 * browser follows the printed link and the UI's own links from there.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page, Request } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { QUICKSTART } from "../../src/quickstart/demo.js";
import { screenshot, suitePage } from "../helpers/browser.js";
import { type CliProcess, requireBuiltCli, runCli } from "../helpers/cli.js";
import { startKeel } from "../helpers/ui-server.js";

let dataDir: string;
let server: CliProcess;
let url: string;
/** The path of the Web UI address the quickstart printed (its port was the quickstart's own server's). */
let printedPath: string;
let page: Page;
const ui = suitePage();

beforeAll(async () => {
  requireBuiltCli();
  dataDir = mkdtempSync(join(tmpdir(), "keel-ui-quickstart-"));
  const r = await runCli(["quickstart", "--no-serve", "--port", "0", "--data", dataDir], { timeoutMs: 120_000 });
  expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
  const printed = /Web UI:\s+(http:\/\/\S+)/.exec(r.stdout)?.[1];
  expect(printed, r.stdout).toBeDefined();
  printedPath = new URL(printed as string).pathname;
  ({ p: server, url } = await startKeel(["--data", dataDir]));
  ({ page } = await ui.open());
}, 180_000);


afterAll(async () => {
  await server?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe("after `keel quickstart`", () => {
  it("the printed Web UI address shows the experiment, the run, its charts, the registered model and the deployment", async () => {
    expect(printedPath).toMatch(/^\/experiments\/\d+\/runs\/[0-9a-f]{32}$/);
    await page.goto(`${url}${printedPath}`);
    // The run, in its experiment.
    await page.getByRole("heading", { name: QUICKSTART.runName, level: 1 }).waitFor();
    await page.getByRole("navigation", { name: "Breadcrumb" }).getByRole("link", { name: QUICKSTART.experiment }).waitFor();
    expect(await page.locator(".badge.status-finished").textContent()).toBe("FINISHED");
    // Its charts: every epoch's loss, drawn.
    const loss = page.locator('[data-metric="train_loss"]');
    await loss.locator("canvas").first().waitFor();
    expect(await loss.getByTestId("chart-caption").textContent()).toBe("201 of 201 points");
    await page.locator('[data-metric="train_accuracy"] canvas').first().waitFor();
    // The registered model made from it, with its alias and the deployment serving it.
    const models = page.getByTestId("run-models");
    await models.getByRole("link", { name: `${QUICKSTART.model} version 1` }).waitFor();
    await models.getByText(`@${QUICKSTART.alias}`).waitFor();
    await expect.poll(() => models.getByRole("link", { name: QUICKSTART.deployment, exact: true }).count(), { timeout: 30_000 }).toBe(1);
    // The dataset it trained on and its artifacts.
    await page.locator('[data-dataset="iris"]').waitFor();
    const tree = page.getByRole("navigation", { name: "Artifact files" });
    await tree.getByRole("button", { name: "model/" }).waitFor();
    await tree.getByRole("button", { name: "data/" }).waitFor();
    await page.evaluate(() => window.scrollTo(0, 0));
    await screenshot(page, "quickstart-run");
    await page.getByRole("heading", { name: /^Registered models/ }).evaluate((h) => h.scrollIntoView({ block: "start" }));
    await screenshot(page, "quickstart-run-model");
  });

  it("the deployment's page shows it serving the model's champion version", async () => {
    await page.getByTestId("run-models").getByRole("link", { name: QUICKSTART.deployment, exact: true }).click();
    await page.getByRole("heading", { name: QUICKSTART.deployment, level: 1 }).waitFor();
    const variant = page.getByTestId("variants-table").locator("tbody tr").first();
    await expect.poll(() => variant.textContent()).toContain("ready");
    expect(await variant.textContent()).toContain(`${QUICKSTART.model} @${QUICKSTART.alias} version 1`);
    await screenshot(page, "quickstart-deployment");
  });

  it("the model page reads cleanly: the signature's producer without an empty version, no stage shown as 'None', an example alias", async () => {
    await page.goto(`${url}/models/${QUICKSTART.model}?version=1`);
    await page.getByRole("heading", { name: QUICKSTART.model, level: 1 }).waitFor();
    // The quickstart's ONNX file names its producer ("keel") but no producer version.
    const about = page.locator("section", { has: page.getByRole("heading", { name: "Signature" }) }).locator("p").first();
    await expect.poll(() => about.textContent()).toContain("produced by keel).");
    const version = page.getByTestId("lineage-graph").locator('[data-kind="version"]');
    await version.waitFor();
    expect(await version.getAttribute("aria-label")).toBe(`Model version: ${QUICKSTART.model} v1`);
    expect(await version.textContent()).not.toContain("None");
    const alias = page.getByRole("form", { name: "Set alias" }).getByLabel("Alias");
    expect(await alias.getAttribute("placeholder")).toBe("e.g. champion");
  });

  it("the models and experiments pages list the quickstart's model and experiment", async () => {
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Models" }).click();
    const row = page.getByTestId("models-table").locator(`tr[data-model="${QUICKSTART.model}"]`);
    await row.waitFor();
    expect(await row.getByRole("link", { name: `@${QUICKSTART.alias} → v1` }).count()).toBe(1);
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Experiments" }).click();
    await page.getByRole("link", { name: QUICKSTART.experiment }).click();
    await page.locator("[data-run-id]").first().waitFor();
    expect(await page.locator("[data-run-id]").count()).toBe(3);
    // Whole run names and metric names: the columns fit them (text overflowing its cell is cut with "…").
    const cut = async (selector: string) => page.locator(selector).evaluateAll((els) => els.filter((e) => e.scrollWidth > e.clientWidth + 1).map((e) => e.textContent));
    await expect.poll(() => cut("[data-run-id] .name-cell")).toEqual([]);
    expect(await page.locator('.grid-head [data-col^="metric:"]').count()).toBeGreaterThan(0);
    expect(await cut('.grid-head [data-col^="metric:"] .head-label')).toEqual([]);
    // Who ran it, as an MLflow client records it.
    expect(((await page.locator('[data-run-id] [data-col="attr:user_id"]').allTextContents()) as string[]).every((u) => u.length > 0)).toBe(true);
  });

  it("compares the quickstart's runs: their losses overlaid, the learning rate the param that differs", async () => {
    for (const name of [QUICKSTART.runName, `${QUICKSTART.runName}-lr-0.05`, `${QUICKSTART.runName}-lr-0.1`]) {
      await page.getByRole("checkbox", { name: `Select run ${name}`, exact: true }).check();
    }
    // Every chart asks for its data once, for all three runs (not again as each run's details arrive).
    const asked: string[][] = [];
    const onRequest = (r: Request) => {
      if (r.method() === "POST" && r.url().endsWith("/api/keel/v1/runs/compare")) asked.push((r.postDataJSON() as { run_ids: string[] }).run_ids);
    };
    page.on("request", onRequest);
    await page.getByRole("link", { name: "Compare 3 runs" }).click();
    await page.getByRole("heading", { name: "Compare 3 runs" }).waitFor();
    const loss = page.locator('[data-metric="train_loss"]');
    await loss.locator("canvas").first().waitFor();
    expect(await loss.getByTestId("chart-caption").textContent()).toBe("603 of 603 points");
    const charts = await page.locator("[data-metric]").count();
    await expect.poll(() => page.locator("[data-metric] canvas").count()).toBeGreaterThanOrEqual(charts);
    page.off("request", onRequest);
    expect(asked.map((ids) => ids.length)).toEqual(Array(charts).fill(3));
    const lr = page.getByTestId("diff-table").locator("tr", { has: page.getByRole("rowheader", { name: /learning_rate$/ }) });
    expect(await lr.getAttribute("data-differs")).toBe("true");
    // Parallel coordinates: the runs at an axis' minimum or maximum draw inside its ends, not along them.
    const pc = page.getByTestId("parallel-coords");
    await pc.locator(".pc-line").first().waitFor({ state: "attached" }); // a level line has no height: "hidden" to playwright
    const ends = await pc.locator(".pc-axis line").first().evaluate((l) => [Number(l.getAttribute("y1")), Number(l.getAttribute("y2"))]);
    const ys = (await pc.locator(".pc-line").evaluateAll((ps) => ps.map((p) => p.getAttribute("d") ?? ""))).flatMap((d) => [...d.matchAll(/[ML][\d.]+,([\d.]+)/g)].map((m) => Number(m[1])));
    expect(ys.length).toBeGreaterThanOrEqual(6);
    for (const y of ys) {
      expect(y).toBeGreaterThan(Math.min(...ends) + 5);
      expect(y).toBeLessThan(Math.max(...ends) - 5);
    }
    await screenshot(page, "quickstart-compare");
  });
});

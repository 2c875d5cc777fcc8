/**
 * The web UI in a real browser against a real `keel server` (the built CLI and UI: `npm run build` first):
 * experiments are created and edited through the UI, runs are logged through the API, and the runs table,
 * run page and compare page are driven the way a user would. Screenshots land in test-artifacts/screenshots.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KeelClient, type WireMetric } from "../../src/sdk/index.js";
import { type Browser, launchBrowser, screenshot, suitePage } from "../helpers/browser.js";
import { CliProcess, requireBuiltCli, ROOT } from "../helpers/cli.js";

const RUNS = 60;
const EXTRA_METRICS = 40;
const STEPS = 30;
const LONG_POINTS = 5000;

/** Seeded values, so every assertion below is computed, not remembered. */
const acc = (i: number) => ((i * 37) % RUNS) / RUNS;
const lr = (i: number) => String([0.1, 0.01, 0.001][i % 3]);
const optimizer = (i: number) => (i % 2 ? "adam" : "sgd");
const runName = (i: number) => `run-${String(i).padStart(2, "0")}`;

let dataDir: string;
let server: CliProcess;
let url: string;
let client: KeelClient;
let browser: Browser;
let page: Page;
const ui = suitePage();
let expId: string;
const runIds: string[] = [];
/** Uncaught errors in the page: every test ends with none. */

async function startKeel(args: string[], env: Record<string, string> = {}): Promise<{ p: CliProcess; url: string }> {
  const p = new CliProcess(["server", "--port", "0", ...args], env);
  const line = await p.waitForLine((l) => typeof l.address === "string", "the listening line");
  return { p, url: `http://127.0.0.1:${new URL(line.address).port}` };
}

beforeAll(async () => {
  requireBuiltCli();
  if (!existsSync(join(ROOT, "ui", "dist", "index.html"))) throw new Error("ui/dist is missing: run `npm run build` (or `npm run build:ui`) first.");
  dataDir = mkdtempSync(join(tmpdir(), "keel-ui-test-"));
  ({ p: server, url } = await startKeel(["--data", dataDir]));
  client = new KeelClient({ url });
  ({ browser, page } = await ui.open());

  // Runs go in through the API, as a training script would log them.
  expId = await client.createExperiment("ui-runs");
  const t0 = Date.now() - RUNS * 60_000;
  for (let i = 0; i < RUNS; i++) {
    const start = t0 + i * 60_000;
    const run = await client.createRun(expId, { runName: runName(i), startTime: start });
    runIds.push(run.info.run_id);
    const metrics: WireMetric[] = [{ key: "acc", value: acc(i), timestamp: start + 1000, step: 0 }];
    for (let s = 0; s < STEPS; s++) metrics.push({ key: "loss", value: Math.exp(-s / 8) + i / 1000, timestamp: start + s * 1000, step: s });
    for (let m = 0; m < EXTRA_METRICS; m++) metrics.push({ key: `m${String(m).padStart(2, "0")}`, value: m + i / 100, timestamp: start, step: 0 });
    await client.logBatch(run.info.run_id, {
      metrics,
      params: [
        { key: "lr", value: lr(i) },
        { key: "optimizer", value: optimizer(i) },
      ],
      tags: [{ key: "team", value: i < 30 ? "vision" : "speech" }],
    });
    await client.updateRun(run.info.run_id, { status: "FINISHED", endTime: start + 45_000 });
  }
  // One run with a long history: its chart must come downsampled, and say so.
  for (let from = 0; from < LONG_POINTS; from += 1000) {
    const metrics: WireMetric[] = [];
    for (let s = from; s < from + 1000; s++) metrics.push({ key: "long", value: Math.sin(s / 100) + 2, timestamp: t0 + s, step: s });
    await client.logBatch(runIds[0], { metrics });
  }
}, 180_000);


afterAll(async () => {
  await server?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** Rendered rows (virtualized: only those in view), top to bottom, with the text of one column. */
async function renderedColumn(p: Page, col: string): Promise<string[]> {
  return p.$$eval(
    "[data-run-id]",
    (rows, c) =>
      rows
        .map((r) => ({ i: Number(r.getAttribute("aria-rowindex")), v: r.querySelector(`[data-col="${c}"]`)?.textContent ?? "" }))
        .sort((a, b) => a.i - b.i)
        .map((x) => x.v),
    col,
  );
}

async function countText(p: Page): Promise<string> {
  await p.waitForSelector('[data-testid="runs-count"][data-complete="true"]');
  return (await p.getByTestId("runs-count").textContent()) ?? "";
}

describe("web UI", () => {
  it("creates, searches, renames, deletes and restores experiments", async () => {
    await page.goto(`${url}/`);
    await page.getByRole("heading", { name: "Experiments", level: 1 }).waitFor();
    await page.getByLabel("New experiment name").fill("ui-created");
    await page.getByRole("button", { name: "Create experiment" }).click();
    await page.getByRole("link", { name: "ui-created" }).waitFor();
    const created = await client.getExperimentByName("ui-created");
    expect(created?.lifecycle_stage).toBe("active");

    await page.getByLabel("Search experiments by name").fill("CREATED");
    // The search is case-insensitive and runs on the server.
    await expect.poll(() => page.getByRole("link", { name: "ui-runs" }).count()).toBe(0);
    expect(await page.getByRole("link", { name: "ui-created" }).count()).toBe(1);
    await expect.poll(() => page.url()).toContain("q=CREATED");

    await page.getByRole("button", { name: "Rename ui-created" }).click();
    const nameField = page.getByLabel("New name for ui-created");
    await nameField.fill("ui-renamed");
    await nameField.press("Enter");
    await page.getByLabel("Search experiments by name").fill("ui-");
    await page.getByRole("link", { name: "ui-renamed" }).waitFor();
    expect((await client.getExperiment(created!.experiment_id)).name).toBe("ui-renamed");

    await page.getByRole("button", { name: "Delete ui-renamed" }).click();
    await page.getByRole("button", { name: "Confirm delete" }).click();
    await page.getByRole("link", { name: "ui-renamed" }).waitFor({ state: "detached" });
    expect((await client.getExperiment(created!.experiment_id)).lifecycle_stage).toBe("deleted");

    await page.getByLabel("Show deleted").check();
    await page.getByRole("button", { name: "Restore ui-renamed" }).click();
    await page.getByRole("link", { name: "ui-renamed" }).waitFor();
    expect((await client.getExperiment(created!.experiment_id)).lifecycle_stage).toBe("active");
    await page.getByLabel("Search experiments by name").fill("");
    await page.getByRole("link", { name: "ui-runs" }).waitFor();
    await screenshot(page, "experiments");
  });

  it("shows a virtualized runs table; filters with autocomplete, sorts, groups and selects; the URL reproduces the view", async () => {
    await page.getByRole("link", { name: "ui-runs" }).click();
    await page.waitForURL(`${url}/experiments/${expId}`);
    expect(await countText(page)).toBe(`${RUNS} runs`);
    const grid = page.getByRole("grid");
    // Selection and name, 4 attributes, the metrics (acc, loss, long and the extra ones) and 2 params.
    expect(await grid.getAttribute("aria-colcount")).toBe(String(2 + 4 + 3 + EXTRA_METRICS + 2));
    expect(await grid.getAttribute("aria-rowcount")).toBe(String(RUNS + 1));
    // Virtualized: neither every row nor every column is in the document.
    const renderedRows = await page.locator("[data-run-id]").count();
    expect(renderedRows).toBeGreaterThan(10);
    expect(renderedRows).toBeLessThan(RUNS);
    const renderedHeaders = await page.locator(".grid-head [data-col]").count();
    expect(renderedHeaders).toBeLessThan(4 + EXTRA_METRICS + 4);
    // Newest first by default.
    expect((await renderedColumn(page, "attr:start_time")).length).toBe(renderedRows);
    expect(await page.locator("[data-run-id] .name-cell").first().textContent()).toBe(runName(RUNS - 1));
    // Scrolling to the end renders the last run.
    await grid.evaluate((el) => {
      el.scrollTop = el.scrollHeight;
    });
    await page.locator(`[data-run-id="${runIds[0]}"]`).waitFor();
    await grid.evaluate((el) => {
      el.scrollTop = 0;
    });

    // The filter's example names this experiment's own keys (acc, lr), not a metric it never logged.
    const filter = page.getByRole("combobox", { name: "Filter runs" });
    const example = (await filter.getAttribute("placeholder")) ?? "";
    expect(example).toMatch(/^Filter: metrics\.acc > [\d.]+ AND params\.lr = '0\.0*1'$/);

    // Run names look like links: the link color, not the body text's, and underlined when pointed at.
    // The top row's link, by id: after the scroll above, rows sit in the document in any order, and a row
    // re-rendered under the pointer would leave `.first()` naming another link than the one hovered.
    const nameLink = page.locator(`[data-run-id="${runIds[RUNS - 1]}"] .name-cell a`);
    const linkStyle = () => nameLink.evaluate((a) => ({ color: getComputedStyle(a).color, underline: getComputedStyle(a).textDecorationLine, body: getComputedStyle(document.body).color }));
    await page.mouse.move(0, 0); // the pointer rests where an earlier click left it: away from the link
    const resting = await linkStyle();
    expect(resting.color).not.toBe(resting.body);
    expect(resting.underline).toBe("none");
    await nameLink.hover();
    await expect.poll(async () => (await linkStyle()).underline).toBe("underline");

    // Filter, with a key picked from the autocomplete list.
    await filter.click();
    await filter.pressSequentially("metrics.a");
    await page.getByRole("option", { name: /metrics\.acc/ }).waitFor();
    await filter.press("ArrowDown");
    await filter.press("Enter");
    expect(await filter.inputValue()).toBe("metrics.acc ");
    await filter.pressSequentially("> 0.5");
    await filter.press("Enter");
    const matching = Array.from({ length: RUNS }, (_, i) => i).filter((i) => acc(i) > 0.5);
    await expect.poll(() => countText(page)).toBe(`${matching.length} runs`);
    expect(new URL(page.url()).searchParams.get("filter")).toBe("metrics.acc > 0.5");
    const shownAcc = (await renderedColumn(page, "metric:acc")).map(Number);
    expect(shownAcc.length).toBe(matching.length);
    for (const v of shownAcc) expect(v).toBeGreaterThan(0.5);

    // Sort by a metric: server-side, both directions.
    await page.getByRole("button", { name: "Sort by metric: acc" }).click();
    const desc = matching.map(acc).sort((a, b) => b - a);
    await expect.poll(async () => (await renderedColumn(page, "metric:acc")).map(Number)).toEqual(desc.map((v) => Number(v.toPrecision(6))));
    expect(await page.locator('[role="columnheader"][data-col="metric:acc"]').getAttribute("aria-sort")).toBe("descending");
    await page.getByRole("button", { name: "Sort by metric: acc" }).click();
    await expect.poll(async () => (await renderedColumn(page, "metric:acc")).map(Number)).toEqual([...desc].reverse().map((v) => Number(v.toPrecision(6))));
    expect(new URL(page.url()).searchParams.get("dir")).toBe("asc");
    await page.getByRole("button", { name: "Sort by metric: acc" }).click();
    await expect.poll(async () => Number((await renderedColumn(page, "metric:acc"))[0])).toBe(Number(desc[0].toPrecision(6)));

    // Group by a param.
    await page.getByLabel("Group by").selectOption("param:optimizer");
    const adam = matching.filter((i) => optimizer(i) === "adam").length;
    const sgd = matching.length - adam;
    await page.getByRole("button", { name: "optimizer = adam" }).waitFor();
    const groups = await page.locator(".group-row").allTextContents();
    expect(groups.sort()).toEqual([`▾ optimizer = adam ${adam} runs`, `▾ optimizer = sgd ${sgd} runs`].sort());
    // Collapsing a group hides its runs.
    await page.getByRole("button", { name: "optimizer = sgd" }).click();
    await expect.poll(() => page.locator("[data-run-id]").count()).toBe(adam);
    await page.getByRole("button", { name: "optimizer = sgd" }).click();
    await expect.poll(() => page.locator("[data-run-id]").count()).toBe(matching.length);
    await screenshot(page, "runs-grouped");

    // Select three runs for compare.
    const byAcc = [...matching].sort((a, b) => acc(b) - acc(a)).slice(0, 3);
    for (const i of byAcc) await page.getByRole("checkbox", { name: `Select run ${runName(i)}` }).check();
    expect(new URL(page.url()).searchParams.getAll("sel").sort()).toEqual(byAcc.map((i) => runIds[i]).sort());
    await page.getByRole("link", { name: "Compare 3 runs" }).waitFor();

    // Choose columns: hide a param.
    await page.getByRole("button", { name: /^Columns/ }).click();
    const chooser = page.getByRole("dialog", { name: "Choose columns" });
    await chooser.getByRole("checkbox", { name: "lr", exact: true }).uncheck();
    await page.keyboard.press("Escape");
    expect(new URL(page.url()).searchParams.getAll("col")).not.toContain("param:lr");
    expect(new URL(page.url()).searchParams.getAll("col")).toContain("param:optimizer");

    // The URL alone reproduces the view in a fresh tab.
    const link = page.url();
    const before = await renderedColumn(page, "metric:acc");
    const other = await browser.newPage();
    await other.goto(link);
    expect(await countText(other)).toBe(`${matching.length} runs`);
    expect(await other.getByRole("combobox", { name: "Filter runs" }).inputValue()).toBe("metrics.acc > 0.5");
    expect(await other.getByLabel("Group by").inputValue()).toBe("param:optimizer");
    expect(await other.locator('[role="columnheader"][data-col="metric:acc"]').getAttribute("aria-sort")).toBe("descending");
    await expect.poll(() => renderedColumn(other, "metric:acc")).toEqual(before);
    for (const i of byAcc) expect(await other.getByRole("checkbox", { name: `Select run ${runName(i)}` }).isChecked()).toBe(true);
    expect(await other.locator('.grid-head [data-col="param:lr"]').count()).toBe(0);
    await other.close();

    // A bad filter shows the server's own 400 message, and the page keeps working.
    const serverSays = await client.searchRuns({ experimentIds: [expId], filter: "metrics.acc >>> 1" }).then(
      () => "",
      (e: Error) => e.message,
    );
    expect(serverSays).not.toBe("");
    await filter.fill("metrics.acc >>> 1");
    await filter.press("Enter");
    const alert = page.getByTestId("runs-error");
    await alert.waitFor();
    expect(await alert.textContent()).toContain(serverSays);
    await filter.fill("metrics.acc > 0.5");
    await filter.press("Enter");
    await page.locator("[data-run-id]").first().waitFor();
    await screenshot(page, "runs");
  });

  it("compares the selected runs: overlaid charts with a points control and full resolution, and a diff table", async () => {
    await page.getByRole("link", { name: "Compare 3 runs" }).click();
    await page.waitForURL(/\/compare\?/);
    const ids = new URL(page.url()).searchParams.getAll("run");
    expect(ids.length).toBe(3);
    await page.getByRole("heading", { name: "Compare 3 runs" }).waitFor();
    const loss = page.locator('[data-metric="loss"]');
    await loss.locator("canvas").first().waitFor();
    expect(await loss.getByTestId("chart-caption").textContent()).toBe(`${3 * STEPS} of ${3 * STEPS} points`);

    const lrs = ids.map((id) => lr(runIds.indexOf(id)));
    const lrRow = page.getByTestId("diff-table").locator("tr", { has: page.getByRole("rowheader", { name: /lr$/ }) });
    expect(await lrRow.getAttribute("data-differs")).toBe(String(new Set(lrs).size > 1));
    const accRow = page.getByTestId("diff-table").locator("tr", { has: page.getByRole("rowheader", { name: /acc$/ }) });
    expect(await accRow.getAttribute("data-differs")).toBe("true");
    await page.getByLabel("Show only rows that differ").check();
    expect(await page.getByTestId("diff-table").locator('tr[data-differs="false"]').count()).toBe(0);

    // Fewer points than the series has: the server downsamples, and the caption says so.
    const points = page.getByLabel("Points per series");
    await points.fill("10");
    await points.press("Enter");
    await expect.poll(() => loss.getByTestId("chart-caption").textContent()).toBe(`${3 * 10} of ${3 * STEPS} points (downsampled to 10 per series, LTTB)`);
    await page.getByLabel("Full resolution (every point)").check();
    await expect.poll(() => loss.getByTestId("chart-caption").textContent()).toBe(`${3 * STEPS} of ${3 * STEPS} points (full resolution)`);
    expect(new URL(page.url()).searchParams.get("full")).toBe("1");
    await screenshot(page, "compare");

    // Parallel coordinates: one axis per param that differs between the runs, the chosen metric last, a line per run.
    await page.getByRole("heading", { name: "Parameters → metric" }).scrollIntoViewIfNeeded();
    await page.getByLabel("Metric", { exact: true }).selectOption("loss");
    expect(new URL(page.url()).searchParams.get("pc")).toBe("loss");
    const pc = page.getByTestId("parallel-coords");
    const params = { lr, optimizer };
    const differing = (["lr", "optimizer"] as const).filter((k) => new Set(ids.map((id) => params[k](runIds.indexOf(id)))).size > 1);
    // When no param differs, every param gets an axis.
    const axes = differing.length ? differing : ["lr", "optimizer"];
    await expect.poll(() => pc.locator("[data-axis]").evaluateAll((els) => els.map((e) => e.getAttribute("data-axis")))).toEqual([...axes, "loss"]);
    expect(await pc.locator(".pc-line").count()).toBe(3);
    // Each line is labelled with its run and values.
    const first = runIds.indexOf(ids[0]);
    expect(await pc.locator(`[data-run="${ids[0]}"] title`).textContent()).toContain(runName(first));
    await screenshot(page, "compare-parallel");
  });

  it("opens a run by deep link: overview, params, tags and metric charts from the downsampling endpoint", async () => {
    const i = 0;
    await page.goto(`${url}/experiments/${expId}/runs/${runIds[i]}`);
    await page.getByRole("heading", { name: runName(i), level: 1 }).waitFor();
    expect(await page.locator(".overview").textContent()).toContain(runIds[i]);
    const params = page.locator("section", { has: page.getByRole("heading", { name: /^Parameters/ }) });
    expect(await params.locator("tr", { hasText: "optimizer" }).locator("td").nth(1).textContent()).toBe(optimizer(i));
    const lossChart = page.locator('[data-metric="loss"]');
    await lossChart.locator("canvas").first().waitFor();
    expect(await lossChart.getByTestId("chart-caption").textContent()).toBe(`${STEPS} of ${STEPS} points`);
    // 5000 points come downsampled to about the chart's width, never silently.
    const long = page.locator('[data-metric="long"]');
    await long.scrollIntoViewIfNeeded();
    await long.locator("canvas").first().waitFor();
    const caption = (await long.getByTestId("chart-caption").textContent()) ?? "";
    const m = /^([\d,]+) of 5,000 points \(downsampled to ([\d,]+) per series, LTTB\)$/.exec(caption);
    expect(m, caption).not.toBeNull();
    expect(Number(m![1].replace(/,/g, ""))).toBe(Number(m![2].replace(/,/g, "")));

    // Chart settings live in the URL and survive a reload.
    await page.getByLabel("Log scale").check();
    await page.getByText("Relative time").click();
    const slider = page.getByRole("slider", { name: "Smoothing" });
    await slider.focus();
    for (let k = 0; k < 5; k++) await slider.press("ArrowRight");
    const q = new URL(page.url()).searchParams;
    expect(q.get("log")).toBe("1");
    expect(q.get("x")).toBe("relative");
    expect(q.get("smooth")).toBe("0.05");
    await page.reload();
    await page.getByRole("heading", { name: runName(i), level: 1 }).waitFor();
    expect(await page.getByLabel("Log scale").isChecked()).toBe(true);
    expect(await page.getByRole("radio", { name: "Relative time" }).isChecked()).toBe(true);
    await lossChart.locator("canvas").first().waitFor();
    await screenshot(page, "run");
  });

  it("follows a running run: new points and the finished status appear without a reload; a zoom survives the refresh", async () => {
    const run = await client.createRun(expId, { runName: "live-run" });
    const id = run.info.run_id;
    const points = (from: number, n: number): WireMetric[] => Array.from({ length: n }, (_, k) => ({ key: "live_loss", value: 1 / (from + k + 1), timestamp: Date.now(), step: from + k }));
    await client.logBatch(id, { metrics: points(0, 10) });
    await page.goto(`${url}/experiments/${expId}/runs/${id}`);
    const chart = page.locator('[data-metric="live_loss"]');
    await expect.poll(() => chart.getByTestId("chart-caption").textContent()).toBe("10 of 10 points");
    // The user zooms into the first steps (drag across the plot).
    const over = chart.locator(".u-over");
    const box = (await over.boundingBox())!;
    await page.mouse.move(box.x + 5, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width / 3, box.y + box.height / 2, { steps: 5 });
    await page.mouse.up();
    // The x range shown (the axes are drawn on the canvas; the chart writes its range on its element).
    const xMax = async () => Number(await chart.getByTestId("metric-chart").getAttribute("data-x-max"));
    await expect.poll(xMax).toBeLessThan(5);
    await client.logBatch(id, { metrics: points(10, 15) });
    await expect.poll(() => chart.getByTestId("chart-caption").textContent(), { timeout: 15_000 }).toBe("25 of 25 points");
    // The chart was updated in place: still the one canvas, and the zoom kept (the x axis stays on the first steps).
    expect(await chart.locator("canvas").count()).toBe(1);
    expect(await xMax()).toBeLessThan(5);
    // A double click undoes the zoom: the axis reaches the new points.
    await over.dblclick();
    await expect.poll(xMax).toBeGreaterThanOrEqual(24);
    await client.updateRun(id, { status: "FINISHED", endTime: Date.now() });
    await expect.poll(() => page.locator(".overview").textContent(), { timeout: 15_000 }).toContain("FINISHED");
  });

  it("switches to the dark theme and keeps it; follows the system's preference by default; visible keyboard focus", async () => {
    await page.goto(`${url}/experiments/${expId}`);
    await page.locator("[data-run-id]").first().waitFor();
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe("light");
    await page.getByRole("button", { name: "Switch to dark theme" }).click();
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe("dark");
    await page.reload();
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe("dark");
    await page.locator("[data-run-id]").first().waitFor();
    const darkLink = await page.locator("[data-run-id] .name-cell a").first().evaluate((a) => ({ color: getComputedStyle(a).color, body: getComputedStyle(document.body).color }));
    expect(darkLink.color).not.toBe(darkLink.body);
    await screenshot(page, "runs-dark");
    await page.getByRole("button", { name: "Switch to light theme" }).click();

    const dark = await launchBrowser({ colorScheme: "dark" });
    try {
      const p = await dark.newPage();
      await p.goto(`${url}/`);
      expect(await p.evaluate(() => document.documentElement.dataset.theme)).toBe("dark");
    } finally {
      await dark.close();
    }

    // Tab reaches the skip link first, then the navigation; focus is drawn.
    await page.goto(`${url}/`);
    await page.getByRole("heading", { name: "Experiments", level: 1 }).waitFor();
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Skip to content");
    await page.keyboard.press("Tab");
    const outline = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement;
      return { tag: el.tagName, style: getComputedStyle(el).outlineStyle, width: getComputedStyle(el).outlineWidth };
    });
    expect(outline.tag).toBe("A");
    expect(outline.style).toBe("solid");
    expect(outline.width).toBe("2px");
  });

  it("shows only a not-found message, with a way back, for an experiment that does not exist", async () => {
    for (const id of ["999999", "abc"]) {
      await page.goto(`${url}/experiments/${id}`);
      await page.getByRole("heading", { name: "Experiment not found", level: 1 }).waitFor();
      expect(await page.getByTestId("experiment-not-found").textContent()).toContain(`no experiment with ID ${id}`);
      // None of the runs UI: it would describe runs of nothing.
      expect(await page.getByRole("combobox", { name: "Filter runs" }).count()).toBe(0);
      expect(await page.getByLabel("Group by").count()).toBe(0);
      expect(await page.getByText("No runs yet").count()).toBe(0);
      expect(await page.getByTestId("runs-count").count()).toBe(0);
    }
    await page.getByRole("link", { name: "Back to the experiments" }).click();
    await page.getByRole("heading", { name: "Experiments", level: 1 }).waitFor();
    expect(new URL(page.url()).pathname).toBe("/");
  });

  it("names the experiment in the breadcrumb of a run that does not exist", async () => {
    await page.goto(`${url}/experiments/${expId}/runs/0123456789abcdef0123456789abcdef`);
    await page.getByRole("alert").waitFor();
    const crumbs = page.getByRole("navigation", { name: "Breadcrumb" });
    await expect.poll(() => crumbs.getByRole("link").allTextContents()).toEqual(["Experiments", "ui-runs"]);
  });

  it("compares one run sensibly: singular heading, a way to pick more, its values without a diff switch", async () => {
    await page.goto(`${url}/compare?exp=${expId}&run=${runIds[1]}`);
    await page.getByRole("heading", { name: "Compare 1 run", exact: true, level: 1 }).waitFor();
    expect(await page.getByTestId("compare-hint").textContent()).toContain("Only one run is selected");
    await page.getByTestId("compare-hint").getByRole("link", { name: "Select more runs" }).waitFor();
    await page.locator('[data-metric="loss"] canvas').first().waitFor();
    expect(await page.getByLabel("Show only rows that differ").count()).toBe(0);
    await page.getByRole("heading", { name: "Values", level: 2 }).waitFor();
    expect(await page.title()).toBe("Compare 1 run · Keel");
  });

  it("frames a single-point chart around its point, not from zero to twice it", async () => {
    const run = await client.createRun(expId, { runName: "one-point" });
    await client.logBatch(run.info.run_id, { metrics: [{ key: "final_acc", value: 0.9667, timestamp: Date.now(), step: 200 }] });
    await client.updateRun(run.info.run_id, { status: "FINISHED", endTime: Date.now() });
    await page.goto(`${url}/experiments/${expId}/runs/${run.info.run_id}`);
    const chart = page.locator('[data-metric="final_acc"]').getByTestId("metric-chart");
    await chart.locator("canvas").waitFor();
    // The chart writes the ranges it shows on its element (the axes are drawn on the canvas).
    const read = async (k: string) => Number(await chart.evaluate((el, key) => el.dataset[key], k));
    await expect.poll(() => read("yMax")).toBeLessThan(1.1);
    expect(await read("yMin")).toBeGreaterThan(0.85);
    expect(await read("xMin")).toBeGreaterThanOrEqual(150);
    expect(await read("xMax")).toBeLessThanOrEqual(250);
    expect(await page.locator('[data-metric="final_acc"]').getByTestId("chart-caption").textContent()).toBe("1 of 1 point");
  });

  it("fits a 390px-wide phone screen: no sideways scroll, the whole navigation and theme switch in view", async () => {
    const phone = await browser.newPage();
    try {
      await phone.setViewportSize({ width: 390, height: 800 });
      for (const path of ["/", `/experiments/${expId}`, `/experiments/${expId}/runs/${runIds[0]}`, "/models", "/deployments"]) {
        await phone.goto(`${url}${path}`);
        await phone.locator("main h1").waitFor();
        await phone.waitForLoadState("networkidle");
        const layout = await phone.evaluate(() => ({
          scrollWidth: document.documentElement.scrollWidth,
          width: document.documentElement.clientWidth,
          clipped: [...document.querySelectorAll(".topbar a, .topbar button")]
            .filter((el) => {
              const r = el.getBoundingClientRect();
              return r.left < 0 || r.right > document.documentElement.clientWidth;
            })
            .map((el) => el.textContent),
        }));
        expect(layout.scrollWidth, path).toBe(layout.width);
        expect(layout.clipped, path).toEqual([]);
        await phone.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Deployments" }).waitFor();
        expect(await phone.getByTestId("theme-toggle").isVisible()).toBe(true);
      }
      await screenshot(phone, "experiments-phone");
    } finally {
      await phone.close();
    }
  });

  it("shows the search fields' placeholders whole", async () => {
    for (const [path, label] of [
      ["/", "Search experiments by name"],
      ["/models", "Search models by name"],
    ]) {
      await page.goto(`${url}${path}`);
      const input = page.getByLabel(label);
      await input.waitFor();
      const fits = await input.evaluate((el: HTMLInputElement) => {
        const cs = getComputedStyle(el);
        const ctx = document.createElement("canvas").getContext("2d")!;
        ctx.font = cs.font;
        return ctx.measureText(el.placeholder).width <= el.clientWidth - Number.parseFloat(cs.paddingLeft) - Number.parseFloat(cs.paddingRight);
      });
      expect(fits, label).toBe(true);
    }
  });

  it("signs in when the server has auth on, and signs out", async () => {
    const authDir = mkdtempSync(join(tmpdir(), "keel-ui-auth-"));
    const { p, url: authUrl } = await startKeel(["--data", authDir, "--auth"], { KEEL_ADMIN_PASSWORD: "ui-admin-password-1" });
    const b = await launchBrowser();
    try {
      const pg = await b.newPage();
      // The browser's own Basic-auth dialog would block the page: the UI's requests must not trigger it.
      pg.on("dialog", (d) => {
        throw new Error(`unexpected dialog: ${d.message()}`);
      });
      await pg.goto(`${authUrl}/experiments/0`);
      await pg.getByRole("heading", { name: "Sign in to Keel" }).waitFor();
      await screenshot(pg, "sign-in");
      await pg.getByLabel("Username", { exact: true }).fill("admin");
      await pg.getByLabel("Password", { exact: true }).fill("wrong-password");
      await pg.getByRole("button", { name: "Sign in" }).click();
      await pg.getByRole("alert").waitFor();
      await pg.getByLabel("Password", { exact: true }).fill("ui-admin-password-1");
      await pg.getByRole("button", { name: "Sign in" }).click();
      // Back on the page the link named, now with data.
      await pg.getByRole("heading", { name: "Default", level: 1 }).waitFor();
      await pg.getByText("Signed in as admin").waitFor();
      await pg.reload();
      await pg.getByRole("heading", { name: "Default", level: 1 }).waitFor();
      await pg.getByRole("button", { name: "Sign out" }).click();
      await pg.getByRole("heading", { name: "Sign in to Keel" }).waitFor();
      // The token the UI made at sign-in was revoked at sign-out.
      const admin = new KeelClient({ url: authUrl, username: "admin", password: "ui-admin-password-1" });
      const tokens = await admin.listTokens();
      expect(tokens.filter((t) => t.name === "web-ui" && !t.revoked_time)).toEqual([]);
    } finally {
      await b.close();
      await p.stop();
      rmSync(authDir, { recursive: true, force: true });
    }
  });
});

/**
 * The web UI in headless Chromium (Debian's /usr/bin/chromium through playwright-core) against `keel server`:
 *
 *  - runs table, 10,000 runs × 50 columns (25 metrics, 25 params): first meaningful paint, the time from
 *    navigation until the first run rows are in the document (the UI marks it: `keel:runs-table:first-rows`),
 *    on a cold first load and as the median of warm loads (assets cached); target 1000 ms.
 *  - scrolling that table: frames per second while a requestAnimationFrame loop scrolls it, vertically then
 *    horizontally (the frame-time p95 too); target 50 fps.
 *  - a chart of 1,000,000 points, downsampled server-side to the chart's width: navigation to the first
 *    chart drawn (`keel:chart:first-draw`); target 300 ms.
 *
 * Runs and points are logged through the API (log-batch), as a training script would.
 * Env: KEEL_BENCH_UI_RUNS (default 10000), KEEL_BENCH_UI_POINTS (default 1000000), KEEL_BENCH_UI_LOADS (default 5).
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { KeelClient, type WireMetric } from "../src/sdk/index.js";
import { launchBrowser } from "../test/helpers/browser.js";
import { figure, fmt, log, main, median, nowMs, percentile, prng, ROOT, startKeel, tempDir } from "./lib.js";

const RUNS = Number(process.env.KEEL_BENCH_UI_RUNS ?? 10_000);
const POINTS = Number(process.env.KEEL_BENCH_UI_POINTS ?? 1_000_000);
const LOADS = Number(process.env.KEEL_BENCH_UI_LOADS ?? 5);
const METRICS = 25;
const PARAMS = 25;
const CONCURRENCY = 8;

function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

/** ui/dist from the current ui/src (and the SDK it bundles). */
function ensureUiBuilt(): void {
  const index = join(ROOT, "ui", "dist", "index.html");
  if (existsSync(index) && statSync(index).mtimeMs >= Math.max(newest(join(ROOT, "ui", "src")), newest(join(ROOT, "src", "sdk")))) return;
  log("ui/dist is missing or older than ui/src: running npm run build:ui");
  const r = spawnSync("npm", ["run", "build:ui"], { cwd: ROOT, stdio: ["ignore", process.stderr, process.stderr] });
  if (r.status !== 0) throw new Error("npm run build:ui failed");
}

/** `fn` over 0..n-1 with `concurrency` requests in flight. */
async function pool(n: number, concurrency: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) await fn(next++);
    }),
  );
}

async function seedRuns(client: KeelClient): Promise<string> {
  const exp = await client.createExperiment("bench-ui-runs");
  const rand = prng(42);
  const t0 = Date.now() - RUNS * 1000;
  const ts = nowMs();
  await pool(RUNS, CONCURRENCY, async (i) => {
    const start = t0 + i * 1000;
    const run = await client.createRun(exp, { runName: `run-${i}`, startTime: start });
    const metrics: WireMetric[] = Array.from({ length: METRICS }, (_, m) => ({ key: `metric_${String(m).padStart(2, "0")}`, value: rand() * (m + 1), timestamp: start, step: 0 }));
    const params = Array.from({ length: PARAMS }, (_, p) => ({ key: `param_${String(p).padStart(2, "0")}`, value: String(Math.floor(rand() * 10 ** ((p % 4) + 1))) }));
    await client.logBatch(run.info.run_id, { metrics, params });
    if (i % 1000 === 999) log(`seeded ${i + 1} runs (${fmt((nowMs() - ts) / 1000)} s)`);
  });
  return exp;
}

async function seedLongMetric(client: KeelClient): Promise<{ exp: string; run: string }> {
  const exp = await client.createExperiment("bench-ui-chart");
  const run = await client.createRun(exp, { runName: "million-points" });
  const start = run.info.start_time;
  const ts = nowMs();
  await pool(Math.ceil(POINTS / 1000), 4, async (b) => {
    const metrics: WireMetric[] = [];
    for (let s = b * 1000; s < Math.min(POINTS, (b + 1) * 1000); s++) metrics.push({ key: "loss", value: 1 / (1 + s / 1000) + 0.05 * Math.sin(s / 50), timestamp: start + s, step: s });
    await client.logBatch(run.info.run_id, { metrics });
  });
  log(`seeded ${POINTS} points in ${fmt((nowMs() - ts) / 1000)} s`);
  return { exp, run: run.info.run_id };
}

/** Milliseconds from navigation start to a performance mark the UI sets. */
async function navigateUntilMark(page: Page, url: string, mark: string): Promise<number> {
  await page.goto(url, { waitUntil: "commit" });
  const handle = await page.waitForFunction((m) => performance.getEntriesByName(m)[0]?.startTime, mark, { timeout: 60_000 });
  return Number(await handle.jsonValue());
}

/**
 * The page-side scroll loop, as source text: code passed to page.evaluate as a function would carry the
 * helpers tsx's compiler adds to named functions (`__name`), which do not exist in the page.
 */
const SCROLL_LOOP = `(({ dx, dy, ms }) => new Promise((resolve, reject) => {
  const el = document.querySelector('[data-testid="runs-grid"]');
  if (!el) return reject(new Error("no runs grid"));
  const frames = [];
  let last = -1, t0 = -1;
  function step(now) {
    if (last >= 0) frames.push(now - last); else t0 = now;
    last = now;
    el.scrollTop += dy;
    el.scrollLeft += dx;
    // Bounce at the ends, so the loop keeps bringing new rows and columns into view.
    if (dy && el.scrollTop + el.clientHeight >= el.scrollHeight - 1) dy = -Math.abs(dy);
    if (dy && el.scrollTop <= 0) dy = Math.abs(dy);
    if (dx && el.scrollLeft + el.clientWidth >= el.scrollWidth - 1) dx = -Math.abs(dx);
    if (dx && el.scrollLeft <= 0) dx = Math.abs(dx);
    if (now - t0 < ms) requestAnimationFrame(step); else resolve(frames);
  }
  requestAnimationFrame(step);
}))`;

/** Frame times (ms) while a requestAnimationFrame loop scrolls the grid by `dx`, `dy` pixels a frame for `ms`. */
async function scrollFrames(page: Page, dx: number, dy: number, ms: number): Promise<number[]> {
  return (await page.evaluate(`${SCROLL_LOOP}(${JSON.stringify({ dx, dy, ms })})`)) as number[];
}

await main(async () => {
  ensureUiBuilt();
  const server = await startKeel({ dataDir: tempDir("ui") });
  const client = new KeelClient({ url: server.url });
  log(`seeding ${RUNS} runs × ${METRICS} metrics + ${PARAMS} params through log-batch`);
  const exp = await seedRuns(client);
  const chart = POINTS > 0 ? await seedLongMetric(client) : undefined;

  const browser = await launchBrowser({ viewport: { width: 1600, height: 1000 } });
  try {
    const runsUrl = `${server.url}/experiments/${exp}`;
    // Each load runs to the end (every page fetched) before the next starts: a closed tab's last request
    // would otherwise still hold the server while the next tab asks for its first rows.
    const load = async () => {
      const p = await browser.newPage();
      const ms = await navigateUntilMark(p, runsUrl, "keel:runs-table:first-rows");
      const search = await p.evaluate(`(() => { const e = performance.getEntriesByType("resource").find((r) => r.name.includes("/runs/search")); return e ? [e.startTime, e.responseEnd] : [0, 0]; })()`);
      await p.waitForSelector('[data-testid="runs-count"][data-complete="true"]', { timeout: 120_000 });
      await p.close();
      const [sent, received] = search as [number, number];
      return { ms, detail: `${fmt(ms)} (first page requested at ${fmt(sent)}, received at ${fmt(received)})` };
    };
    const cold = await load();
    const warm: number[] = [];
    for (let i = 0; i < LOADS; i++) {
      const w = await load();
      warm.push(w.ms);
      log(`first rows, warm load ${i + 1}: ${w.detail} ms`);
    }
    const coldMs = cold.ms;
    log(`first rows: cold ${cold.detail} ms`);
    figure("ui_runs_table_first_paint", median(warm), "ms", median(warm) / 1000, "target 1000 ms");
    figure("ui_runs_table_first_paint_cold", coldMs, "ms", coldMs / 1000, "target 1000 ms");

    const page = await browser.newPage();
    await page.goto(runsUrl);
    const t = nowMs();
    await page.waitForSelector('[data-testid="runs-count"][data-complete="true"]', { timeout: 120_000 });
    const count = await page.getByTestId("runs-count").textContent();
    log(`all pages loaded in ${fmt(nowMs() - t)} ms after load: "${count}"; columns ${await page.getByRole("grid").getAttribute("aria-colcount")}`);
    if (!count?.startsWith(RUNS.toLocaleString("en-US"))) throw new Error(`the table shows "${count}", expected ${RUNS} runs`);
    await scrollFrames(page, 0, 40, 500); // warm-up
    const vertical = await scrollFrames(page, 0, 96, 4000);
    const horizontal = await scrollFrames(page, 60, 0, 3000);
    const all = [...vertical, ...horizontal];
    const fps = (frames: number[]) => (1000 * frames.length) / frames.reduce((a, b) => a + b, 0);
    log(`scroll: vertical ${fmt(fps(vertical))} fps, horizontal ${fmt(fps(horizontal))} fps, frame p95 ${fmt(percentile(all, 95))} ms, max ${fmt(Math.max(...all))} ms`);
    figure("ui_runs_table_scroll_fps", fps(all), "fps", fps(all) / 50, "target 50 fps");
    figure("ui_runs_table_scroll_frame_p95", percentile(all, 95), "ms", percentile(all, 95) / 20, "target 20 ms (50 fps)");
    await page.close();

    if (chart) {
      const chartUrl = `${server.url}/experiments/${chart.exp}/runs/${chart.run}`;
      const times: number[] = [];
      for (let i = 0; i < LOADS; i++) {
        const p = await browser.newPage();
        times.push(await navigateUntilMark(p, chartUrl, "keel:chart:first-draw"));
        if (i === 0) log(`chart: ${await p.getByTestId("chart-caption").first().textContent()}`);
        await p.close();
      }
      log(`chart of ${POINTS} points drawn after ${times.map((x) => fmt(x)).join(", ")} ms`);
      // The server's share: the downsampling request alone.
      const compare: number[] = [];
      for (let i = 0; i < 3; i++) {
        const t = nowMs();
        await client.compareRuns({ runIds: [chart.run], metricKeys: ["loss"], maxPoints: 1000 });
        compare.push(nowMs() - t);
      }
      log(`of which POST /runs/compare (${POINTS} points → 1000) takes ${compare.map((x) => fmt(x)).join(", ")} ms`);
      figure("ui_chart_1m_points_render", median(times), "ms", median(times) / 300, "target 300 ms");
    }
  } finally {
    await browser.close();
    await server.stop();
  }
});

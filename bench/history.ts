/**
 * metrics/get-history of a 100,000-point metric over HTTP, all points fetched: in one response (Keel's
 * default max_results) and in the MLflow client's 25,000-point pages (page_token). p50/p95 over
 * KEEL_BENCH_HISTORY_REQUESTS (default 20) fetches, timed to the last byte of each response. Baselines:
 * the 150 ms target, and raw better-sqlite3 reads of the same rows from the same file in this run (in the
 * server's ORDER BY, in primary-key order, and the latter plus JSON in MLflow's shape: the floor for an HTTP answer).
 */
import { join } from "node:path";
import Database from "better-sqlite3";
import { figure, fmt, log, main, mlflow, nowMs, percentile, procCpuSeconds, procStatusMb, startKeel, tempDir } from "./lib.js";

const POINTS = 100_000;
const REQUESTS = Number(process.env.KEEL_BENCH_HISTORY_REQUESTS ?? 20);
const KEY = "train/loss";
const OTHER = "val/loss"; // a second key with as many points, so the read is a range of a bigger table
const TARGET_MS = 150;

async function timedText(url: string): Promise<{ ms: number; text: string }> {
  const t = nowMs();
  const res = await fetch(url);
  const text = await res.text();
  const ms = nowMs() - t;
  if (res.status !== 200) throw new Error(`GET ${url}: HTTP ${res.status}: ${text.slice(0, 300)}`);
  return { ms, text };
}

await main(async () => {
  const dir = tempDir("history");
  const server = await startKeel({ dataDir: dir });
  const api = mlflow(server.url);
  const { experiment_id } = (await api.post("experiments/create", { name: "bench-history" })) as { experiment_id: string };
  const { run } = (await api.post("runs/create", { experiment_id, run_name: "history", start_time: Date.now() })) as { run: { info: { run_id: string } } };
  const runId = run.info.run_id;

  // Seed: 100k points of KEY and of OTHER through log-batch, 500 + 500 per batch.
  const t0 = Date.now() - POINTS * 10;
  for (let start = 0; start < POINTS; start += 500) {
    const metrics = [];
    for (let step = start; step < start + 500; step++) {
      metrics.push({ key: KEY, value: 1 / (1 + step * 1e-3) + Math.sin(step) * 1e-3, timestamp: t0 + step * 10, step });
      metrics.push({ key: OTHER, value: 1.1 / (1 + step * 1e-3), timestamp: t0 + step * 10, step });
    }
    await api.post("runs/log-batch", { run_id: runId, metrics });
  }
  log(`history: seeded ${2 * POINTS} points`);

  const base = `${server.url}/api/2.0/mlflow/metrics/get-history?run_id=${runId}&metric_key=${encodeURIComponent(KEY)}`;

  // One response with every point.
  const single: number[] = [];
  let bytes = 0;
  let cpu0 = 0;
  for (let i = 0; i < REQUESTS + 2; i++) {
    if (i === 2) cpu0 = procCpuSeconds(server.pid);
    const { ms, text } = await timedText(base);
    if (i === 0) {
      const n = (JSON.parse(text) as { metrics: unknown[] }).metrics.length;
      if (n !== POINTS) throw new Error(`get-history returned ${n} points, expected ${POINTS}`);
      bytes = text.length;
    }
    if (i >= 2) single.push(ms); // two warm-up fetches
  }

  const singleCpu = ((procCpuSeconds(server.pid) - cpu0) * 1000) / REQUESTS;

  // The MLflow client's paging: max_results=25000, follow next_page_token.
  const paged: number[] = [];
  let pages = 0;
  for (let i = 0; i < REQUESTS + 2; i++) {
    if (i === 2) cpu0 = procCpuSeconds(server.pid);
    const t = nowMs();
    let token: string | undefined;
    let got = 0;
    pages = 0;
    do {
      const { text } = await timedText(`${base}&max_results=25000${token ? `&page_token=${encodeURIComponent(token)}` : ""}`);
      const body = JSON.parse(text) as { metrics?: unknown[]; next_page_token?: string };
      got += body.metrics?.length ?? 0;
      token = body.next_page_token;
      pages++;
    } while (token);
    if (got !== POINTS) throw new Error(`paged get-history returned ${got} points, expected ${POINTS}`);
    if (i >= 2) paged.push(nowMs() - t);
  }
  const pagedCpu = ((procCpuSeconds(server.pid) - cpu0) * 1000) / REQUESTS;
  const peakRss = procStatusMb(server.pid, "VmHWM");
  await server.stop();

  // Raw baselines on the same file: the server's ORDER BY (its last two terms are not the primary key's order,
  // so SQLite sorts), the primary key's own order (no sort: the floor), and the latter plus MLflow-shaped JSON.
  const db = new Database(join(dir, "keel.db"), { readonly: true });
  const where = "from metrics where run_uuid = ? and key = ?";
  const serverOrder = db.prepare(`select step, timestamp, value, is_nan ${where} order by step, timestamp, is_nan, value`);
  const pkOrder = db.prepare(`select step, timestamp, value, is_nan ${where} order by step, timestamp, value, is_nan`);
  const rawServerOrder: number[] = [];
  const rawRead: number[] = [];
  const rawJson: number[] = [];
  for (let i = 0; i < REQUESTS + 2; i++) {
    const t = nowMs();
    const n = serverOrder.all(runId, KEY).length;
    const t1 = nowMs();
    const rows = pkOrder.all(runId, KEY) as { step: number; timestamp: number; value: number; is_nan: number }[];
    const t2 = nowMs();
    const json = JSON.stringify({ metrics: rows.map((r) => ({ key: KEY, value: r.is_nan ? "NaN" : r.value, timestamp: r.timestamp, step: r.step })) });
    const t3 = nowMs();
    if (n !== POINTS || rows.length !== POINTS || json.length < 10) throw new Error(`raw read returned ${rows.length} rows`);
    if (i >= 2) {
      rawServerOrder.push(t1 - t);
      rawRead.push(t2 - t1);
      rawJson.push(t3 - t1);
    }
  }
  db.close();

  log(`history: one response is ${fmt(bytes / 1e6)} MB; paged fetch = ${pages} requests`);
  const rs = percentile(rawServerOrder, 50);
  const rr = percentile(rawRead, 50);
  const rj = percentile(rawJson, 50);
  figure("history_raw_sqlite_read_server_order_p50", rs, "ms", rs / TARGET_MS, `target ${TARGET_MS} ms (better-sqlite3, the server's ORDER BY: sorts)`);
  figure("history_raw_sqlite_read_pk_order_p50", rr, "ms", rr / TARGET_MS, `target ${TARGET_MS} ms (better-sqlite3, primary-key order: no sort)`);
  figure("history_raw_sqlite_read_json_p50", rj, "ms", rj / TARGET_MS, `target ${TARGET_MS} ms (baseline: PK-order read + JSON.stringify in MLflow's shape)`);
  for (const [name, xs, cpu] of [
    ["history_http_one_response", single, singleCpu],
    ["history_http_paged_25k", paged, pagedCpu],
  ] as const) {
    for (const p of [50, 95]) {
      const v = percentile(xs, p);
      figure(`${name}_p${p}`, v, "ms", v / TARGET_MS, `target ${TARGET_MS} ms; ${fmt(v / rj)}x the raw read+JSON p50 ${fmt(rj)} ms`);
    }
    // Server CPU per full fetch (all pages): what a dedicated core would take, robust to other load.
    figure(`${name}_server_cpu`, cpu, "ms", cpu / TARGET_MS, `target ${TARGET_MS} ms; ${fmt(cpu / rj)}x the raw read+JSON p50`);
  }
  figure("history_server_peak_rss", peakRss, "MB", peakRss / 300, "the 300 MB server RSS target set for ingest");
});

/**
 * runs/search over HTTP: N runs with 20 metrics and 20 params each, filter
 * `metrics.acc > 0.9 and params.model = 'x'`, order_by `metrics.acc DESC`, first page of max_results 1000,
 * about 2% of runs matching. p50 (and p95) over KEEL_BENCH_SEARCH_REQUESTS (default 30) requests, timed to
 * the last byte. At 10,000 runs (target 100 ms) and 2,000 runs (target 30 ms), on SQLite and on a fresh
 * Postgres database (created here, dropped afterwards; ANALYZEd after seeding, as autovacuum would).
 * Also GET /experiments/keys on the same runs (p50), against the distinct over the runs' rows it replaced.
 * Seeding (bench/search-data.ts) writes the rows create-run + log-batch would write, in bulk; its speed is not measured.
 *
 * Env: KEEL_BENCH_PG_URL (admin URL, default postgres://postgres@127.0.0.1:5432/postgres),
 *      KEEL_BENCH_SEARCH_SCALES (default "10000,2000").
 */
import { sql } from "kysely";
import { openDatabase } from "../src/db/database.js";
import { figure, fmt, freshPostgres, log, main, nowMs, percentile, postgresAvailable, procCpuSeconds, startKeel, tempDir } from "./lib.js";
import { FILTER, seed } from "./search-data.js";

const REQUESTS = Number(process.env.KEEL_BENCH_SEARCH_REQUESTS ?? 30);
const SCALES = (process.env.KEEL_BENCH_SEARCH_SCALES ?? "10000,2000").split(",").map(Number);

function target(runs: number): number {
  return runs <= 2000 ? 30 : 100;
}

async function measure(kind: "sqlite" | "postgres", runs: number): Promise<void> {
  const dir = tempDir(`search-${kind}-${runs}`);
  const pgdb = kind === "postgres" ? await freshPostgres(`search_${runs}`) : undefined;
  const ts = nowMs();
  const { experimentId, matches } = await seed(dir, pgdb?.url, runs);
  log(`search ${kind} ${runs}: seeded in ${fmt((nowMs() - ts) / 1000)} s, ${matches} matching runs`);
  const server = await startKeel({ dataDir: dir, databaseUrl: pgdb?.url });
  const body = JSON.stringify({ experiment_ids: [experimentId], filter: FILTER, order_by: ["metrics.acc DESC"], max_results: 1000 });
  const times: number[] = [];
  let cpu0 = 0;
  for (let i = 0; i < REQUESTS + 3; i++) {
    if (i === 3) cpu0 = procCpuSeconds(server.pid);
    const t = nowMs();
    const res = await fetch(`${server.url}/api/2.0/mlflow/runs/search`, { method: "POST", headers: { "content-type": "application/json" }, body });
    const text = await res.text();
    const ms = nowMs() - t;
    if (res.status !== 200) throw new Error(`runs/search: HTTP ${res.status}: ${text.slice(0, 300)}`);
    if (i === 0) {
      const out = JSON.parse(text) as { runs?: { data: { metrics?: { key: string; value: number }[]; params?: unknown[] } }[] };
      const got = out.runs ?? [];
      const accs = got.map((r) => r.data.metrics?.find((m) => m.key === "acc")?.value ?? Number.NaN);
      if (got.length !== matches) throw new Error(`runs/search returned ${got.length} runs, expected ${matches}`);
      if (accs.some((a, j) => !(a > 0.9) || (j > 0 && a > accs[j - 1]))) throw new Error("runs/search results are not filtered/ordered by metrics.acc DESC");
      if (got[0] && (got[0].data.metrics?.length !== 20 || got[0].data.params?.length !== 20)) throw new Error("runs/search runs lack their 20 metrics/params");
      log(`search ${kind} ${runs}: ${got.length} runs, ${fmt(text.length / 1024)} KiB per response`);
    }
    if (i >= 3) times.push(ms); // three warm-up requests
  }
  const cpu = ((procCpuSeconds(server.pid) - cpu0) * 1000) / REQUESTS;
  const keys = await keysListing(server.url, experimentId, dir, pgdb?.url);
  await server.stop();
  await pgdb?.drop();
  const tgt = target(runs);
  for (const p of [50, 95]) {
    const v = percentile(times, p);
    figure(`search_${kind}_${runs}_runs_p${p}`, v, "ms", v / tgt, `target ${tgt} ms`);
  }
  // Server (Node) CPU per request; on Postgres the database's own CPU is not included.
  figure(`search_${kind}_${runs}_runs_server_cpu`, cpu, "ms", cpu / tgt, `target ${tgt} ms${kind === "postgres" ? "; excludes Postgres' own CPU" : ""}`);
  figure(`experiment_keys_${kind}_${runs}_runs_p50`, keys.catalog, "ms", keys.catalog / keys.rows, `the distinct over the runs' rows it replaced, ${fmt(keys.rows)} ms in-process`);
}

/**
 * GET /experiments/keys (the runs table's autocomplete), answered from the key catalog, against the query it
 * replaced (a distinct over every run's metric, param and tag rows), run in this process on the same database.
 */
async function keysListing(url: string, experimentId: string, dataDir: string, databaseUrl: string | undefined): Promise<{ catalog: number; rows: number }> {
  const catalog: number[] = [];
  let listed = 0;
  for (let i = 0; i < REQUESTS + 3; i++) {
    const t = nowMs();
    const res = await fetch(`${url}/api/keel/v1/experiments/keys?experiment_ids=${experimentId}`);
    const body = (await res.json()) as { metrics: string[]; params: string[]; tags: string[] };
    if (i >= 3) catalog.push(nowMs() - t);
    if (res.status !== 200) throw new Error(`experiments/keys: HTTP ${res.status}`);
    listed = body.metrics.length + body.params.length + body.tags.length;
  }
  const database = await openDatabase({ dataDir, databaseUrl });
  const rows: number[] = [];
  try {
    for (let i = 0; i < 8; i++) {
      const t = nowMs();
      let n = 0;
      for (const table of ["latest_metrics", "params", "tags"]) {
        const r = await sql`select distinct k.key from ${sql.table(table)} k join runs r on r.run_uuid = k.run_uuid where r.experiment_id = ${Number(experimentId)} order by k.key`.execute(database.db);
        n += r.rows.length;
      }
      if (i >= 2) rows.push(nowMs() - t);
      if (n !== listed) throw new Error(`experiments/keys listed ${listed} keys, the runs' rows hold ${n}`);
    }
  } finally {
    await database.close();
  }
  return { catalog: percentile(catalog, 50), rows: percentile(rows, 50) };
}

await main(async () => {
  const withPg = await postgresAvailable();
  for (const runs of SCALES) {
    await measure("sqlite", runs);
    if (withPg) await measure("postgres", runs);
  }
  if (!withPg) throw new Error("Postgres figures skipped: Postgres unreachable");
});

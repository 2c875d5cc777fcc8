/**
 * Startup: time from spawning `node bin/keel.js server` on a fresh data dir (so migrations run) to the
 * first 200 from /health, polled every 5 ms; median of KEEL_BENCH_STARTUP_RUNS (default 5). Baselines: the
 * 1000 ms target, and a bare `node -e` http server started and polled the same way in this run (the floor
 * that Node itself sets on this machine).
 */
import { figure, fmt, freePort, log, main, median, spawnHttp, startKeel, tempDir } from "./lib.js";

const RUNS = Number(process.env.KEEL_BENCH_STARTUP_RUNS ?? 5);
const TARGET_MS = 1000;

await main(async () => {
  const bare: number[] = [];
  const keel: number[] = [];
  // Alternate the two so a burst of load on the machine hits both alike.
  for (let i = 0; i < RUNS; i++) {
    const port = await freePort();
    const b = await spawnHttp(
      ["-e", `require("node:http").createServer((q, s) => s.end("OK")).listen(${port}, "127.0.0.1")`],
      port,
      { pollMs: 5, label: "bare node http server" },
    );
    bare.push(b.startupMs);
    await b.stop();

    const s = await startKeel({ dataDir: tempDir("startup"), pollMs: 5 });
    keel.push(s.startupMs);
    await s.stop();
  }
  log(`startup: keel ${keel.map((x) => fmt(x, 0)).join(", ")} ms; bare node ${bare.map((x) => fmt(x, 0)).join(", ")} ms`);
  const k = median(keel);
  const n = median(bare);
  figure("startup_bare_node_http_median", n, "ms", n / TARGET_MS, `target ${TARGET_MS} ms (baseline: Node's own start-to-listening floor)`);
  figure("startup_keel_server_to_health_median", k, "ms", k / TARGET_MS, `target ${TARGET_MS} ms; ${fmt(k / n)}x the bare node http server ${fmt(n)} ms`);
});

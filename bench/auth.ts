/**
 * Auth overhead: log-batch throughput against `keel server --auth` with a non-admin user's API token
 * (token check, run → experiment → permission lookup, all per request) vs the same server without auth.
 * Both write the audit chain (it is always on). 4 concurrent keep-alive clients, 1000 metrics per batch;
 * the two servers take turns (off, on, off, on) so drift on a noisy machine hits both, best round counts.
 *
 * Env: KEEL_BENCH_AUTH_SECONDS (seconds per round, default 5).
 */
import { join } from "node:path";
import { figure, fmt, freePort, KEEL_BIN, type KeelServer, log, main, nowMs, procCpuSeconds, prng, spawnHttp, tempDir } from "./lib.js";

const CLIENTS = 4;
const STEPS = 100;
const KEYS = ["loss", "accuracy", "lr", "grad_norm", "val_loss", "val_accuracy", "f1", "gpu", "mem", "throughput"];
const SECONDS = Number(process.env.KEEL_BENCH_AUTH_SECONDS ?? 4);
const ROUNDS = Number(process.env.KEEL_BENCH_AUTH_ROUNDS ?? 4);
const ADMIN_PASSWORD = "bench-admin-password";

interface Target {
  label: string;
  server: KeelServer;
  headers: Record<string, string>;
  runIds: string[];
  next: number[];
}

async function call(base: string, headers: Record<string, string>, method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${base}${path}`, { method, headers: { ...headers, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${method} ${path}: HTTP ${res.status}: ${text.slice(0, 300)}`);
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

function body(runId: string, c: number, b: number): string {
  const rnd = prng(c * 7919 + b);
  const metrics = [];
  for (let s = 0; s < STEPS; s++) for (const key of KEYS) metrics.push({ key, value: rnd(), timestamp: 1_700_000_000_000 + b * STEPS + s, step: b * STEPS + s });
  return JSON.stringify({ run_id: runId, metrics, params: [], tags: [] });
}

async function start(dir: string, auth: boolean): Promise<Target> {
  const port = await freePort();
  const args = [KEEL_BIN, "server", "--data", dir, "--port", String(port), "--log-level", "warn", ...(auth ? ["--auth"] : [])];
  process.env.KEEL_ADMIN_PASSWORD = ADMIN_PASSWORD;
  const server = await spawnHttp(args, port, { label: `keel server${auth ? " --auth" : ""}` });
  let headers: Record<string, string> = {};
  if (auth) {
    const admin = { authorization: `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString("base64")}` };
    await call(server.url, admin, "POST", "/api/keel/v1/users", { username: "bench" });
    const { token } = (await call(server.url, admin, "POST", "/api/keel/v1/tokens", { username: "bench", name: "bench" })) as { token: string };
    headers = { authorization: `Bearer ${token}` };
  }
  const { experiment_id } = (await call(server.url, headers, "POST", "/api/2.0/mlflow/experiments/create", { name: "bench-auth" })) as { experiment_id: string };
  const runIds: string[] = [];
  for (let i = 0; i < CLIENTS; i++) {
    const r = (await call(server.url, headers, "POST", "/api/2.0/mlflow/runs/create", { experiment_id })) as { run: { info: { run_id: string } } };
    runIds.push(r.run.info.run_id);
  }
  return { label: auth ? "on" : "off", server, headers, runIds, next: new Array(CLIENTS).fill(0) };
}

/** One timed round: bodies serialized first, so the clients' CPU is only fetch. Points/s and points per server CPU-second. */
async function round(t: Target, seconds: number): Promise<{ rate: number; perCpu: number }> {
  const perClient = 400;
  const bodies = t.runIds.map((id, c) => Array.from({ length: perClient }, (_, i) => body(id, c, t.next[c] + i)));
  const stopAt = nowMs() + seconds * 1000;
  const cpu0 = procCpuSeconds(t.server.pid);
  const t0 = nowMs();
  let batches = 0;
  await Promise.all(
    bodies.map(async (list, c) => {
      for (let i = 0; i < list.length && nowMs() < stopAt; i++) {
        const res = await fetch(`${t.server.url}/api/2.0/mlflow/runs/log-batch`, { method: "POST", headers: { ...t.headers, "content-type": "application/json" }, body: list[i] });
        await res.arrayBuffer();
        if (res.status !== 200) throw new Error(`log-batch (auth ${t.label}): HTTP ${res.status}`);
        t.next[c]++;
        batches++;
      }
    }),
  );
  const points = batches * STEPS * KEYS.length;
  return { rate: points / ((nowMs() - t0) / 1000), perCpu: points / (procCpuSeconds(t.server.pid) - cpu0) };
}

await main(async () => {
  const dir = tempDir("auth");
  const off = await start(join(dir, "off"), false);
  const on = await start(join(dir, "on"), true);
  try {
    await round(off, 1);
    await round(on, 1);
    const rates: Record<string, number[]> = { off: [], on: [] };
    const perCpu: Record<string, number[]> = { off: [], on: [] };
    for (let i = 0; i < ROUNDS; i++) {
      // Alternate which goes first, so a slow patch of the machine does not always land on the same one.
      for (const t of i % 2 ? [on, off] : [off, on]) {
        const r = await round(t, SECONDS);
        rates[t.label].push(r.rate);
        perCpu[t.label].push(r.perCpu);
        log(`auth: round ${i + 1}, auth ${t.label}: ${fmt(r.rate)} points/s, ${fmt(r.perCpu)} points per server CPU-second`);
      }
    }
    const bestOff = Math.max(...rates.off);
    const bestOn = Math.max(...rates.on);
    const cpuOff = Math.max(...perCpu.off);
    const cpuOn = Math.max(...perCpu.on);
    figure("ingest_log_batch_auth_off", bestOff, "points/s", 1, `itself: the baseline, same server without --auth, best of ${ROUNDS} rounds`);
    figure("ingest_log_batch_auth_on_token", bestOn, "points/s", bestOn / bestOff, `auth off ${fmt(bestOff)} points/s, target >= 0.95x`);
    // CPU-normalised: what the server spends per point, robust when the load generator shares the cores.
    figure("ingest_log_batch_auth_on_per_server_cpu_second", cpuOn, "points/cpu-s", cpuOn / cpuOff, `auth off ${fmt(cpuOff)} points/cpu-s, target >= 0.95x`);
  } finally {
    await off.server.stop();
    await on.server.stop();
  }
});

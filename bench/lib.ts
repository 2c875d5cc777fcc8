/**
 * Shared benchmark plumbing: temp dirs, `keel server` child processes and Postgres databases that are
 * always cleaned up (normal exit, thrown error, Ctrl-C), /proc sampling, and the one output format:
 *
 *   name: value unit (ratio vs baseline)
 *
 * Figures go to stdout; progress and diagnostics go to stderr, so `npm run bench 2>/dev/null` is the report.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
/** The server under test; KEEL_BENCH_BIN=/path/to/bin/keel.js A/B-tests another build (e.g. a patched copy of dist/). */
export const KEEL_BIN = process.env.KEEL_BENCH_BIN ?? join(ROOT, "bin", "keel.js");
export const PG_ADMIN_URL = process.env.KEEL_BENCH_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

// ---------------------------------------------------------------------------------------------------
// Output

export function log(msg: string): void {
  process.stderr.write(`[bench] ${msg}\n`);
}

export function fmt(value: number, digits?: number): string {
  const d = digits ?? (Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2);
  return value.toFixed(d);
}

/** Prints one figure: `name: value unit (ratio vs what)`. `ratio` is value / baseline. */
export function figure(name: string, value: number, unit: string, ratio: number, vs: string, digits?: number): void {
  process.stdout.write(`${name}: ${fmt(value, digits)} ${unit} (${ratio.toFixed(2)}x vs ${vs})\n`);
}

export function percentile(samples: number[], p: number): number {
  const s = [...samples].sort((a, b) => a - b);
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[i];
}

export const median = (xs: number[]) => percentile(xs, 50);

export function nowMs(): number {
  return performance.now();
}

/** Deterministic PRNG (mulberry32): the server run and the raw baseline regenerate identical rows. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---------------------------------------------------------------------------------------------------
// Cleanup: everything a script creates is registered here and undone in reverse order.

type Cleanup = { label: string; run: () => Promise<void> | void; sync?: () => void };
const cleanups: Cleanup[] = [];
const children = new Set<ChildProcess>();

function addCleanup(c: Cleanup): () => void {
  cleanups.push(c);
  return () => {
    const i = cleanups.indexOf(c);
    if (i >= 0) cleanups.splice(i, 1);
  };
}

async function runCleanups(): Promise<void> {
  while (cleanups.length) {
    const c = cleanups.pop()!;
    try {
      await c.run();
    } catch (err) {
      log(`cleanup '${c.label}' failed: ${(err as Error).message}`);
    }
  }
}

// Last resort when the process exits without running the async cleanups (process.exit, fatal error):
// kill children, remove dirs, drop databases — all synchronously.
process.on("exit", () => {
  for (const child of children) {
    try {
      child.kill("SIGKILL");
    } catch {}
  }
  for (const c of cleanups.reverse()) {
    try {
      c.sync?.();
    } catch {}
  }
});

let interruptedAt = 0;
function installSignalHandlers(): void {
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    process.on(sig, () => {
      // Ctrl-C reaches this process both from the terminal and forwarded by run-all: a repeat within a
      // second is the same request; a later one means "stop now" (the exit hook still cleans up synchronously).
      if (interruptedAt) {
        if (Date.now() - interruptedAt > 1000) process.exit(130);
        return;
      }
      interruptedAt = Date.now();
      log(`${sig}: cleaning up`);
      // Work still in flight (a seeding connection, a request) may fail as its database or server goes away.
      process.on("uncaughtException", (err) => log(`ignored during cleanup: ${err.message}`));
      process.on("unhandledRejection", (err) => log(`ignored during cleanup: ${(err as Error)?.message ?? err}`));
      void runCleanups().finally(() => process.exit(130));
    });
  }
}

/** Runs a benchmark script's body, then always cleans up; a failure sets a non-zero exit code. */
export async function main(fn: () => Promise<void>): Promise<void> {
  installSignalHandlers();
  try {
    ensureBuilt();
    await fn();
  } catch (err) {
    process.exitCode = 1;
    if (!interruptedAt) log(`FAILED: ${(err as Error).stack ?? err}`);
  } finally {
    await runCleanups();
  }
}

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `keel-bench-${prefix}-`));
  const rm = () => rmSync(dir, { recursive: true, force: true });
  addCleanup({ label: `rm ${dir}`, run: rm, sync: rm });
  return dir;
}

// ---------------------------------------------------------------------------------------------------
// Build: the server under test is dist/; rebuild when any src file is newer.

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

let buildChecked = false;
export function ensureBuilt(): void {
  if (buildChecked) return;
  buildChecked = true;
  const entry = join(ROOT, "dist", "keel.mjs");
  if (existsSync(entry) && statSync(entry).mtimeMs >= newestMtime(join(ROOT, "src"))) return;
  log("dist/ is missing or older than src/: running npm run build");
  const r = spawnSync("npm", ["run", "build"], { cwd: ROOT, stdio: ["ignore", process.stderr, process.stderr] });
  if (r.status === 0) return;
  // tsc still emits on type errors; a half-edited tree should not stop a benchmark of what compiled. But the
  // build script stops before bundling when tsc fails, and the server runs the bundle: make it from src/.
  const b = spawnSync(process.execPath, [join(ROOT, "scripts", "bundle.mjs")], { cwd: ROOT, stdio: ["ignore", process.stderr, process.stderr] });
  if (b.status !== 0 || !existsSync(entry)) throw new Error("npm run build failed and so did bundling src/ into dist/keel.mjs");
  log("WARNING: npm run build reported type errors; benchmarking the bundle of src/ as it is");
}

// ---------------------------------------------------------------------------------------------------
// Postgres: a fresh database per figure group, dropped afterwards.

async function pgAdmin(sqlText: string): Promise<void> {
  const c = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 3000 });
  await c.connect();
  try {
    await c.query(sqlText);
  } finally {
    await c.end();
  }
}

export async function postgresAvailable(): Promise<boolean> {
  try {
    await pgAdmin("select 1");
    return true;
  } catch (err) {
    log(`Postgres unreachable at ${PG_ADMIN_URL} (${(err as Error).message}); set KEEL_BENCH_PG_URL to an admin URL`);
    return false;
  }
}

export async function freshPostgres(tag: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `keel_bench_${tag}_${process.pid}_${Date.now().toString(36)}`;
  await pgAdmin(`create database ${name}`);
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  const dropSql = `drop database if exists ${name} with (force)`;
  let dropped = false;
  const drop = async () => {
    if (dropped) return;
    dropped = true;
    await pgAdmin(dropSql);
  };
  const remove = addCleanup({
    label: `drop database ${name}`,
    run: drop,
    sync: () => {
      if (dropped) return;
      const script = `const pg=require(${JSON.stringify(join(ROOT, "node_modules", "pg"))});const c=new pg.Client(${JSON.stringify(PG_ADMIN_URL)});c.connect().then(()=>c.query(${JSON.stringify(dropSql)})).finally(()=>c.end())`;
      spawnSync(process.execPath, ["-e", script], { stdio: "ignore", timeout: 10_000 });
    },
  });
  return {
    url: url.toString(),
    drop: async () => {
      await drop();
      remove();
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// keel server as a child process

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once("error", rej);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

export interface KeelServer {
  url: string;
  pid: number;
  child: ChildProcess;
  /** Milliseconds from spawn to the first 200 from /health. */
  startupMs: number;
  stop(): Promise<void>;
}

export interface ServerOptions {
  dataDir: string;
  databaseUrl?: string;
  /** Extra node flags for the server process, e.g. --cpu-prof. */
  nodeArgs?: string[];
  /** Poll interval for /health while starting. */
  pollMs?: number;
  timeoutMs?: number;
}

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((res) => {
    const t = setTimeout(() => res(false), ms);
    child.once("exit", () => {
      clearTimeout(t);
      res(true);
    });
  });
}

/** Spawns a process and waits until GET `healthPath` answers 200. Shared by keel and the bare-node startup baseline. */
export async function spawnHttp(
  args: string[],
  port: number,
  opts: { pollMs?: number; timeoutMs?: number; healthPath?: string; label: string },
): Promise<KeelServer> {
  const t0 = nowMs();
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NODE_ENV: "production" } });
  children.add(child);
  let output = "";
  const keep = (d: Buffer) => {
    output = (output + d.toString()).slice(-8000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      if (!(await waitExit(child, 15_000))) {
        child.kill("SIGKILL");
        await waitExit(child, 5_000);
      }
    }
    children.delete(child);
    remove();
  };
  const remove = addCleanup({ label: `stop ${opts.label} (pid ${child.pid})`, run: stop, sync: () => child.kill("SIGKILL") });
  const url = `http://127.0.0.1:${port}`;
  const deadline = t0 + (opts.timeoutMs ?? 30_000);
  const health = `${url}${opts.healthPath ?? "/health"}`;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${opts.label} exited during startup (code ${child.exitCode}, signal ${child.signalCode}):\n${output}`);
    }
    try {
      const res = await fetch(health);
      await res.arrayBuffer();
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (nowMs() > deadline) {
      await stop();
      throw new Error(`${opts.label} did not become healthy within ${opts.timeoutMs ?? 30_000} ms:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 20));
  }
  return { url, pid: child.pid!, child, startupMs: nowMs() - t0, stop };
}

export async function startKeel(opts: ServerOptions): Promise<KeelServer> {
  const port = await freePort();
  const args = [...(opts.nodeArgs ?? []), KEEL_BIN, "server", "--data", opts.dataDir, "--port", String(port), "--log-level", "warn"];
  if (opts.databaseUrl) args.push("--database-url", opts.databaseUrl);
  if (process.env.KEEL_BENCH_CPU_PROF) {
    // KEEL_BENCH_CPU_PROF=/some/dir writes a .cpuprofile per server process (open in Chrome DevTools).
    args.unshift("--cpu-prof", "--cpu-prof-dir", process.env.KEEL_BENCH_CPU_PROF);
  }
  return spawnHttp(args, port, { label: "keel server", pollMs: opts.pollMs, timeoutMs: opts.timeoutMs });
}

// ---------------------------------------------------------------------------------------------------
// /proc sampling (Linux)

/** A field of /proc/<pid>/status in MB (VmRSS, VmHWM), or NaN when unavailable. */
export function procStatusMb(pid: number, field: "VmRSS" | "VmHWM"): number {
  try {
    const m = readFileSync(`/proc/${pid}/status`, "utf8").match(new RegExp(`^${field}:\\s+(\\d+) kB`, "m"));
    return m ? Number(m[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

const CLK_TCK = 100;
/** User+system CPU seconds consumed so far by a process. */
export function procCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return Number.NaN;
  }
}

// ---------------------------------------------------------------------------------------------------
// HTTP helpers (fetch keeps connections alive)

export async function call(base: string, method: "GET" | "POST", path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${method} ${path}: HTTP ${res.status}: ${text.slice(0, 500)}`);
  return text ? JSON.parse(text) : {};
}

export const mlflow = (base: string) => ({
  post: (path: string, body: unknown) => call(base, "POST", `/api/2.0/mlflow/${path}`, body) as Promise<Record<string, unknown>>,
  get: (path: string, query: Record<string, string | number>) => {
    const q = new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)]));
    return call(base, "GET", `/api/2.0/mlflow/${path}?${q}`) as Promise<Record<string, unknown>>;
  },
});

export async function createExperimentAndRuns(base: string, name: string, runs: number): Promise<{ experimentId: string; runIds: string[] }> {
  const api = mlflow(base);
  const { experiment_id } = (await api.post("experiments/create", { name })) as { experiment_id: string };
  const runIds: string[] = [];
  for (let i = 0; i < runs; i++) {
    const r = (await api.post("runs/create", { experiment_id, run_name: `bench-${i}`, start_time: Date.now() })) as { run: { info: { run_id: string } } };
    runIds.push(r.run.info.run_id);
  }
  return { experimentId: experiment_id, runIds };
}

/**
 * `npm run bench`: every benchmark in sequence, each in its own process (so one's memory or JIT state
 * cannot colour the next). Figures print to stdout as `name: value unit (ratio vs baseline)`; progress to
 * stderr. Exits non-zero if any script failed, after running the rest.
 *
 *   npm run bench                      # all
 *   npm run bench -- ingest search     # a subset
 */
import { spawn } from "node:child_process";
import { loadavg } from "node:os";
import { join } from "node:path";
import { ensureBuilt, fmt, log, ROOT } from "./lib.js";

const ALL = ["ingest", "history", "search", "startup", "artifacts", "auth", "serving", "ui"];
const wanted = process.argv.slice(2).filter((a) => !a.startsWith("-"));
const unknown = wanted.filter((w) => !ALL.includes(w));
if (unknown.length) {
  console.error(`unknown benchmark(s): ${unknown.join(", ")}; choose from ${ALL.join(", ")}`);
  process.exit(2);
}
const scripts = wanted.length ? ALL.filter((s) => wanted.includes(s)) : ALL;

let current: ReturnType<typeof spawn> | undefined;
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  // Let the running script clean up (its own handler), then stop.
  process.on(sig, () => {
    current?.kill(sig);
    process.exitCode = 130;
  });
}

ensureBuilt();
const failed: string[] = [];
const t0 = Date.now();
for (const name of scripts) {
  if (process.exitCode === 130) break;
  log(`${name}: starting (load average ${loadavg().map((x) => fmt(x)).join(" ")})`);
  const ts = Date.now();
  const code = await new Promise<number>((resolve) => {
    current = spawn(process.execPath, ["--import", "tsx", join(ROOT, "bench", `${name}.ts`)], { cwd: ROOT, stdio: "inherit" });
    current.on("exit", (c, s) => resolve(c ?? (s ? 1 : 0)));
  });
  current = undefined;
  log(`${name}: ${code === 0 ? "done" : `FAILED (exit ${code})`} in ${fmt((Date.now() - ts) / 1000)} s`);
  if (code !== 0) failed.push(name);
}
log(`all benchmarks: ${fmt((Date.now() - t0) / 1000)} s${failed.length ? `; failed: ${failed.join(", ")}` : ""}`);
if (failed.length && process.exitCode !== 130) process.exitCode = 1;

import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The real CLI, as users run it: bin/keel.js → dist/keel.mjs (bundled by `npm run build`). */
export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const KEEL_BIN = join(ROOT, "bin", "keel.js");
export const DIST_ENTRY = join(ROOT, "dist", "keel.mjs");

/** Fails with a clear message when the CLI has not been compiled; warns when src/ is newer than dist/. */
export function requireBuiltCli(): void {
  if (!existsSync(DIST_ENTRY)) {
    throw new Error(`${DIST_ENTRY} is missing: these tests run the compiled CLI. Run \`npm run build\` first.`);
  }
  const built = statSync(DIST_ENTRY).mtimeMs;
  const newer = newestTs(join(ROOT, "src"));
  if (newer.mtime > built) console.warn(`warning: ${newer.path} is newer than dist/: run \`npm run build\` so the CLI tests see current code.`);
}

function newestTs(dir: string): { path: string; mtime: number } {
  let best = { path: "", mtime: 0 };
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    const cand = e.isDirectory() ? newestTs(p) : e.name.endsWith(".ts") ? { path: p, mtime: statSync(p).mtimeMs } : best;
    if (cand.mtime > best.mtime) best = cand;
  }
  return best;
}

/** The parent's environment without KEEL_* settings (so a developer's shell can't steer the tests), plus `extra`. */
export function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("KEEL_")) env[k] = v;
  return { ...env, ...extra };
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `node bin/keel.js …args` to completion (killed after timeoutMs). */
export function runCli(args: string[], opts: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [KEEL_BIN, ...args], { cwd: ROOT, env: cliEnv(opts.env), stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 30_000);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** A port that was free a moment ago (listen on 0, read it, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const addr = s.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

// biome-ignore lint/suspicious/noExplicitAny: log lines are arbitrary JSON, asserted field by field
export type LogLine = Record<string, any>;

/** A long-running CLI process (keel server) whose stdout is read as JSON log lines. */
export class CliProcess {
  readonly proc: ChildProcess;
  readonly lines: string[] = [];
  stderr = "";
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private exit?: { code: number | null; signal: NodeJS.Signals | null };
  private waiters: (() => void)[] = [];
  private partial = "";

  constructor(args: string[], env: Record<string, string> = {}) {
    this.proc = spawn(process.execPath, [KEEL_BIN, ...args], { cwd: ROOT, env: cliEnv(env), stdio: ["ignore", "pipe", "pipe"] });
    this.proc.stdout?.on("data", (d: Buffer) => {
      const parts = (this.partial + d.toString()).split("\n");
      this.partial = parts.pop() ?? "";
      this.lines.push(...parts.filter((l) => l !== ""));
      this.wake();
    });
    this.proc.stderr?.on("data", (d: Buffer) => {
      this.stderr += d.toString();
    });
    this.exited = new Promise((resolve) => {
      this.proc.on("close", (code, signal) => {
        if (this.partial) this.lines.push(this.partial);
        this.partial = "";
        this.exit = { code, signal };
        this.wake();
        resolve(this.exit);
      });
    });
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Every stdout line parsed as JSON (throws, naming the line, if one is not JSON). */
  json(): LogLine[] {
    return this.lines.map((l) => {
      try {
        return JSON.parse(l) as LogLine;
      } catch {
        throw new Error(`stdout line is not JSON: ${l}`);
      }
    });
  }

  /** Waits for a JSON stdout line matching `pred`; fails if the process exits first or time runs out. */
  async waitForLine(pred: (l: LogLine) => boolean, what: string, timeoutMs = 20_000): Promise<LogLine> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (const l of this.lines) {
        let parsed: LogLine | undefined;
        try {
          parsed = JSON.parse(l) as LogLine;
        } catch {
          parsed = undefined;
        }
        if (parsed && pred(parsed)) return parsed;
      }
      if (this.exit) throw new Error(`keel exited (${JSON.stringify(this.exit)}) before logging ${what}.\nstdout:\n${this.lines.join("\n")}\nstderr:\n${this.stderr}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}.\nstdout:\n${this.lines.join("\n")}\nstderr:\n${this.stderr}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Kills the process if it is still running (test cleanup). */
  async stop(): Promise<void> {
    if (!this.exit) this.proc.kill("SIGKILL");
    await this.exited;
  }
}

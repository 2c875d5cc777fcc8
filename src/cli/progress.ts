import cliProgress from "cli-progress";
import { formatBytes } from "./remote.js";

/**
 * Progress on stderr for long operations: a cli-progress bar when stderr is a terminal, otherwise one plain
 * line per 10% (logs and CI stay readable), or nothing at all with `enabled: false` (--no-progress).
 */
export interface Progress {
  /** Sets the amount done (and optionally what is being worked on). */
  update(done: number, detail?: string): void;
  increment(by?: number, detail?: string): void;
  setTotal(total: number): void;
  stop(): void;
}

export interface ProgressOptions {
  /** Show done/total as byte sizes. */
  bytes?: boolean;
  enabled?: boolean;
  /** Where to draw (tests); default process.stderr. */
  stream?: NodeJS.WriteStream;
}

export function startProgress(label: string, total: number, opts: ProgressOptions = {}): Progress {
  const stream = opts.stream ?? process.stderr;
  if (opts.enabled === false) return quiet();
  const fmt = (n: number) => (opts.bytes ? formatBytes(n) : String(n));
  return stream.isTTY ? barProgress(label, total, fmt, stream) : lineProgress(label, total, fmt, stream);
}

function quiet(): Progress {
  return { update() {}, increment() {}, setTotal() {}, stop() {} };
}

function barProgress(label: string, total: number, fmt: (n: number) => string, stream: NodeJS.WriteStream): Progress {
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {percentage}% | {done}/{all} | {detail}`,
      stream,
      hideCursor: true,
      barsize: 30,
      fps: 10,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  let value = 0;
  let detail = "";
  let max = total;
  const payload = () => ({ done: fmt(value), all: fmt(max), detail });
  bar.start(Math.max(max, 1), 0, payload());
  return {
    update(done, d) {
      value = done;
      if (d !== undefined) detail = d;
      bar.update(Math.min(value, Math.max(max, 1)), payload());
    },
    increment(by = 1, d) {
      this.update(value + by, d);
    },
    setTotal(t) {
      max = t;
      bar.setTotal(Math.max(t, 1));
      bar.update(Math.min(value, Math.max(max, 1)), payload());
    },
    stop() {
      if (max === 0) bar.update(1, payload());
      bar.stop();
    },
  };
}

function lineProgress(label: string, total: number, fmt: (n: number) => string, stream: NodeJS.WriteStream): Progress {
  let value = 0;
  let max = total;
  let printed = -1;
  let stopped = false;
  const print = (force = false) => {
    const pct = max > 0 ? Math.min(100, Math.floor((value / max) * 100)) : 100;
    const step = Math.floor(pct / 10) * 10;
    if (!force && step <= printed) return;
    if (force && pct === printed) return;
    printed = force ? pct : step;
    stream.write(`${label}: ${force ? pct : step}% (${fmt(value)}/${fmt(max)})\n`);
  };
  return {
    update(done) {
      value = done;
      if (max > 0 && value < max) print();
    },
    increment(by = 1) {
      this.update(value + by);
    },
    setTotal(t) {
      max = t;
    },
    stop() {
      if (stopped) return;
      stopped = true;
      print(true);
    },
  };
}

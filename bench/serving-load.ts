/**
 * A lean HTTP/1.1 load generator for the serving benchmark: raw keep-alive TCP connections, each request
 * pre-serialized once (request line, headers and body in one Buffer), responses parsed just enough to find
 * their end (status line + Content-Length). No pipelining: one request in flight per connection. It costs a
 * few microseconds of CPU per request, so on a 2-core machine the server under test, not the client, is
 * what runs out of CPU (node:http's client with an Agent costs ~5x more per request; undici/fetch more).
 *
 *   closedLoop: N connections, each sends its next request as soon as the previous answer arrives.
 *   openLoop:   requests arrive at a fixed rate whether or not earlier ones were answered; each one's latency
 *               is counted from its scheduled arrival time (no coordinated omission).
 */
import { connect, type Socket } from "node:net";
import { nowMs } from "./lib.js";

export interface Target {
  port: number;
  path: string;
  body: Buffer;
  headers?: Record<string, string>;
}

/** The whole request as bytes, sent with one write. */
export function requestBytes(t: Target): Buffer {
  const headers = { host: "127.0.0.1", "content-type": "application/json", ...(t.headers ?? {}), "content-length": String(t.body.length) };
  const head = `POST ${t.path} HTTP/1.1\r\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join("")}\r\n`;
  return Buffer.concat([Buffer.from(head, "latin1"), t.body]);
}

const CRLF2 = Buffer.from("\r\n\r\n");

/** One keep-alive connection that sends a request and resolves with the status once the whole answer is in. */
class Conn {
  private socket: Socket;
  private buf: Buffer | undefined;
  private want = -1; // total bytes of the current answer, once the header is parsed
  private status = 0;
  private bodyAt = 0;
  private pending: { resolve: (status: number) => void; reject: (err: Error) => void } | undefined;
  private closed: Error | undefined;
  /** Body of the last answer (kept only when asked; small answers only). */
  lastBody: Buffer | undefined;
  keepBody = false;
  /** Bodies kept for these statuses only (the first of each refusal), so a failure can say what the server said. */
  keepBodyOf: ((status: number) => boolean) | undefined;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on("data", (d: Buffer) => this.onData(d));
    const fail = (err: Error) => {
      this.closed = err;
      const p = this.pending;
      this.pending = undefined;
      p?.reject(err);
    };
    socket.on("error", fail);
    socket.on("close", () => fail(new Error("connection closed by the server")));
  }

  static open(port: number): Promise<Conn> {
    return new Promise((resolve, reject) => {
      const s = connect({ host: "127.0.0.1", port }, () => {
        s.off("error", reject);
        resolve(new Conn(s));
      });
      s.once("error", reject);
    });
  }

  send(req: Buffer): Promise<number> {
    if (this.closed) return Promise.reject(this.closed);
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.socket.write(req);
    });
  }

  private onData(d: Buffer): void {
    this.buf = this.buf ? Buffer.concat([this.buf, d]) : d;
    if (this.want < 0) {
      const end = this.buf.indexOf(CRLF2);
      if (end < 0) return;
      const head = this.buf.subarray(0, end).toString("latin1");
      this.status = Number(head.slice(9, 12));
      const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
      if (!m) {
        const err = new Error(`answer without Content-Length (status ${this.status}): ${head.slice(0, 200)}`);
        this.socket.destroy(err);
        return;
      }
      this.bodyAt = end + 4;
      this.want = end + 4 + Number(m[1]);
    }
    if (this.buf.length < this.want) return;
    if (this.keepBody || this.keepBodyOf?.(this.status)) this.lastBody = Buffer.from(this.buf.subarray(this.bodyAt, this.want));
    this.buf = undefined;
    this.want = -1;
    const p = this.pending;
    this.pending = undefined;
    p?.resolve(this.status);
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Sends one request on a fresh connection and returns status and body (setup calls, sanity checks). */
export async function once(t: Target): Promise<{ status: number; body: Buffer }> {
  const c = await Conn.open(t.port);
  c.keepBody = true;
  try {
    const status = await c.send(requestBytes(t));
    return { status, body: c.lastBody ?? Buffer.alloc(0) };
  } finally {
    c.close();
  }
}

export interface LoadResult {
  /** Answers with a 2xx per second over the measured window. */
  rps: number;
  ok: number;
  errors: number;
  /** Status codes other than 2xx, counted. */
  statuses: Record<number, number>;
  /** The first answer's body (up to 300 characters) for each status other than 2xx; for 0 (no answer), the error. */
  firstBodies: Record<number, string>;
  seconds: number;
  /** Latency samples in ms (every request of the measured window, up to a cap). */
  latencies: number[];
  /** Client process CPU seconds during the measured window. */
  clientCpu: number;
}

const MAX_SAMPLES = 2_000_000;

/** Connections that copy an answer's body only while it is the first of its status (not one copy per 429). */
function openAll(port: number, n: number, firstBodies: Record<number, string>): Promise<Conn[]> {
  const keep = (status: number) => (status < 200 || status >= 300) && firstBodies[status] === undefined;
  return Promise.all(
    Array.from({ length: n }, async () => {
      const c = await Conn.open(port);
      c.keepBodyOf = keep;
      return c;
    }),
  );
}

/** Counts a non-2xx answer (0: none came, `err` says why), keeping the first body of each status. */
function countRefusal(c: Conn, status: number, statuses: Record<number, number>, firstBodies: Record<number, string>, err?: unknown): void {
  statuses[status] = (statuses[status] ?? 0) + 1;
  if (firstBodies[status] === undefined) firstBodies[status] = status === 0 ? String((err as Error | undefined)?.message ?? err) : (c.lastBody?.toString("utf8").slice(0, 300) ?? "");
}

/**
 * Closed loop: `connections` keep-alive connections, each sending `requests[i % n]` back to back; a warm-up
 * of `warmupMs` (not counted), then `durationMs` measured. Requests are rotated so identical bodies do not
 * all hit one connection.
 */
export async function closedLoop(opts: {
  port: number;
  requests: Buffer[];
  connections: number;
  warmupMs: number;
  durationMs: number;
  /** Called when the measured window starts (e.g. to read the server's CPU time). */
  onMeasure?: () => void;
  /** Ends the run early once this answers true (checked before each request). */
  until?: () => boolean;
}): Promise<LoadResult> {
  const firstBodies: Record<number, string> = {};
  const conns = await openAll(opts.port, opts.connections, firstBodies);
  const t0 = nowMs();
  const measureFrom = t0 + opts.warmupMs;
  const stopAt = measureFrom + opts.durationMs;
  let ok = 0;
  let errors = 0;
  const statuses: Record<number, number> = {};
  const latencies: number[] = [];
  let cpu0: NodeJS.CpuUsage | undefined;
  const cpuTimer = setTimeout(() => {
    cpu0 = process.cpuUsage();
    opts.onMeasure?.();
  }, opts.warmupMs);
  let k = 0;
  try {
    await Promise.all(
      conns.map(async (c, ci) => {
        let i = ci;
        for (;;) {
          const start = nowMs();
          if (start >= stopAt || opts.until?.()) return;
          const status = await c.send(opts.requests[i++ % opts.requests.length]);
          const end = nowMs();
          if (start < measureFrom) continue;
          if (status >= 200 && status < 300) ok++;
          else {
            errors++;
            countRefusal(c, status, statuses, firstBodies);
          }
          if (k++ < MAX_SAMPLES) latencies.push(end - start);
        }
      }),
    );
  } finally {
    clearTimeout(cpuTimer);
    for (const c of conns) c.close();
  }
  const seconds = opts.durationMs / 1000;
  const cu = cpu0 ? process.cpuUsage(cpu0) : { user: 0, system: 0 };
  return { rps: ok / seconds, ok, errors, statuses, firstBodies, seconds, latencies, clientCpu: (cu.user + cu.system) / 1e6 };
}

/**
 * Open loop: requests arrive every 1000/rate ms for `durationMs` (after `warmupMs` at the same rate, not
 * counted), each sent on a free connection of a pool of `connections` (waiting for one if all are busy:
 * that wait counts in its latency, as a real client's would). Latency runs from the scheduled arrival.
 */
export async function openLoop(opts: { port: number; requests: Buffer[]; rate: number; connections: number; warmupMs: number; durationMs: number }): Promise<LoadResult & { late: number }> {
  const firstBodies: Record<number, string> = {};
  const conns = await openAll(opts.port, opts.connections, firstBodies);
  const free = [...conns];
  const waiting: number[] = []; // scheduled times of arrivals with no free connection yet
  const interval = 1000 / opts.rate;
  const t0 = nowMs();
  const measureFrom = t0 + opts.warmupMs;
  const stopAt = measureFrom + opts.durationMs;
  let ok = 0;
  let errors = 0;
  let late = 0;
  const statuses: Record<number, number> = {};
  const latencies: number[] = [];
  let inFlight = 0;
  let i = 0;
  let cpu0: NodeJS.CpuUsage | undefined;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  let scheduling = true;

  const dispatch = (scheduled: number) => {
    const c = free.pop();
    if (!c) {
      waiting.push(scheduled);
      return;
    }
    inFlight++;
    c.send(opts.requests[i++ % opts.requests.length]).then(
      (status) => finish(c, scheduled, status),
      (err: unknown) => finish(c, scheduled, 0, err),
    );
  };
  const finish = (c: Conn, scheduled: number, status: number, err?: unknown) => {
    inFlight--;
    const end = nowMs();
    if (scheduled >= measureFrom && scheduled < stopAt) {
      if (status >= 200 && status < 300) ok++;
      else {
        errors++;
        countRefusal(c, status, statuses, firstBodies, err);
      }
      if (latencies.length < MAX_SAMPLES) latencies.push(end - scheduled);
    }
    free.push(c);
    const next = waiting.shift();
    if (next !== undefined) dispatch(next);
    else if (!scheduling && inFlight === 0) done();
  };

  let n = 0; // arrivals scheduled so far
  await new Promise<void>((resolveSchedule) => {
    const tick = () => {
      const now = nowMs();
      if (!cpu0 && now >= measureFrom) cpu0 = process.cpuUsage();
      // Every arrival due by now goes out (timers fire late under load; arrivals keep their scheduled time).
      for (;;) {
        const at = t0 + n * interval;
        if (at > now || at >= stopAt) break;
        if (now - at > 5 && at >= measureFrom) late++;
        n++;
        dispatch(at);
      }
      if (t0 + n * interval >= stopAt) {
        resolveSchedule();
        return;
      }
      // A timer, not setImmediate: spinning would take a core from the server. Timers are ~1 ms apart, so
      // arrivals go out in bursts of rate/1000 at most.
      setTimeout(tick, Math.max(0, t0 + n * interval - nowMs()));
    };
    tick();
  });
  scheduling = false;
  if (inFlight === 0 && waiting.length === 0) done();
  await finished;
  for (const c of conns) c.close();
  const cu = cpu0 ? process.cpuUsage(cpu0) : { user: 0, system: 0 };
  const seconds = opts.durationMs / 1000;
  return { rps: ok / seconds, ok, errors, statuses, firstBodies, seconds, latencies, clientCpu: (cu.user + cu.system) / 1e6, late };
}

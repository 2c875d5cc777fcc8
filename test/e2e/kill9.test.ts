/**
 * Principle 4, "nothing acknowledged is lost": a real `keel server` process takes a sustained log-batch
 * load from several clients, is killed with SIGKILL mid-load, and is restarted on the same data. Every
 * batch that was answered 200 must be there, whole; a batch in flight at the kill is all there or not at all.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dbKind, freshDb, type TestDb } from "../helpers/app.js";
import { CliProcess, freePort, requireBuiltCli } from "../helpers/cli.js";

const CLIENTS = 6;
const POINTS = 100;
/** Kill once the server has acknowledged this many batches (all clients together)... */
const KILL_AFTER_ACKS = 120;
/** ...or after this long, whichever comes first. */
const KILL_AFTER_MS = 8000;

let db: TestDb;
let port: number;
let server: CliProcess | undefined;

function serverArgs(): string[] {
  const args = ["server", "--data", db.dataDir, "--port", String(port), "--log-level", "warn"];
  return db.databaseUrl ? [...args, "--database-url", db.databaseUrl] : args;
}

/** Starts `keel server` and waits until /health answers. */
async function start(): Promise<CliProcess> {
  const p = new CliProcess(serverArgs());
  let exited = false;
  void p.exited.then(() => {
    exited = true;
  });
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exited) throw new Error(`keel server exited before becoming healthy.\nstdout:\n${p.lines.join("\n")}\nstderr:\n${p.stderr}`);
    if (Date.now() > deadline) {
      await p.stop();
      throw new Error(`keel server did not answer /health within 30 s.\nstderr:\n${p.stderr}`);
    }
    try {
      const r = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(1000) });
      if (r.ok) return p;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

const base = () => `http://127.0.0.1:${port}/api/2.0/mlflow`;

async function post(path: string, body: unknown): Promise<{ status: number; body: unknown }> {
  const r = await fetch(`${base()}/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  return { status: r.status, body: await r.json().catch(() => undefined) };
}

/** Batch b of client c: POINTS points of key k<c>, steps b*POINTS.., values that encode (c, b, i). */
const value = (c: number, b: number, i: number) => c * 1e9 + b * 1000 + i;
function batch(runId: string, c: number, b: number) {
  return {
    run_id: runId,
    metrics: Array.from({ length: POINTS }, (_, i) => ({ key: `k${c}`, value: value(c, b, i), timestamp: 1_700_000_000_000 + b, step: b * POINTS + i })),
  };
}

beforeAll(async () => {
  requireBuiltCli();
  db = await freshDb();
  port = await freePort();
});
afterAll(async () => {
  await server?.stop();
  await db?.cleanup();
});

describe(`kill -9 under load (${dbKind})`, () => {
  it("every acknowledged batch survives a SIGKILL and a restart, whole", async () => {
    server = await start();
    const created = await post("runs/create", { experiment_id: "0", run_name: "kill9" });
    expect(created.status).toBe(200);
    const runId = (created.body as { run: { info: { run_id: string } } }).run.info.run_id;

    const acked: number[][] = Array.from({ length: CLIENTS }, () => []);
    const sent: number[] = Array.from({ length: CLIENTS }, () => 0);
    const unexpected: string[] = [];
    let total = 0;
    let killed = false;
    let releaseKill: () => void = () => {};
    const killNow = new Promise<void>((resolve) => {
      releaseKill = resolve;
    });

    const loader = async (c: number) => {
      for (let b = 0; ; b++) {
        sent[c] = b + 1;
        let res: { status: number; body: unknown };
        try {
          res = await post("runs/log-batch", batch(runId, c, b));
        } catch {
          if (killed) return; // the connection died with the server: this batch's fate is unknown
          throw new Error(`client ${c}: batch ${b} failed before the kill`);
        }
        if (res.status === 200) {
          acked[c].push(b);
          if (++total >= KILL_AFTER_ACKS) releaseKill();
        } else if (!killed) {
          unexpected.push(`client ${c} batch ${b}: ${res.status} ${JSON.stringify(res.body)}`);
        }
        if (killed) return;
      }
    };
    const loaders = Array.from({ length: CLIENTS }, (_, c) => loader(c));
    await Promise.race([killNow, new Promise((r) => setTimeout(r, KILL_AFTER_MS))]);
    killed = true;
    server.proc.kill("SIGKILL");
    const exit = await server.exited;
    expect(exit.signal).toBe("SIGKILL");
    await Promise.all(loaders);
    expect(unexpected).toEqual([]);
    expect(total, "the server acknowledged some batches before the kill").toBeGreaterThan(CLIENTS);

    server = await start();
    for (let c = 0; c < CLIENTS; c++) {
      const r = await fetch(`${base()}/metrics/get-history?run_id=${runId}&metric_key=k${c}`, { signal: AbortSignal.timeout(15_000) });
      expect(r.status).toBe(200);
      const points = ((await r.json()) as { metrics?: { value: number; step: number; timestamp: number }[] }).metrics ?? [];
      const byBatch = new Map<number, { value: number; step: number; timestamp: number }[]>();
      for (const p of points) {
        const b = Math.floor(p.step / POINTS);
        byBatch.set(b, [...(byBatch.get(b) ?? []), p]);
      }
      for (const b of acked[c]) {
        const got = byBatch.get(b) ?? [];
        expect(got.length, `client ${c}: acknowledged batch ${b} has ${got.length} of ${POINTS} points`).toBe(POINTS);
      }
      for (const [b, got] of byBatch) {
        expect(b, `client ${c}: batch ${b} was never sent`).toBeLessThan(sent[c]);
        expect(got, `client ${c}: batch ${b} is partial or altered`).toEqual(
          Array.from({ length: POINTS }, (_, i) => ({ key: `k${c}`, value: value(c, b, i), timestamp: 1_700_000_000_000 + b, step: b * POINTS + i })),
        );
      }
    }
    // The restarted server takes writes on the same run.
    expect((await post("runs/log-batch", batch(runId, 0, 1_000_000))).status).toBe(200);
  });
});

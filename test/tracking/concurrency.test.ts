/**
 * Many writers, one run: concurrent log-batch / log-metric / set-tag / log-parameter requests must all be
 * answered 200 (no SQLITE_BUSY, deadlock or 5xx reaches a client), and afterwards every write is stored
 * exactly once. Racing writers of one param key: exactly one wins, the other gets MLflow's 400.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "../../src/db/database.js";
import { buildApp } from "../../src/server/app.js";
import { client, dbKind, startTestApp, type TestApp, testArtifactStore } from "../helpers/app.js";

const CLIENTS = 8;
/** Requests per client; a multiple of 4 (the four kinds of write, in turn). */
const REQUESTS = 200;
const POINTS_PER_BATCH = 10;

interface Outcome {
  status: number;
  body: unknown;
  what: string;
}

/** One client's sequence of writes; `base` is the server it talks to. */
async function writer(base: string, runId: string, i: number): Promise<Outcome[]> {
  const c = client(base);
  const bad: Outcome[] = [];
  for (let j = 0; j < REQUESTS; j++) {
    const round = Math.floor(j / 4);
    let what: string;
    let r: { status: number; body: unknown };
    switch (j % 4) {
      case 0: {
        const metrics = Array.from({ length: POINTS_PER_BATCH }, (_, p) => {
          const step = round * POINTS_PER_BATCH + p;
          return { key: `batch/c${i}`, value: i * 1e6 + step, timestamp: 1_000_000 + step, step };
        });
        what = `log-batch c${i} round ${round}`;
        r = await c.post("runs/log-batch", { run_id: runId, metrics });
        break;
      }
      case 1:
        what = `log-metric c${i} step ${round}`;
        r = await c.post("runs/log-metric", { run_id: runId, key: `single/c${i}`, value: i + round / 1000, timestamp: 2_000_000 + round, step: round });
        break;
      case 2:
        what = `set-tag c${i} ${round}`;
        r = await c.post("runs/set-tag", { run_id: runId, key: `tag.c${i}.${round}`, value: `t-${i}-${round}` });
        break;
      default:
        what = `log-parameter c${i} ${round}`;
        r = await c.post("runs/log-parameter", { run_id: runId, key: `param.c${i}.${round}`, value: `p-${i}-${round}` });
    }
    if (r.status !== 200) bad.push({ status: r.status, body: r.body, what });
  }
  return bad;
}

/** Every write of every client, read back: each point, tag and param exactly once, with its value. */
async function verify(base: string, runId: string): Promise<void> {
  const c = client(base);
  const rounds = REQUESTS / 4;
  for (let i = 0; i < CLIENTS; i++) {
    const batch = await c.get("metrics/get-history", { run_id: runId, metric_key: `batch/c${i}` });
    expect(batch.status).toBe(200);
    const expected = Array.from({ length: rounds * POINTS_PER_BATCH }, (_, step) => ({
      key: `batch/c${i}`,
      value: i * 1e6 + step,
      timestamp: 1_000_000 + step,
      step,
    }));
    expect(batch.body.metrics, `history of batch/c${i}`).toEqual(expected);
    const single = await c.get("metrics/get-history", { run_id: runId, metric_key: `single/c${i}` });
    expect(single.body.metrics, `history of single/c${i}`).toEqual(
      Array.from({ length: rounds }, (_, step) => ({ key: `single/c${i}`, value: i + step / 1000, timestamp: 2_000_000 + step, step })),
    );
  }
  const run = (await c.get("runs/get", { run_id: runId })).body.run;
  const params = run.data.params as { key: string; value: string }[];
  const tags = (run.data.tags as { key: string; value: string }[]).filter((t) => t.key.startsWith("tag.c"));
  const want = (prefix: string, v: string) =>
    Array.from({ length: CLIENTS }, (_, i) => Array.from({ length: rounds }, (_, r) => ({ key: `${prefix}.c${i}.${r}`, value: `${v}-${i}-${r}` }))).flat();
  const byKey = (a: { key: string }, b: { key: string }) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
  expect(params.slice().sort(byKey)).toEqual(want("param", "p").sort(byKey));
  expect(tags.slice().sort(byKey)).toEqual(want("tag", "t").sort(byKey));
  // The run's latest value of each metric is its highest step, whatever order the writers committed in.
  const latest = Object.fromEntries((run.data.metrics as { key: string; value: number; step: number }[]).map((m) => [m.key, m]));
  for (let i = 0; i < CLIENTS; i++) {
    expect(latest[`batch/c${i}`]).toMatchObject({ step: rounds * POINTS_PER_BATCH - 1, value: i * 1e6 + rounds * POINTS_PER_BATCH - 1 });
    expect(latest[`single/c${i}`]).toMatchObject({ step: rounds - 1 });
  }
}

/** Two writers race to log one param key with different values, `n` times over (one key per race). */
async function paramRaces(bases: [string, string], runId: string, n: number): Promise<void> {
  const [a, b] = bases.map((u) => client(u));
  for (let k = 0; k < n; k++) {
    const key = `race.${k}`;
    // log-parameter against log-batch on alternate rounds: both paths must enforce immutability.
    const send = (c: ReturnType<typeof client>, value: string) =>
      k % 2 ? c.post("runs/log-batch", { run_id: runId, params: [{ key, value }] }) : c.post("runs/log-parameter", { run_id: runId, key, value });
    const [ra, rb] = await Promise.all([send(a, "from-a"), send(b, "from-b")]);
    const statuses = [ra.status, rb.status].sort();
    expect(statuses, `${key}: ${JSON.stringify([ra.body, rb.body])}`).toEqual([200, 400]);
    const loser = ra.status === 400 ? ra : rb;
    expect(loser.body.error_code).toBe("INVALID_PARAMETER_VALUE");
    const winner = ra.status === 200 ? "from-a" : "from-b";
    const run = (await a.get("runs/get", { run_id: runId })).body.run;
    expect(run.data.params.filter((p: { key: string }) => p.key === key)).toEqual([{ key, value: winner }]);
    // The same value again is not a change: both succeed.
    const [sa, sb] = await Promise.all([send(a, winner), send(b, winner)]);
    expect([sa.status, sb.status]).toEqual([200, 200]);
  }
}

describe("one server", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t?.close());

  it(`${CLIENTS} clients logging to one run at once: every request 200, every write stored exactly once`, async () => {
    const runId = (await client(t.url).post("runs/create", { experiment_id: "0" })).body.run.info.run_id;
    const results = await Promise.all(Array.from({ length: CLIENTS }, (_, i) => writer(t.url, runId, i)));
    expect(results.flat()).toEqual([]);
    await verify(t.url, runId);
  });

  it("two clients racing to log one param with different values: exactly one wins", async () => {
    const runId = (await client(t.url).post("runs/create", { experiment_id: "0" })).body.run.info.run_id;
    await paramRaces([t.url, t.url], runId, 30);
  });
});

// Replicas: two servers on one Postgres database (what `keel server --database-url` scales out to).
describe.runIf(dbKind === "postgres")("two servers sharing one database", () => {
  let t: TestApp;
  let second: { url: string; close(): Promise<void> };
  beforeAll(async () => {
    t = await startTestApp();
    const database = await openDatabase({ dataDir: t.db.dataDir, databaseUrl: t.db.databaseUrl });
    const { app } = await buildApp({ database, artifacts: await testArtifactStore(t.db.dataDir) });
    const url = await app.listen({ host: "127.0.0.1", port: 0 });
    second = {
      url,
      close: async () => {
        await app.close();
        await database.close();
      },
    };
  });
  afterAll(async () => {
    await second?.close();
    await t?.close();
  });

  it(`${CLIENTS} clients split over two servers, one run: every request 200, every write stored exactly once`, async () => {
    const runId = (await client(t.url).post("runs/create", { experiment_id: "0" })).body.run.info.run_id;
    const results = await Promise.all(Array.from({ length: CLIENTS }, (_, i) => writer(i % 2 ? second.url : t.url, runId, i)));
    expect(results.flat()).toEqual([]);
    await verify(second.url, runId);
  });

  it("param races across servers: exactly one wins", async () => {
    const runId = (await client(t.url).post("runs/create", { experiment_id: "0" })).body.run.info.run_id;
    await paramRaces([t.url, second.url], runId, 30);
  });
});

/**
 * The experiment key catalog behind GET /experiments/keys (src/tracking/experiment-keys.ts): kept by every
 * write path, in the write's own transaction, and always the distinct keys of the experiment's runs' rows
 * (as the endpoint computed them before the catalog), on SQLite and on Postgres (`npm run test:pg`).
 */
import fc from "fast-check";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "../../src/db/database.js";
import { createTracking } from "../../src/tracking/index.js";
import { client, startTestApp, type TestApp } from "../helpers/app.js";

let t: TestApp;
let c: ReturnType<typeof client>;

beforeAll(async () => {
  t = await startTestApp();
  c = client(t.url);
});
afterAll(async () => {
  await t?.close();
});

async function newExperiment(name: string): Promise<string> {
  const r = await c.post("experiments/create", { name: `${name}-${Math.random().toString(36).slice(2)}` });
  expect(r.status).toBe(200);
  return r.body.experiment_id;
}

async function newRun(exp: string, body: Record<string, unknown> = {}): Promise<string> {
  const r = await c.post("runs/create", { experiment_id: exp, ...body });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body.run.info.run_id;
}

async function keys(...exps: string[]): Promise<{ metrics: string[]; params: string[]; tags: string[] }> {
  const r = await c.get("/api/keel/v1/experiments/keys", { experiment_ids: exps });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body;
}

/** What the endpoint answered before the catalog: a distinct over the runs' own rows, ordered by the database. */
async function fromRows(exps: string[]): Promise<{ metrics: string[]; params: string[]; tags: string[] }> {
  const ids = exps.map(Number);
  const of = async (table: string) =>
    (
      await sql<{ key: string }>`select distinct k.key from ${sql.table(table)} k join runs r on r.run_uuid = k.run_uuid
        where r.experiment_id in (${sql.join(ids)}) order by k.key`.execute(t.database.db)
    ).rows.map((r) => r.key);
  return { metrics: await of("latest_metrics"), params: await of("params"), tags: await of("tags") };
}

describe("experiment keys", () => {
  it("lists the keys of every write path: run creation tags, log-batch, log-metric/param, set-tag and a rename", async () => {
    const exp = await newExperiment("paths");
    const run = await newRun(exp, { tags: [{ key: "team", value: "vision" }], run_name: "first" });
    expect((await c.post("runs/log-batch", { run_id: run, metrics: [{ key: "loss", value: 1, timestamp: 1, step: 0 }], params: [{ key: "lr", value: "0.1" }], tags: [{ key: "stage", value: "a" }] })).status).toBe(200);
    expect((await c.post("runs/log-metric", { run_id: run, key: "acc", value: 0.5, timestamp: 2, step: 1 })).status).toBe(200);
    expect((await c.post("runs/log-parameter", { run_id: run, key: "batch_size", value: "32" })).status).toBe(200);
    expect((await c.post("runs/set-tag", { run_id: run, key: "note", value: "x" })).status).toBe(200);
    const k = await keys(exp);
    expect(k.metrics).toEqual(["acc", "loss"]);
    expect(k.params).toEqual(["batch_size", "lr"]);
    expect(k.tags).toEqual(expect.arrayContaining(["mlflow.runName", "note", "stage", "team"]));
    expect(k).toEqual(await fromRows([exp]));

    // A run created without a name gets one by rename (runs/update): its tag key is listed.
    const other = await newExperiment("rename");
    const bare = await newRun(other);
    await sql`delete from experiment_keys where experiment_id = ${Number(other)}`.execute(t.database.db);
    expect((await c.post("runs/update", { run_id: bare, run_name: "renamed" })).status).toBe(200);
    expect((await keys(other)).tags).toContain("mlflow.runName");
  });

  it("keeps experiments apart, and merges several into one sorted, distinct list", async () => {
    const a = await newExperiment("a");
    const b = await newExperiment("b");
    const ra = await newRun(a);
    const rb = await newRun(b);
    await c.post("runs/log-batch", { run_id: ra, metrics: [{ key: "shared", value: 1, timestamp: 1, step: 0 }, { key: "only_a", value: 1, timestamp: 1, step: 0 }] });
    await c.post("runs/log-batch", { run_id: rb, metrics: [{ key: "shared", value: 2, timestamp: 1, step: 0 }, { key: "b_only", value: 1, timestamp: 1, step: 0 }] });
    expect((await keys(a)).metrics).toEqual(["only_a", "shared"]);
    expect((await keys(b)).metrics).toEqual(["b_only", "shared"]);
    const both = await keys(a, b);
    expect(both).toEqual(await fromRows([a, b]));
    expect(both.metrics).toHaveLength(3);
  });

  it("a refused batch leaves no key behind (the catalog is written in the batch's transaction)", async () => {
    const exp = await newExperiment("refused");
    const run = await newRun(exp);
    expect((await c.post("runs/log-batch", { run_id: run, params: [{ key: "lr", value: "0.1" }] })).status).toBe(200);
    // Changing a logged param is refused: the whole batch, its new metric and tag keys included, is not written.
    const r = await c.post("runs/log-batch", { run_id: run, metrics: [{ key: "ghost", value: 1, timestamp: 1, step: 0 }], params: [{ key: "lr", value: "0.2" }], tags: [{ key: "ghost_tag", value: "x" }] });
    expect(r.status).toBe(400);
    const k = await keys(exp);
    expect(k.metrics).not.toContain("ghost");
    expect(k.tags).not.toContain("ghost_tag");
    expect(k).toEqual(await fromRows([exp]));
  });

  it("equals the distinct keys of the runs' rows after a random sequence of batches", async () => {
    const exp = await newExperiment("random");
    const runs = [await newRun(exp), await newRun(exp), await newRun(exp)];
    const name = fc.constantFrom("a", "b", "c", "loss", "acc", "Z", "m.x", "a b", "x/y");
    const batch = fc.record({
      run: fc.integer({ min: 0, max: 2 }),
      metrics: fc.array(name, { maxLength: 4 }),
      params: fc.uniqueArray(name, { maxLength: 3 }),
      tags: fc.array(name, { maxLength: 3 }),
    });
    const batches = fc.sample(fc.array(batch, { minLength: 5, maxLength: 25 }), { numRuns: 1, seed: 42 })[0];
    let n = 0;
    for (const b of batches) {
      n++;
      const r = await c.post("runs/log-batch", {
        run_id: runs[b.run],
        metrics: b.metrics.map((key) => ({ key, value: n, timestamp: n, step: n })),
        // Params are immutable: each (run, key) gets one value, so re-logging it is accepted.
        params: b.params.map((key) => ({ key, value: `${b.run}:${key}` })),
        tags: b.tags.map((key) => ({ key, value: String(n) })),
      });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
    }
    expect(await keys(exp)).toEqual(await fromRows([exp]));
  });

  it("runs of one experiment logging the same new keys at once, in any order, all succeed (no lock cycle on Postgres)", async () => {
    // Three batches per run as well: before rows were written in key order, Postgres found deadlocks here (500s).
    const exp = await newExperiment("concurrent");
    const runs = await Promise.all(Array.from({ length: 8 }, () => newRun(exp)));
    const names = Array.from({ length: 12 }, (_, i) => `k${i}`);
    const results = await Promise.all(
      runs.flatMap((run, r) =>
        [0, 1, 2].map((round) => {
          // Each request names the keys in its own order.
          const order = names.map((_, i) => names[(i * (r + 5) + round) % names.length]);
          return c.post("runs/log-batch", {
            run_id: run,
            metrics: order.map((key, i) => ({ key, value: i, timestamp: round, step: round })),
            params: round === 0 ? order.map((key) => ({ key, value: "v" })) : [],
            tags: order.map((key) => ({ key, value: String(round) })),
          });
        }),
      ),
    );
    expect(results.filter((r) => r.status !== 200).map((r) => JSON.stringify(r.body))).toEqual([]);
    const k = await keys(exp);
    expect(k.metrics).toEqual(await fromRows([exp]).then((x) => x.metrics));
    expect(k.metrics).toHaveLength(names.length);
    expect(k.params).toHaveLength(names.length);
  });

  it("goes with its experiment when gc purges it", async () => {
    const exp = await newExperiment("purged");
    const run = await newRun(exp);
    await c.post("runs/log-batch", { run_id: run, metrics: [{ key: "loss", value: 1, timestamp: 1, step: 0 }] });
    expect((await c.post("experiments/delete", { experiment_id: exp })).status).toBe(200);
    await createTracking(t.database).gc(Date.now() + 1000, { experimentIds: [exp] });
    const left = await sql<{ n: number }>`select count(*) as n from experiment_keys where experiment_id = ${Number(exp)}`.execute(t.database.db);
    expect(Number(left.rows[0].n)).toBe(0);
  });

  it("a database written before the catalog gets it filled when upgraded", async () => {
    const exp = await newExperiment("upgrade");
    const run = await newRun(exp, { tags: [{ key: "team", value: "speech" }] });
    await c.post("runs/log-batch", { run_id: run, metrics: [{ key: "old_metric", value: 1, timestamp: 1, step: 0 }], params: [{ key: "old_param", value: "1" }] });
    const before = await keys(exp);
    // Back to the schema before migration 009, as a database written by an older Keel.
    await sql`drop table experiment_keys`.execute(t.database.db);
    await sql`delete from keel_migration where name = '009-experiment-keys'`.execute(t.database.db);
    const again = await openDatabase({ dataDir: t.db.dataDir, databaseUrl: t.db.databaseUrl });
    try {
      const rows = await again.db.selectFrom("experiment_keys").select(["kind", "key"]).where("experiment_id", "=", Number(exp)).orderBy("kind").orderBy("key").execute();
      expect(rows.filter((r) => r.kind === "metric").map((r) => r.key)).toEqual(before.metrics);
      expect(rows.filter((r) => r.kind === "param").map((r) => r.key)).toEqual(before.params);
      expect(rows.filter((r) => r.kind === "tag").map((r) => r.key)).toEqual(before.tags);
    } finally {
      await again.close();
    }
    expect(await keys(exp)).toEqual(before);
  });
});

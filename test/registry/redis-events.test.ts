/**
 * Cross-process event notification: two apps on one database, each with a database poll so slow (60 s)
 * that only Redis pub/sub can wake a reader on one when the other commits. The control (no Redis) shows
 * the reader would otherwise wait.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "../../src/db/database.js";
import { buildApp, type KeelApp } from "../../src/server/app.js";
import { client, startTestApp, type TestApp, testArtifactStore } from "../helpers/app.js";

const REDIS = "redis://127.0.0.1:6379";
let a: TestApp;
const others: KeelApp[] = [];

async function secondApp(redisUrl?: string): Promise<string> {
  const database = await openDatabase({ dataDir: a.db.dataDir, databaseUrl: a.db.databaseUrl });
  const b = await buildApp({ database, artifacts: await testArtifactStore(a.db.dataDir), eventPollMs: 60_000, redisUrl });
  others.push(b);
  b.app.addHook("onClose", async () => database.close());
  return b.app.listen({ host: "127.0.0.1", port: 0 });
}

beforeAll(async () => {
  a = await startTestApp({ eventPollMs: 60_000, redisUrl: REDIS });
});
afterAll(async () => {
  for (const o of others) await o.app.close();
  await a?.close();
});

async function timedWait(url: string, after: number, waitMs: number): Promise<{ ms: number; events: { name: string }[] }> {
  const t0 = Date.now();
  const res = await client(url).get("/api/keel/v1/events", { after, wait_ms: waitMs });
  return { ms: Date.now() - t0, events: res.body.events };
}

describe("registry events across processes", () => {
  it("wake a reader on another replica at once through Redis", async () => {
    const b = await secondApp(REDIS);
    const last = (await client(b).get("/api/keel/v1/events", { after: 0 })).body.next_after as number;
    const waiting = timedWait(b, last, 10_000);
    await new Promise((r) => setTimeout(r, 200));
    await client(a.url).post("registered-models/create", { name: "via-redis" });
    const got = await waiting;
    expect(got.events.map((e) => e.name)).toEqual(["via-redis"]);
    expect(got.ms).toBeLessThan(2000);
  });

  it("(control) without Redis the same reader only learns at its next database poll", async () => {
    const c = await secondApp(undefined);
    const last = (await client(c).get("/api/keel/v1/events", { after: 0 })).body.next_after as number;
    const waiting = timedWait(c, last, 1500);
    await new Promise((r) => setTimeout(r, 200));
    await client(a.url).post("registered-models/create", { name: "no-redis" });
    const got = await waiting;
    // Not woken: it waited out its whole wait_ms, then read the event on its final look.
    expect(got.ms).toBeGreaterThanOrEqual(1400);
  });

  it("refuses to start with an unreachable Redis, naming it", async () => {
    const database = await openDatabase({ dataDir: a.db.dataDir, databaseUrl: a.db.databaseUrl });
    try {
      await expect(buildApp({ database, artifacts: await testArtifactStore(a.db.dataDir), redisUrl: "redis://127.0.0.1:1" })).rejects.toThrow(/cannot connect to Redis at redis:\/\/127\.0\.0\.1:1/);
    } finally {
      await database.close();
    }
  });
});

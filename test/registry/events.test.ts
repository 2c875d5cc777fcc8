/**
 * The registry change feed: every committed change appears once, in commit order, written in the same
 * transaction as the change (a refused change leaves no event); readers page with `after` and long-poll
 * with `wait_ms`, and a wait ends when an event commits (here or in another process), when its time is
 * up, when the reader hangs up, or when the server closes.
 */
import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "../../src/db/database.js";
import { createRegistry } from "../../src/registry/index.js";
import type { RegistryEvent } from "../../src/registry/schema.js";
import { createTracking } from "../../src/tracking/index.js";
import { client, startTestApp, type TestApp } from "../helpers/app.js";
import { expectError, newModel, newRun, newVersion } from "../helpers/registry.js";

let t: TestApp;
let c: ReturnType<typeof client>;
let run: { runId: string; artifactUri: string };
beforeAll(async () => {
  t = await startTestApp();
  c = client(t.url);
  run = await newRun(c);
});
afterAll(async () => t?.close());

const events = async (query: Record<string, string | number> = {}) => {
  const r = await c.get("/api/keel/v1/events", query);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body as { events: RegistryEvent[]; next_after: number };
};
const lastSeq = async () => (await events({ after: 0, limit: 1000 })).next_after;
/** The events after `after` as "type name[/version][@alias]" lines. */
const summary = async (after: number) =>
  (await events({ after, limit: 1000 })).events.map((e) => `${e.type} ${e.name}${e.version ? `/${e.version}` : ""}${e.alias ? `@${e.alias}` : ""}`);
const del = (path: string, body: unknown) => c.call("DELETE", path, body);

describe("what is recorded", () => {
  it("records each change, in order, with what a consumer needs", async () => {
    const start = await lastSeq();
    await newModel(c, "ev", { description: "d", tags: [{ key: "k", value: "v" }] });
    await newVersion(c, "ev", run);
    await newVersion(c, "ev", run);
    await c.post("model-versions/transition-stage", { name: "ev", version: "1", stage: "Production" });
    await c.post("model-versions/transition-stage", { name: "ev", version: "2", stage: "production", archive_existing_versions: true });
    await c.post("registered-models/alias", { name: "ev", alias: "champ", version: "1" });
    await c.post("registered-models/alias", { name: "ev", alias: "champ", version: "2" });
    await del("registered-models/alias", { name: "ev", alias: "champ" });
    await c.post("registered-models/alias", { name: "ev", alias: "gone-with-v2", version: "2" });
    await del("model-versions/delete", { name: "ev", version: "2" });
    await c.post("registered-models/rename", { name: "ev", new_name: "ev2" });
    await del("registered-models/delete", { name: "ev2" });
    expect(await summary(start)).toEqual([
      "model_created ev",
      "version_created ev/1",
      "version_created ev/2",
      "stage_changed ev/1",
      "stage_changed ev/1",
      "stage_changed ev/2",
      "alias_set ev/1@champ",
      "alias_set ev/2@champ",
      "alias_deleted ev/2@champ",
      "alias_set ev/2@gone-with-v2",
      "alias_deleted ev/2@gone-with-v2",
      "version_deleted ev/2",
      "model_renamed ev2",
      "model_deleted ev2",
    ]);
    const all = (await events({ after: start, limit: 1000 })).events;
    expect(all.map((e) => e.payload)).toEqual([
      { name: "ev", description: "d", tags: [{ key: "k", value: "v" }] },
      { name: "ev", version: "1", source: `${run.artifactUri}/model`, run_id: run.runId, current_stage: "None" },
      { name: "ev", version: "2", source: `${run.artifactUri}/model`, run_id: run.runId, current_stage: "None" },
      { name: "ev", version: "1", from: "None", to: "Production" },
      { name: "ev", version: "1", from: "Production", to: "Archived", archived_by: "2" },
      { name: "ev", version: "2", from: "None", to: "Production" },
      { name: "ev", alias: "champ", version: "1" },
      { name: "ev", alias: "champ", version: "2", previous_version: "1" },
      { name: "ev", alias: "champ", version: "2" },
      { name: "ev", alias: "gone-with-v2", version: "2" },
      { name: "ev", alias: "gone-with-v2", version: "2" },
      { name: "ev", version: "2" },
      { name: "ev2", previous_name: "ev" },
      { name: "ev2" },
    ]);
    const seqs = all.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
    for (const e of all) expect(e.time).toBeGreaterThan(1_600_000_000_000);
  });

  it("records nothing for refused changes or for changes that change nothing", async () => {
    await newModel(c, "quiet");
    await newModel(c, "taken");
    await newVersion(c, "quiet", run);
    await c.post("model-versions/transition-stage", { name: "quiet", version: "1", stage: "Staging" });
    await c.post("registered-models/alias", { name: "quiet", alias: "a", version: "1" });
    const start = await lastSeq();
    expectError(await c.post("registered-models/rename", { name: "quiet", new_name: "taken" }), 400, "RESOURCE_ALREADY_EXISTS");
    expectError(await c.post("registered-models/create", { name: "quiet" }), 400, "RESOURCE_ALREADY_EXISTS");
    expectError(await c.post("model-versions/create", { name: "missing", source: `${run.artifactUri}/model` }), 404, "RESOURCE_DOES_NOT_EXIST");
    expectError(await c.post("model-versions/create", { name: "quiet", source: "file:///etc/passwd" }), 400, "INVALID_PARAMETER_VALUE");
    expectError(await c.post("registered-models/alias", { name: "quiet", alias: "b", version: "9" }), 404, "RESOURCE_DOES_NOT_EXIST");
    await c.post("model-versions/transition-stage", { name: "quiet", version: "1", stage: "Staging" });
    await c.post("registered-models/alias", { name: "quiet", alias: "a", version: "1" });
    await del("registered-models/alias", { name: "quiet", alias: "never-set" });
    await c.post("registered-models/rename", { name: "quiet", new_name: "quiet" });
    await c.post("registered-models/set-tag", { name: "quiet", key: "k", value: "v" });
    await c.post("model-versions/set-tag", { name: "quiet", version: "1", key: "k", value: "v" });
    await c.call("PATCH", "registered-models/update", { name: "quiet", description: "x" });
    expect(await summary(start)).toEqual([]);
  });
});

describe("reading the feed", () => {
  it("pages with after and limit, and says where to continue", async () => {
    const start = await lastSeq();
    for (const name of ["p1", "p2", "p3"]) await newModel(c, name);
    const first = await events({ after: start, limit: 2 });
    expect(first.events.map((e) => e.name)).toEqual(["p1", "p2"]);
    expect(first.next_after).toBe(first.events[1].seq);
    const second = await events({ after: first.next_after, limit: 2 });
    expect(second.events.map((e) => e.name)).toEqual(["p3"]);
    const none = await events({ after: second.next_after });
    expect(none).toEqual({ events: [], next_after: second.next_after });
    expect((await events()).events[0].seq).toBe(1);
  });

  it("refuses bad parameters with 400 in MLflow's error shape", async () => {
    for (const query of ["after=-1", "after=abc", "after=1.5", "after=1e400", "limit=0", "limit=1001", "wait_ms=30001", "wait_ms=-1", "bogus=1"]) {
      const r = await fetch(`${t.url}/api/keel/v1/events?${query}`);
      expect(r.status, query).toBe(400);
      expect(await r.json(), query).toMatchObject({ error_code: "INVALID_PARAMETER_VALUE", message: expect.any(String) });
    }
  });

  it("is listed in the OpenAPI document", async () => {
    const doc = (await (await fetch(`${t.url}/docs/json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toContain("/api/keel/v1/events");
  });
});

describe("long polling", () => {
  it("waits for the next change and answers as soon as it commits", async () => {
    const after = await lastSeq();
    const started = Date.now();
    const waiting = events({ after, wait_ms: 10_000 });
    await new Promise((r) => setTimeout(r, 300));
    await newModel(c, "awaited");
    const got = await waiting;
    expect(got.events.map((e) => `${e.type} ${e.name}`)).toEqual(["model_created awaited"]);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(3000);
  });

  it("answers at once when there already are events, and empty when the wait runs out", async () => {
    const after = await lastSeq();
    let started = Date.now();
    expect((await events({ after: after - 1, wait_ms: 10_000 })).events).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(1000);
    started = Date.now();
    expect(await events({ after, wait_ms: 400 })).toEqual({ events: [], next_after: after });
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(350);
    expect(elapsed).toBeLessThan(2500);
  });

  it("sees changes committed by another process sharing the database", async () => {
    const database = await openDatabase({ dataDir: t.db.dataDir, databaseUrl: t.db.databaseUrl });
    try {
      const otherRegistry = createRegistry(database, createTracking(database));
      const after = await lastSeq();
      const started = Date.now();
      const waiting = events({ after, wait_ms: 10_000 });
      await new Promise((r) => setTimeout(r, 300));
      await otherRegistry.createModel("from-elsewhere", "", []);
      const got = await waiting;
      expect(got.events.map((e) => e.name)).toEqual(["from-elsewhere"]);
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      await database.close();
    }
  });

  it("lets a reader go when it hangs up", async () => {
    const after = await lastSeq();
    const url = new URL(`${t.url}/api/keel/v1/events?after=${after}&wait_ms=20000`);
    const req = request(url);
    req.on("error", () => {});
    req.end();
    await expect.poll(() => t.registry.eventWaiters(), { timeout: 2000 }).toBe(1);
    req.destroy();
    await expect.poll(() => t.registry.eventWaiters(), { timeout: 2000 }).toBe(0);
  });

  it("service waits end on an aborted signal without waiting out their time", async () => {
    const after = await lastSeq();
    const abort = new AbortController();
    const started = Date.now();
    const waiting = t.registry.events(after, 10, 20_000, abort.signal);
    setTimeout(() => abort.abort(), 100);
    expect(await waiting).toEqual([]);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("ends waiting readers when the server closes, so closing does not hang", async () => {
    const own = await startTestApp();
    try {
      const answer = fetch(`${own.url}/api/keel/v1/events?wait_ms=30000`).then(
        async (r) => ({ status: r.status, body: await r.json() }),
        (err: Error) => ({ status: 0, body: err.message }),
      );
      await expect.poll(() => own.registry.eventWaiters(), { timeout: 2000 }).toBe(1);
      const started = Date.now();
      await own.app.close();
      expect(Date.now() - started).toBeLessThan(3000);
      expect(await answer).toEqual({ status: 200, body: { events: [], next_after: 0 } });
    } finally {
      await own.close();
    }
  });
});

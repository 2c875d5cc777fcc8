import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyChain } from "../../src/governance/audit-chain.js";
import { bearer, client, startTestApp, type TestApp } from "../helpers/app.js";
import { userWithToken } from "../helpers/governance.js";

let t: TestApp;
let alice: ReturnType<typeof client>;
let admin: ReturnType<typeof client>;

beforeAll(async () => {
  t = await startTestApp({ auth: { enabled: true } });
  admin = client(t.url, bearer(await userWithToken(t, "root", { admin: true })));
  alice = client(t.url, bearer(await userWithToken(t, "alice")));
});
afterAll(async () => t?.close());

async function records(query: Record<string, string | number> = {}) {
  const res = await admin.get("/api/keel/v1/audit", { limit: 1000, ...query });
  expect(res.status).toBe(200);
  return res.body.records as { seq: number; actor: string; action: string; resource: string; summary: Record<string, unknown>; prev_hash: string; hash: string }[];
}

describe("audit trail", () => {
  let runId: string;
  it("records every change with who, what, on what, and a summary of the request; reads add nothing", async () => {
    const before = (await records()).length;
    const exp = (await alice.post("experiments/create", { name: "audited" })).body.experiment_id;
    runId = (await alice.post("runs/create", { experiment_id: exp })).body.run.info.run_id;
    const metrics = Array.from({ length: 50 }, (_, i) => ({ key: "loss", value: i, timestamp: i, step: i }));
    expect((await alice.post("runs/log-batch", { run_id: runId, metrics })).status).toBe(200);
    await alice.get("runs/get", { run_id: runId });
    await alice.post("runs/search", { experiment_ids: [exp] });
    const after = await records();
    expect(after.length - before).toBe(3);
    const [create, run, batch] = after.slice(-3);
    expect(create).toMatchObject({ actor: "alice", action: "POST /experiments/create", resource: "experiment_name:audited" });
    expect(run).toMatchObject({ actor: "alice", action: "POST /runs/create", resource: `experiment:${exp}` });
    expect(batch).toMatchObject({ actor: "alice", action: "POST /runs/log-batch", resource: `run:${runId}` });
    // Big lists are summarised, not stored.
    expect(batch.summary.body).toMatchObject({ run_id: runId, metrics: { count: 50 } });
    expect(JSON.stringify(batch.summary).length).toBeLessThan(2000);
  });

  it("redacts secrets from summaries", async () => {
    await admin.post("/api/keel/v1/users", { username: "dave", password: "dave-secret-pw" });
    const [rec] = (await records({ action: "POST /api/keel/v1/users" })).slice(-1);
    expect(rec.resource).toBe("user:dave");
    expect(JSON.stringify(rec.summary)).not.toContain("dave-secret-pw");
    expect(rec.summary.body).toMatchObject({ username: "dave", password: "[redacted]" });
  });

  it("records nothing for a refused or failed change", async () => {
    const before = (await records()).length;
    expect((await client(t.url).post("experiments/create", { name: "anon" })).status).toBe(401);
    expect((await alice.post("runs/log-batch", { run_id: "0".repeat(32), metrics: [] })).status).toBe(404);
    expect((await alice.post("experiments/create", { name: "audited" })).status).toBe(400);
    expect((await records()).length).toBe(before);
  });

  it("records file changes made through the artifact proxy", async () => {
    const info = (await alice.get("runs/get", { run_id: runId })).body.run.info;
    const path = `${info.experiment_id}/${runId}/artifacts/notes.txt`;
    const res = await fetch(`${t.url}/api/2.0/mlflow-artifacts/artifacts/${path}`, {
      method: "PUT",
      headers: { ...bearer((await t.governance.createToken("alice", "x", undefined)).token), "content-type": "application/octet-stream" },
      body: "hello",
    });
    expect(res.status).toBe(200);
    const [rec] = (await records({ resource: `run:${runId}` })).slice(-1);
    expect(rec).toMatchObject({ actor: "alice", action: "PUT /api/2.0/mlflow-artifacts/artifacts/*", summary: { params: { "*": path }, bytes: 5 } });
  });

  it("filters by actor, resource (exact or prefix*), action and time, and pages with after=", async () => {
    expect((await records({ actor: "alice" })).every((r) => r.actor === "alice")).toBe(true);
    expect((await records({ resource: "experiment:*" })).every((r) => r.resource.startsWith("experiment:"))).toBe(true);
    expect((await records({ action: "POST /runs/*" })).map((r) => r.action)).toEqual(expect.arrayContaining(["POST /runs/create", "POST /runs/log-batch"]));
    expect(await records({ since: Date.now() + 60_000 })).toEqual([]);
    const page1 = await admin.get("/api/keel/v1/audit", { limit: 2 });
    expect(page1.body.records).toHaveLength(2);
    const page2 = await admin.get("/api/keel/v1/audit", { limit: 2, after: page1.body.next_after });
    expect(page2.body.records[0].seq).toBe(page1.body.records[1].seq + 1);
    expect((await admin.get("/api/keel/v1/audit", { limit: 0 })).status).toBe(400);
    expect((await admin.get("/api/keel/v1/audit", { after: -1 })).status).toBe(400);
    expect((await alice.get("/api/keel/v1/audit")).status).toBe(403);
  });

  it("lists newest first with order=desc, paging down with before=", async () => {
    const oldestFirst: number[] = [];
    for (let after = 0; ; ) {
      const p = (await admin.get("/api/keel/v1/audit", { limit: 1000, after })).body;
      oldestFirst.push(...p.records.map((r: { seq: number }) => r.seq));
      if (p.next_after === undefined) break;
      after = p.next_after;
    }
    const newestFirst: number[] = [];
    let before: number | undefined;
    for (;;) {
      const p = (await admin.get("/api/keel/v1/audit", { order: "desc", limit: 3, ...(before ? { before } : {}) })).body;
      expect(p.next_after).toBeUndefined();
      newestFirst.push(...p.records.map((r: { seq: number }) => r.seq));
      if (p.next_before === undefined) break;
      before = p.next_before;
    }
    expect(newestFirst).toEqual([...oldestFirst].reverse());
    // Filters apply the same way in either order.
    const mine = (await admin.get("/api/keel/v1/audit", { order: "desc", actor: "alice" })).body.records;
    expect(mine.map((r: { seq: number }) => r.seq)).toEqual((await records({ actor: "alice" })).map((r) => r.seq).reverse());
    const bad = await admin.get("/api/keel/v1/audit", { order: "newest" });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain("order must be asc or desc");
    expect((await admin.get("/api/keel/v1/audit", { before: 5 })).body.message).toContain("order=desc");
    expect((await admin.get("/api/keel/v1/audit", { order: "desc", before: 0 })).status).toBe(400);
  });

  it("chains every record to the one before", async () => {
    const all = await records();
    expect(all[0].seq).toBe(1);
    expect(all[0].prev_hash).toBe("0".repeat(64));
    for (let i = 1; i < all.length; i++) {
      expect(all[i].seq).toBe(all[i - 1].seq + 1);
      expect(all[i].prev_hash).toBe(all[i - 1].hash);
    }
    expect((await admin.get("/api/keel/v1/audit/verify")).body).toEqual({ ok: true, checked: all.length });
  });

  it("keeps one unbroken chain under concurrent writers", async () => {
    const exp = (await alice.post("experiments/create", { name: "busy" })).body.experiment_id;
    const runs = await Promise.all(Array.from({ length: 4 }, async () => (await alice.post("runs/create", { experiment_id: exp })).body.run.info.run_id as string));
    const before = (await records()).length;
    await Promise.all(
      runs.flatMap((run) => Array.from({ length: 10 }, (_, i) => alice.post("runs/log-metric", { run_id: run, key: "m", value: i, timestamp: i, step: i }))),
    );
    expect((await records()).length - before).toBe(40);
    expect(await verifyChain(t.database)).toEqual({ ok: true, checked: before + 40 });
  });
});

describe("tamper evidence", () => {
  it("names the first edited, deleted or reordered record", async () => {
    const db = t.database.db;
    const total = (await verifyChain(t.database)).checked;
    expect(total).toBeGreaterThan(10);
    const row = (seq: number) => db.selectFrom("audit_log").selectAll().where("seq", "=", seq).executeTakeFirstOrThrow();

    const five = await row(5);
    await db.updateTable("audit_log").set({ actor: "mallory" }).where("seq", "=", 5).execute();
    expect(await verifyChain(t.database)).toMatchObject({ ok: false, checked: 4, problem: { seq: 5, reason: expect.stringMatching(/edited/) } });
    await db.updateTable("audit_log").set({ actor: five.actor }).where("seq", "=", 5).execute();
    expect((await verifyChain(t.database)).ok).toBe(true);

    const seven = await row(7);
    await db.deleteFrom("audit_log").where("seq", "=", 7).execute();
    expect(await verifyChain(t.database)).toMatchObject({ ok: false, checked: 6, problem: { seq: 7, reason: expect.stringMatching(/missing/) } });
    await db.insertInto("audit_log").values(seven).execute();
    expect((await verifyChain(t.database)).ok).toBe(true);

    // Swap the contents of records 8 and 9, keeping their sequence numbers.
    const [eight, nine] = [await row(8), await row(9)];
    const { seq: _a, ...eightRest } = eight;
    const { seq: _b, ...nineRest } = nine;
    await db.updateTable("audit_log").set(nineRest).where("seq", "=", 8).execute();
    await db.updateTable("audit_log").set(eightRest).where("seq", "=", 9).execute();
    expect(await verifyChain(t.database)).toMatchObject({ ok: false, checked: 7, problem: { seq: 8, reason: expect.stringMatching(/does not follow/) } });
    await db.updateTable("audit_log").set(eightRest).where("seq", "=", 8).execute();
    await db.updateTable("audit_log").set(nineRest).where("seq", "=", 9).execute();
    expect((await verifyChain(t.database)).ok).toBe(true);
  });
});

describe("a change and its record commit together", () => {
  it("rolls the change back when its audit record cannot be written", async () => {
    const db = t.database.db;
    const exp = (await alice.post("experiments/create", { name: "atomic" })).body.experiment_id;
    const run = (await alice.post("runs/create", { experiment_id: exp })).body.run.info.run_id;
    const pg = t.database.kind === "postgres";
    if (pg) {
      await sql`create function refuse_audit() returns trigger as $$ begin raise exception 'audit refused'; end $$ language plpgsql`.execute(db);
      await sql`create trigger refuse_audit before insert on audit_log for each row execute function refuse_audit()`.execute(db);
    } else {
      await sql`create trigger refuse_audit before insert on audit_log begin select raise(abort, 'audit refused'); end`.execute(db);
    }
    try {
      const tagged = await alice.post("runs/set-tag", { run_id: run, key: "k", value: "v" });
      expect(tagged.status).toBeGreaterThanOrEqual(500);
      const batch = await alice.post("runs/log-batch", { run_id: run, metrics: [{ key: "m", value: 1, timestamp: 1, step: 0 }], params: [{ key: "p", value: "1" }] });
      expect(batch.status).toBeGreaterThanOrEqual(500);
    } finally {
      await sql`drop trigger refuse_audit${sql.raw(pg ? " on audit_log" : "")}`.execute(db);
      if (pg) await sql`drop function refuse_audit()`.execute(db);
    }
    const data = (await alice.get("runs/get", { run_id: run })).body.run.data;
    expect(data.tags?.find((x: { key: string }) => x.key === "k")).toBeUndefined();
    expect(data.metrics).toBeUndefined();
    expect(data.params).toBeUndefined();
    expect((await verifyChain(t.database)).ok).toBe(true);
  });
});

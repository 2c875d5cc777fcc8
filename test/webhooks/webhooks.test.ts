import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "../../src/db/database.js";
import { buildApp } from "../../src/server/app.js";
import { verifySignature } from "../../src/webhooks/signing.js";
import { bearer, client, startTestApp, type TestApp, testArtifactStore } from "../helpers/app.js";
import { userWithToken } from "../helpers/governance.js";
import { startReceiver, until } from "../helpers/receiver.js";

let t: TestApp;
let admin: ReturnType<typeof client>;
let alice: ReturnType<typeof client>;
const TUNING = { retryBaseMs: 80, maxAttempts: 3, pollMs: 500, timeoutMs: 2000 };

beforeAll(async () => {
  t = await startTestApp({ auth: { enabled: true }, webhooks: TUNING });
  admin = client(t.url, bearer(await userWithToken(t, "root", { admin: true })));
  alice = client(t.url, bearer(await userWithToken(t, "alice")));
});
afterAll(async () => t?.close());

interface Delivered {
  webhook: string;
  event: { seq: number; type: string; name: string; version?: string; alias?: string };
}

describe("webhooks", () => {
  it("delivers registry events as signed JSON, in order, with the delivery recorded", async () => {
    const rx = await startReceiver();
    try {
      const created = await admin.post("/api/keel/v1/webhooks", { name: "all", url: rx.url });
      expect(created.status).toBe(200);
      const secret = created.body.secret as string;
      expect(secret).toMatch(/^[0-9a-f]{64}$/);
      expect(JSON.stringify((await admin.get("/api/keel/v1/webhooks")).body)).not.toContain(secret);

      await alice.post("registered-models/create", { name: "hooked" });
      await alice.post("registered-models/set-tag", { name: "hooked", key: "team", value: "risk" });
      const got = await until("two deliveries", () => rx.got.length >= 1 && rx.got);
      const first = got[0];
      expect(verifySignature(secret, first.body, String(first.headers["keel-signature"]))).toBe(true);
      expect(verifySignature("x".repeat(64), first.body, String(first.headers["keel-signature"]))).toBe(false);
      expect(verifySignature(secret, `${first.body} `, String(first.headers["keel-signature"]))).toBe(false);
      const body = JSON.parse(first.body) as Delivered;
      expect(body).toMatchObject({ webhook: "all", event: { type: "model_created", name: "hooked" } });
      expect(first.headers["keel-event"]).toBe("model_created");
      expect(first.headers["keel-event-seq"]).toBe(String(body.event.seq));
      expect(first.headers["user-agent"]).toMatch(/^Keel-Webhooks\//);

      const log = await until("the delivery marked delivered", async () => {
        const d = (await admin.get("/api/keel/v1/webhooks/all/deliveries")).body.deliveries;
        return d.length >= 1 && d.every((x: { status: string }) => x.status === "delivered") && d;
      });
      expect(log[0]).toMatchObject({ status: "delivered", attempts: 1, event: { type: "model_created" }, log: [{ attempt: 1, status_code: 200, response: "thanks" }] });
    } finally {
      await admin.call("DELETE", "/api/keel/v1/webhooks/all");
      await rx.close();
    }
  });

  it("retries with growing backoff until the receiver answers 2xx, logging every attempt", async () => {
    const rx = await startReceiver((n) => (n < 2 ? 503 : 200));
    try {
      await admin.post("/api/keel/v1/webhooks", { name: "flaky", url: rx.url, events: ["model_created"] });
      await alice.post("registered-models/create", { name: "retried" });
      await until("three attempts", () => rx.got.length >= 3);
      const [d] = await until("delivered", async () => {
        const x = (await admin.get("/api/keel/v1/webhooks/flaky/deliveries")).body.deliveries;
        return x[0]?.status === "delivered" && x;
      });
      expect(d.attempts).toBe(3);
      expect(d.log.map((a: { status_code: number }) => a.status_code)).toEqual([503, 503, 200]);
      expect(d.log[0].error).toBe("HTTP 503");
      const gap1 = rx.got[1].time - rx.got[0].time;
      const gap2 = rx.got[2].time - rx.got[1].time;
      // 80 ms then 160 ms (±10 % jitter): never sooner (a loaded machine may only add delay), so the second wait
      // is at least what the first could ever be at most.
      expect(gap1).toBeGreaterThanOrEqual(70);
      expect(gap2).toBeGreaterThanOrEqual(140);
      // The same event, byte for byte, on every attempt; a fresh signature each time.
      expect(new Set(rx.got.map((g) => g.body)).size).toBe(1);
    } finally {
      await admin.call("DELETE", "/api/keel/v1/webhooks/flaky");
      await rx.close();
    }
  });

  it("gives up after maxAttempts against a dead receiver, and delivers on redeliver once it is back", async () => {
    const rx = await startReceiver();
    const url = rx.url;
    await rx.close();
    await admin.post("/api/keel/v1/webhooks", { name: "dead", url, events: ["model_created"], model: "gone-model" });
    await alice.post("registered-models/create", { name: "other-model" });
    await alice.post("registered-models/create", { name: "gone-model" });
    const [d] = await until(
      "failed",
      async () => {
        const x = (await admin.get("/api/keel/v1/webhooks/dead/deliveries")).body.deliveries;
        return x[0]?.status === "failed" && x;
      },
      15_000,
    );
    // Only the model it filters on.
    expect(d.event.name).toBe("gone-model");
    expect(d.attempts).toBe(3);
    expect(d.log.every((a: { error?: string }) => /ECONNREFUSED/.test(a.error ?? ""))).toBe(true);
    const back = await startReceiver();
    try {
      await admin.call("PATCH", "/api/keel/v1/webhooks/dead", { url: back.url });
      expect((await admin.post(`/api/keel/v1/webhooks/dead/deliveries/${d.id}/redeliver`)).status).toBe(200);
      await until("redelivered", () => back.got.length === 1);
      const after = (await admin.get("/api/keel/v1/webhooks/dead/deliveries")).body.deliveries[0];
      await until("marked delivered", async () => (await admin.get("/api/keel/v1/webhooks/dead/deliveries")).body.deliveries[0].status === "delivered");
      expect(after.log.length).toBeGreaterThanOrEqual(3);
    } finally {
      await admin.call("DELETE", "/api/keel/v1/webhooks/dead");
      await back.close();
    }
  });

  it("answers bad requests with 4xx and keeps webhooks for admins", async () => {
    const bad = [
      { name: "x", url: "ftp://example.com/hook" },
      { name: "x", url: "http://user:pw@example.com/hook" },
      { name: "x", url: "not a url" },
      { name: "x", url: "http://example.com/", events: ["model_exploded"] },
      { name: "x", url: "http://example.com/", events: [] },
      { name: "../x", url: "http://example.com/" },
      { name: "x", url: "http://example.com/", secret: "short" },
      { name: "x", url: "http://example.com/", from_seq: -1 },
    ];
    for (const b of bad) {
      const res = await admin.post("/api/keel/v1/webhooks", b);
      expect(res.status, JSON.stringify(b)).toBe(400);
      expect(res.body.error_code).toBe("INVALID_PARAMETER_VALUE");
    }
    expect((await admin.post("/api/keel/v1/webhooks", { name: "dup", url: "http://example.com/" })).status).toBe(200);
    expect((await admin.post("/api/keel/v1/webhooks", { name: "dup", url: "http://example.com/" })).status).toBe(400);
    expect((await admin.get("/api/keel/v1/webhooks/nope")).status).toBe(404);
    expect((await admin.post("/api/keel/v1/webhooks/dup/deliveries/99999/redeliver")).status).toBe(404);
    expect((await admin.get("/api/keel/v1/webhooks/dup/deliveries", { status: "weird" })).status).toBe(400);
    expect((await alice.get("/api/keel/v1/webhooks")).status).toBe(403);
    expect((await alice.post("/api/keel/v1/webhooks", { name: "mine", url: "http://example.com/" })).status).toBe(403);
    await admin.call("DELETE", "/api/keel/v1/webhooks/dup");
  });
});

describe("several processes on one database", () => {
  it("deliver each event once, whichever replica enqueues and sends it", async () => {
    const second = await buildApp({ database: await openDatabase({ dataDir: t.db.dataDir, databaseUrl: t.db.databaseUrl }), artifacts: await testArtifactStore(t.db.dataDir), webhooks: TUNING });
    await second.app.listen({ host: "127.0.0.1", port: 0 });
    const rx = await startReceiver();
    try {
      await admin.post("/api/keel/v1/webhooks", { name: "once", url: rx.url, events: ["model_created"] });
      for (let i = 0; i < 10; i++) await alice.post("registered-models/create", { name: `replicated-${i}` });
      await until("ten deliveries", () => rx.got.length >= 10);
      await new Promise((r) => setTimeout(r, 500));
      const names = rx.got.map((g) => (JSON.parse(g.body) as Delivered).event.name).sort();
      expect(names).toEqual(Array.from({ length: 10 }, (_, i) => `replicated-${i}`).sort());
    } finally {
      await admin.call("DELETE", "/api/keel/v1/webhooks/once");
      await rx.close();
      await second.app.close();
    }
  });
});

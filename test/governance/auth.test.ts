import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { basic, bearer, client, startTestApp, type TestApp } from "../helpers/app.js";
import { userWithToken } from "../helpers/governance.js";

let t: TestApp;
let adminToken: string;
let aliceToken: string;
let bobToken: string;
const as = (token: string) => client(t.url, bearer(token));

beforeAll(async () => {
  t = await startTestApp({ auth: { enabled: true } });
  adminToken = await userWithToken(t, "root", { admin: true });
  aliceToken = await userWithToken(t, "alice", { password: "alice-password-1" });
  bobToken = await userWithToken(t, "bob");
});
afterAll(async () => t?.close());

describe("authentication", () => {
  it("refuses a request without credentials with 401 UNAUTHENTICATED and a Basic challenge", async () => {
    const res = await fetch(`${t.url}/api/2.0/mlflow/experiments/search?max_results=1`);
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toMatch(/^Basic realm="keel"/);
    const body = (await res.json()) as { error_code: string; message: string };
    expect(body.error_code).toBe("UNAUTHENTICATED");
    expect(body.message).toMatch(/MLFLOW_TRACKING_TOKEN/);
  });

  it("keeps /health, /version and the API docs public", async () => {
    for (const p of ["/health", "/version", "/api/keel/v1/health", "/docs/json"]) expect((await fetch(`${t.url}${p}`)).status, p).toBe(200);
  });

  it("accepts a Bearer token (MLFLOW_TRACKING_TOKEN) and Basic username/password (MLFLOW_TRACKING_USERNAME/PASSWORD)", async () => {
    expect((await as(aliceToken).get("/api/keel/v1/whoami")).body).toEqual({ username: "alice", is_admin: false, authenticated_by: "token" });
    const viaPassword = client(t.url, basic("alice", "alice-password-1"));
    expect((await viaPassword.get("/api/keel/v1/whoami")).body).toMatchObject({ username: "alice", authenticated_by: "password" });
    // Cached after the first check: a second call answers the same.
    expect((await viaPassword.get("/api/keel/v1/whoami")).status).toBe(200);
    // Tools that only speak Basic may send a token as the password.
    expect((await client(t.url, basic("anything", aliceToken)).get("/api/keel/v1/whoami")).body).toMatchObject({ username: "alice", authenticated_by: "token" });
  });

  it("rejects wrong passwords, unknown tokens, unknown schemes and empty bearer tokens with 401", async () => {
    const cases: Record<string, string>[] = [
      basic("alice", "wrong-password"),
      basic("nobody", "whatever-password"),
      bearer("keel_not-a-real-token"),
      { authorization: "Digest abc" },
      { authorization: "Bearer" },
      { authorization: `Basic ${Buffer.from("no-colon").toString("base64")}` },
    ];
    for (const h of cases) {
      const res = await client(t.url, h).get("/api/keel/v1/whoami");
      expect(res.status, JSON.stringify(h)).toBe(401);
      expect(res.body.error_code).toBe("UNAUTHENTICATED");
    }
  });

  it("stops accepting a token the moment it is revoked, and an expired one", async () => {
    const created = await as(bobToken).post("/api/keel/v1/tokens", { name: "short" });
    expect(created.status).toBe(200);
    expect(created.body.token).toMatch(/^keel_[A-Za-z0-9_-]{43}$/);
    const fresh = created.body.token as string;
    expect((await as(fresh).get("/api/keel/v1/whoami")).status).toBe(200);
    // The secret is never listed again; only its prefix.
    const listed = await as(bobToken).get("/api/keel/v1/tokens");
    expect(JSON.stringify(listed.body)).not.toContain(fresh);
    expect(listed.body.tokens.map((x: { prefix: string }) => x.prefix)).toContain(fresh.slice(0, 11));
    const del = await client(t.url, bearer(bobToken)).call("DELETE", `/api/keel/v1/tokens/${created.body.id}`);
    expect(del.status).toBe(200);
    expect((await as(fresh).get("/api/keel/v1/whoami")).status).toBe(401);

    const { token } = await t.governance.createToken("bob", "expired", 1);
    await new Promise((r) => setTimeout(r, 5));
    const res = await as(token).get("/api/keel/v1/whoami");
    expect(res.status).toBe(401);
    expect(res.body.message).toMatch(/expired/);
  });

  it("does not let one user revoke another's token", async () => {
    const { row } = await t.governance.createToken("alice", "mine", undefined);
    const res = await client(t.url, bearer(bobToken)).call("DELETE", `/api/keel/v1/tokens/${row.token_id}`);
    expect(res.status).toBe(404);
  });

  it("stores passwords as scrypt hashes and tokens as SHA-256 digests only", async () => {
    const users = await t.database.db.selectFrom("users").select(["username", "password_hash"]).execute();
    const alice = users.find((u) => u.username === "alice");
    expect(alice?.password_hash).toMatch(/^scrypt\$32768\$8\$1\$/);
    expect(alice?.password_hash).not.toContain("alice-password-1");
    const digests = await t.database.db.selectFrom("api_tokens").select("digest").execute();
    for (const d of digests) expect(d.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(digests)).not.toContain(aliceToken);
  });
});

describe("permissions", () => {
  let expId: string;
  let runId: string;
  beforeAll(async () => {
    const created = await as(aliceToken).post("experiments/create", { name: "alice-exp" });
    expect(created.status).toBe(200);
    expId = created.body.experiment_id;
    runId = (await as(aliceToken).post("runs/create", { experiment_id: expId })).body.run.info.run_id;
  });

  it("gives the creator MANAGE and everyone else the default READ", async () => {
    const who = await as(aliceToken).get("/api/keel/v1/permissions", { resource: `experiment:${expId}` });
    expect(who.status).toBe(200);
    expect(who.body.default_permission).toBe("READ");
    const byUser = Object.fromEntries(who.body.users.map((u: { username: string; permission: string; source: string }) => [u.username, [u.permission, u.source]]));
    expect(byUser).toEqual({ alice: ["MANAGE", "explicit"], bob: ["READ", "default"], root: ["MANAGE", "admin"] });

    expect((await as(bobToken).get("runs/get", { run_id: runId })).status).toBe(200);
    const denied = await as(bobToken).post("runs/log-batch", { run_id: runId, metrics: [{ key: "m", value: 1, timestamp: 1, step: 0 }] });
    expect(denied.status).toBe(403);
    expect(denied.body.error_code).toBe("PERMISSION_DENIED");
    expect(denied.body.message).toMatch(/bob.*EDIT.*experiment/);
    // Nothing was written.
    expect((await as(aliceToken).get("runs/get", { run_id: runId })).body.run.data.metrics).toBeUndefined();
    // Bob may not see who has access either (that needs MANAGE).
    expect((await as(bobToken).get("/api/keel/v1/permissions", { resource: `experiment:${expId}` })).status).toBe(403);
  });

  it("lets a grant raise a user's level, through Keel's API and MLflow's auth API", async () => {
    expect((await as(aliceToken).call("PUT", "/api/keel/v1/permissions", { resource: `experiment:${expId}`, username: "bob", permission: "EDIT" })).status).toBe(200);
    expect((await as(bobToken).post("runs/log-batch", { run_id: runId, metrics: [{ key: "m", value: 1, timestamp: 1, step: 0 }] })).status).toBe(200);
    // EDIT is not MANAGE: deleting the run stays refused.
    expect((await as(bobToken).post("runs/delete", { run_id: runId })).status).toBe(403);
    const got = await as(aliceToken).get("experiments/permissions/get", { experiment_id: expId, username: "bob" });
    expect(got.body).toEqual({ experiment_permission: { experiment_id: expId, user_id: expect.any(Number), permission: "EDIT" } });
    expect((await as(aliceToken).call("PATCH", "experiments/permissions/update", { experiment_id: expId, username: "bob", permission: "READ" })).status).toBe(200);
    expect((await as(bobToken).post("runs/log-batch", { run_id: runId, metrics: [{ key: "m", value: 2, timestamp: 2, step: 1 }] })).status).toBe(403);
  });

  it("hides an experiment from a user with NO_PERMISSIONS, in gets and in searches", async () => {
    const hidden = (await as(aliceToken).post("experiments/create", { name: "secret-exp" })).body.experiment_id;
    await as(aliceToken).call("PUT", "/api/keel/v1/permissions", { resource: `experiment:${hidden}`, username: "bob", permission: "NO_PERMISSIONS" });
    expect((await as(bobToken).get("experiments/get", { experiment_id: hidden })).status).toBe(403);
    const names = async (token: string) =>
      ((await as(token).post("experiments/search", { max_results: 1000 })).body.experiments as { name: string }[]).map((e) => e.name);
    expect(await names(bobToken)).not.toContain("secret-exp");
    expect(await names(bobToken)).toContain("alice-exp");
    expect(await names(aliceToken)).toContain("secret-exp");
    expect(await names(adminToken)).toContain("secret-exp");
    expect((await as(bobToken).post("runs/search", { experiment_ids: [hidden] })).status).toBe(403);
  });

  it("applies group grants, and a user's own grant over their groups'", async () => {
    const carol = await userWithToken(t, "carol");
    const admin = as(adminToken);
    expect((await admin.post("/api/keel/v1/groups", { name: "ml-team" })).status).toBe(200);
    expect((await admin.call("PUT", "/api/keel/v1/groups/ml-team/members/carol")).status).toBe(200);
    const exp = (await as(aliceToken).post("experiments/create", { name: "team-exp" })).body.experiment_id;
    const run = (await as(aliceToken).post("runs/create", { experiment_id: exp })).body.run.info.run_id;
    expect((await as(carol).post("runs/set-tag", { run_id: run, key: "k", value: "v" })).status).toBe(403);
    await as(aliceToken).call("PUT", "/api/keel/v1/permissions", { resource: `experiment:${exp}`, group: "ml-team", permission: "EDIT" });
    expect((await as(carol).post("runs/set-tag", { run_id: run, key: "k", value: "v" })).status).toBe(200);
    await as(aliceToken).call("PUT", "/api/keel/v1/permissions", { resource: `experiment:${exp}`, username: "carol", permission: "READ" });
    expect((await as(carol).post("runs/set-tag", { run_id: run, key: "k", value: "v" })).status).toBe(403);
    const who = await as(aliceToken).get("/api/keel/v1/permissions", { resource: `experiment:${exp}` });
    expect(who.body.grants).toEqual(
      expect.arrayContaining([
        { principal_type: "group", principal: "ml-team", permission: "EDIT" },
        { principal_type: "user", principal: "carol", permission: "READ" },
      ]),
    );
  });

  it("guards registered models the same way, and keeps grants across a rename", async () => {
    expect((await as(aliceToken).post("registered-models/create", { name: "fraud" })).status).toBe(200);
    expect((await as(bobToken).post("registered-models/set-tag", { name: "fraud", key: "k", value: "v" })).status).toBe(403);
    await as(aliceToken).call("PUT", "/api/keel/v1/permissions", { resource: "registered_model:fraud", username: "bob", permission: "EDIT" });
    expect((await as(bobToken).post("registered-models/set-tag", { name: "fraud", key: "k", value: "v" })).status).toBe(200);
    expect((await as(aliceToken).post("registered-models/rename", { name: "fraud", new_name: "fraud-v2" })).status).toBe(200);
    expect((await as(bobToken).post("registered-models/set-tag", { name: "fraud-v2", key: "k", value: "w" })).status).toBe(200);
    await as(aliceToken).call("PUT", "/api/keel/v1/permissions", { resource: "registered_model:fraud-v2", username: "bob", permission: "NO_PERMISSIONS" });
    const search = await as(bobToken).get("registered-models/search", { max_results: 100 });
    expect((search.body.registered_models ?? []).map((m: { name: string }) => m.name)).not.toContain("fraud-v2");
  });

  it("answers bad permission requests with 400/404, not 500", async () => {
    const c = as(aliceToken);
    expect((await c.call("PUT", "/api/keel/v1/permissions", { resource: `experiment:${expId}`, username: "bob", permission: "OWNER" })).status).toBe(400);
    expect((await c.call("PUT", "/api/keel/v1/permissions", { resource: `experiment:${expId}`, username: "nobody", permission: "READ" })).status).toBe(404);
    expect((await c.call("PUT", "/api/keel/v1/permissions", { resource: `table:${expId}`, username: "bob", permission: "READ" })).status).toBe(400);
    expect((await c.call("PUT", "/api/keel/v1/permissions", { resource: `experiment:${expId}`, permission: "READ" })).status).toBe(400);
    expect((await as(adminToken).get("/api/keel/v1/permissions", { resource: "experiment:999999" })).status).toBe(404);
  });
});

describe("user administration", () => {
  it("is for admins only", async () => {
    expect((await as(aliceToken).post("/api/keel/v1/users", { username: "eve", password: "eve-password-1" })).status).toBe(403);
    expect((await as(aliceToken).post("users/create", { username: "eve", password: "eve-password-1" })).status).toBe(403);
    const created = await as(adminToken).post("users/create", { username: "eve", password: "eve-password-1" });
    expect(created.status).toBe(200);
    expect(created.body.user).toMatchObject({ username: "eve", is_admin: false, experiment_permissions: [], registered_model_permissions: [] });
    expect((await client(t.url, basic("eve", "eve-password-1")).get("/api/keel/v1/whoami")).status).toBe(200);
    expect((await as(adminToken).post("/api/keel/v1/users", { username: "eve", password: "eve-password-1" })).status).toBe(400);
    expect((await as(adminToken).post("/api/keel/v1/users", { username: "../etc", password: "eve-password-1" })).status).toBe(400);
    expect((await as(adminToken).post("/api/keel/v1/users", { username: "shortpw", password: "short" })).status).toBe(400);
  });

  it("signs a user out everywhere when the password changes or the user is deleted", async () => {
    const c = client(t.url, basic("eve", "eve-password-1"));
    expect((await c.get("/api/keel/v1/whoami")).status).toBe(200);
    expect((await as(adminToken).call("PATCH", "users/update-password", { username: "eve", password: "eve-password-2" })).status).toBe(200);
    expect((await c.get("/api/keel/v1/whoami")).status).toBe(401);
    expect((await client(t.url, basic("eve", "eve-password-2")).get("/api/keel/v1/whoami")).status).toBe(200);
    expect((await as(adminToken).call("DELETE", "/api/keel/v1/users/eve")).status).toBe(200);
    expect((await client(t.url, basic("eve", "eve-password-2")).get("/api/keel/v1/whoami")).status).toBe(401);
  });
});

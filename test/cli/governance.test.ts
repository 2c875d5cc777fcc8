/**
 * Governance as users run it: `keel server --auth` (first admin, credentials, a non-loopback bind, HTTPS),
 * `keel admin` straight in the database, and `keel audit verify` catching a record edited behind the
 * server's back.
 */
import { request } from "node:https";
import { fileURLToPath } from "node:url";
import SQLite from "better-sqlite3";
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { dbKind, freshDb, type TestDb } from "../helpers/app.js";
import { CliProcess, requireBuiltCli, runCli } from "../helpers/cli.js";

let tdb: TestDb;
const running: CliProcess[] = [];
const TLS = (f: string) => fileURLToPath(new URL(`../fixtures/tls/${f}`, import.meta.url));

beforeAll(async () => {
  requireBuiltCli();
  tdb = await freshDb();
});
afterEach(async () => {
  for (const p of running.splice(0)) await p.stop();
});
afterAll(async () => tdb?.cleanup());

const dbArgs = () => ["--data", tdb.dataDir, ...(tdb.databaseUrl ? ["--database-url", tdb.databaseUrl] : [])];
const basicAuth = (u: string, p: string) => ({ authorization: `Basic ${Buffer.from(`${u}:${p}`).toString("base64")}` });

async function startServer(args: string[], env: Record<string, string> = {}, scheme = "http"): Promise<{ p: CliProcess; url: string }> {
  const p = new CliProcess(["server", ...dbArgs(), "--port", "0", ...args], env);
  running.push(p);
  const line = await p.waitForLine((l) => typeof l.address === "string", "the listening line");
  return { p, url: `${scheme}://127.0.0.1:${new URL(line.address).port}` };
}

/** Runs SQL on the test database behind the server's back. */
async function tamper(statement: string): Promise<void> {
  if (tdb.databaseUrl) {
    const c = new pg.Client({ connectionString: tdb.databaseUrl });
    await c.connect();
    await c.query(statement);
    await c.end();
  } else {
    const db = new SQLite(`${tdb.dataDir}/keel.db`);
    db.exec(statement);
    db.close();
  }
}

describe(`governance from the command line (${dbKind})`, () => {
  it("keel server --auth creates the first admin from KEEL_ADMIN_PASSWORD, requires credentials, and may bind beyond loopback", async () => {
    const { url } = await startServer(["--auth", "--host", "0.0.0.0"], { KEEL_ADMIN_PASSWORD: "first-admin-pw" });
    expect((await fetch(`${url}/api/2.0/mlflow/experiments/search?max_results=1`)).status).toBe(401);
    expect((await fetch(`${url}/health`)).status).toBe(200);
    const who = await fetch(`${url}/api/keel/v1/whoami`, { headers: basicAuth("admin", "first-admin-pw") });
    expect(await who.json()).toEqual({ username: "admin", is_admin: true, authenticated_by: "password" });
  });

  it("keel admin creates users and tokens in the database; the running server accepts them", async () => {
    const { url } = await startServer(["--auth"]);
    const user = await runCli(["admin", "create-user", "alice", ...dbArgs()]);
    expect(user.code, user.stderr).toBe(0);
    expect(user.stdout).toMatch(/Password \(shown once\): \S{20,}/);
    const tok = await runCli(["admin", "create-token", "alice", "--name", "laptop", "--expires-in", "30d", ...dbArgs()]);
    expect(tok.code, tok.stderr).toBe(0);
    const token = tok.stdout.trim();
    expect(token).toMatch(/^keel_/);
    const who = await fetch(`${url}/api/keel/v1/whoami`, { headers: { authorization: `Bearer ${token}` } });
    expect(await who.json()).toMatchObject({ username: "alice", is_admin: false });

    const dup = await runCli(["admin", "create-user", "alice", ...dbArgs()]);
    expect(dup.code).toBe(1);
    expect(dup.stderr).toMatch(/already exists/);
    const bad = await runCli(["admin", "grant", "experiment:0", "OWNER", "--user", "alice", ...dbArgs()]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/READ, EDIT, MANAGE or NO_PERMISSIONS/);
    const grant = await runCli(["admin", "grant", "experiment:0", "EDIT", "--user", "alice", ...dbArgs()]);
    expect(grant.code, grant.stderr).toBe(0);
  });

  it("keel audit verify passes on an intact chain and names a record edited directly in the database", async () => {
    const ok = await runCli(["audit", "verify", ...dbArgs()]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/Audit chain intact: \d+ record\(s\) verified/);
    const listed = await runCli(["audit", "list", "--json", ...dbArgs()]);
    const records = listed.stdout.trim().split("\n").map((l) => JSON.parse(l) as { seq: number; actor: string; action: string });
    expect(records.map((r) => r.action)).toEqual(expect.arrayContaining(["bootstrap admin", "keel admin create-user", "keel admin create-token", "keel admin grant"]));
    expect(records.find((r) => r.action === "keel admin create-user")?.actor).toMatch(/^cli:/);
    const newest = await runCli(["audit", "list", "--newest-first", "--limit", "2", ...dbArgs()]);
    expect(newest.code, newest.stderr).toBe(0);
    const seqs = newest.stdout.trim().split("\n").map((l) => Number(l.trim().split(/\s+/)[0]));
    expect(seqs).toEqual([records.at(-1)?.seq, records.at(-2)?.seq]);
    expect(newest.stderr).toContain(`more: --newest-first --before ${records.at(-2)?.seq}`);

    await tamper("update audit_log set actor = 'someone-else' where seq = 2");
    const broken = await runCli(["audit", "verify", ...dbArgs()]);
    expect(broken.code).toBe(1);
    expect(broken.stdout).toMatch(/BROKEN at record 2: record 2 was edited/);
  });

  it("serves HTTPS with --tls-cert/--tls-key, and refuses half a TLS configuration", async () => {
    const { url } = await startServer(["--tls-cert", TLS("cert.pem"), "--tls-key", TLS("key.pem")], {}, "https");
    const status = await new Promise<number>((resolve, reject) => {
      request(`${url}/health`, { ca: undefined, rejectUnauthorized: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
        .on("error", reject)
        .end();
    });
    expect(status).toBe(200);
    const half = await runCli(["server", ...dbArgs(), "--port", "0", "--tls-cert", TLS("cert.pem")]);
    expect(half.code).toBe(2);
    expect(half.stderr).toMatch(/both --tls-cert and --tls-key/);
  });
});

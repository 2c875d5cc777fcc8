import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Worker } from "node:worker_threads";
import { type Database, openDatabase } from "../../src/db/database.js";
import { isTransientDbError } from "../../src/db/dialect.js";
import { freshDb, PG_URL } from "../helpers/app.js";
import { createDeploymentStore } from "../../src/deployments/store-sql.js";

const require = createRequire(import.meta.url);
const dirs: string[] = [];
const open: Database[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), "keel-db-"));
  dirs.push(d);
  return d;
}
afterEach(async () => {
  for (const d of open.splice(0)) await d.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function sqlite(durability?: "normal" | "full", databaseUrl?: string): Promise<Database> {
  const d = await openDatabase({ dataDir: tmp(), durability, databaseUrl });
  open.push(d);
  return d;
}

describe("embedded SQLite", () => {
  it("uses WAL, a busy timeout, foreign keys and synchronous=NORMAL by default", async () => {
    const d = await sqlite();
    const raw = d.sqlite!;
    expect(raw.pragma("journal_mode", { simple: true })).toBe("wal");
    expect(raw.pragma("foreign_keys", { simple: true })).toBe(1);
    expect(raw.pragma("busy_timeout", { simple: true })).toBeGreaterThanOrEqual(5000);
    expect(raw.pragma("synchronous", { simple: true })).toBe(1);
    expect(d.describe()).toMatch(/keel\.db$/);
  });

  it("writes wait for another connection's writes instead of failing (BEGIN IMMEDIATE)", async () => {
    // Another connection (here a thread, as the prediction log's writer is) commits short write
    // transactions back to back. A deferred BEGIN that read before the other commit would get SQLITE_BUSY
    // at once when it then writes; an immediate one waits for the lock.
    const d = await sqlite();
    d.sqlite!.exec("create table scratch (id integer primary key, v text)");
    const writer = new Worker(
      `const { workerData, parentPort } = require("node:worker_threads");
       const db = new (require(workerData.driver))(workerData.file);
       db.pragma("busy_timeout = 10000");
       const ins = db.prepare("insert into scratch (v) values (?)");
       const until = Date.now() + 1500;
       let n = 0;
       while (Date.now() < until) { db.transaction(() => { for (let i = 0; i < 50; i++) ins.run("x"); }).immediate(); n++; }
       db.close();
       parentPort.postMessage(n);`,
      { eval: true, workerData: { driver: require.resolve("better-sqlite3"), file: d.describe().slice("sqlite:".length) } },
    );
    const written = new Promise<number>((resolve, reject) => {
      writer.once("message", resolve);
      writer.once("error", reject);
    });
    // A write transaction that reads before it writes (the next generation number, then the row).
    const store = createDeploymentStore(d);
    let created = 0;
    const until = Date.now() + 1200;
    while (Date.now() < until) {
      await store.create({ name: `concurrent-${created}`, variants: [] }, "test", Date.now());
      created++;
    }
    expect(await written).toBeGreaterThan(0);
    expect(created).toBeGreaterThan(0);
    expect((await store.list()).length).toBe(created);
  });

  it("--durability full sets synchronous=FULL", async () => {
    const d = await sqlite("full");
    expect(d.sqlite!.pragma("synchronous", { simple: true })).toBe(2);
  });

  it("accepts sqlite:///absolute/path URLs", async () => {
    const file = join(tmp(), "custom.db");
    const d = await sqlite(undefined, `sqlite://${file}`);
    expect(d.describe()).toBe(`sqlite:${file}`);
  });

  it("rejects an unsupported database URL with a message naming the supported forms", async () => {
    await expect(openDatabase({ dataDir: tmp(), databaseUrl: "mysql://x" })).rejects.toThrow(/postgres:\/\/.*sqlite:\/\/\//);
  });
});

describe.runIf(PG_URL)("Postgres errors a client should retry", () => {
  it("a transaction aborted to break a deadlock is transient (503, retry), not a server fault", async () => {
    const pg = (await import("pg")).default;
    const fresh = await freshDb();
    const url = fresh.databaseUrl as string;
    const a = new pg.Client({ connectionString: url });
    const b = new pg.Client({ connectionString: url });
    await a.connect();
    await b.connect();
    const table = `deadlock_${process.pid}_${Date.now()}`;
    try {
      await a.query(`create table ${table} (id int primary key, v int)`);
      await a.query(`insert into ${table} values (1, 0), (2, 0)`);
      await a.query("begin");
      await b.query("begin");
      await a.query(`update ${table} set v = 1 where id = 1`);
      await b.query(`update ${table} set v = 1 where id = 2`);
      // Each now waits for the other's row: Postgres aborts one of them.
      const results = await Promise.allSettled([a.query(`update ${table} set v = 2 where id = 2`), b.query(`update ${table} set v = 2 where id = 1`)]);
      const failed = results.filter((r) => r.status === "rejected").map((r) => (r as PromiseRejectedResult).reason);
      expect(failed).toHaveLength(1);
      expect(failed[0]).toMatchObject({ code: "40P01" });
      expect(isTransientDbError(failed[0])).toBe(true);
    } finally {
      await a.query("rollback").catch(() => undefined);
      await b.query("rollback").catch(() => undefined);
      await a.query(`drop table if exists ${table}`);
      await a.end();
      await b.end();
      await fresh.cleanup();
    }
  });
});

/**
 * Migrations run at every start, so they must be idempotent and safe when several processes (SQLite) or
 * replicas (Postgres) start at once: every opener succeeds, the Default experiment exists exactly once,
 * each migration is recorded once, and existing data is kept.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { type Database, openDatabase } from "../../src/db/database.js";
import { createTracking } from "../../src/tracking/index.js";
import { freshDb, PG_URL } from "../helpers/app.js";
import { ROOT, requireBuiltCli } from "../helpers/cli.js";

/** What a migrated database holds that migrations must never duplicate or lose. */
async function snapshot(database: Database) {
  const db = database.db;
  const defaults = await db.selectFrom("experiments").select(["experiment_id", "name", "lifecycle_stage"]).where("name", "=", "Default").execute();
  const migrations = await db.selectFrom("keel_migration" as never).select("name" as never).execute();
  const experiments = await db.selectFrom("experiments").select(["experiment_id", "name"]).orderBy("experiment_id").execute();
  return {
    defaults: defaults.map((d) => ({ ...d, experiment_id: Number(d.experiment_id) })),
    migrations: (migrations as { name: string }[]).map((m) => m.name).sort(),
    experiments: experiments.map((e) => `${e.experiment_id}:${e.name}`),
  };
}

/** Data written through the real service, so "kept" means readable the way users read it. */
async function writeSomething(database: Database): Promise<{ experimentId: string; runId: string }> {
  const svc = createTracking(database);
  const experimentId = await svc.createExperiment("kept", undefined, [{ key: "k", value: "v" }]);
  const run = await svc.createRun({ experimentId, runName: "r", tags: [] });
  await svc.logBatch(run.info.run_id, [{ key: "m", value: 1.5, timestamp: 1, step: 0 }], [{ key: "p", value: "1" }], []);
  return { experimentId, runId: run.info.run_id };
}

async function expectKept(database: Database, ids: { experimentId: string; runId: string }): Promise<void> {
  const svc = createTracking(database);
  expect((await svc.getExperiment(ids.experimentId)).name).toBe("kept");
  const run = await svc.getRun(ids.runId);
  expect(run.data.params).toEqual([{ key: "p", value: "1" }]);
  expect(run.data.metrics).toEqual([{ key: "m", value: 1.5, timestamp: 1, step: 0 }]);
}

function expectOneDefault(s: Awaited<ReturnType<typeof snapshot>>): void {
  expect(s.defaults).toEqual([{ experiment_id: 0, name: "Default", lifecycle_stage: "active" }]);
  expect(s.migrations.length).toBeGreaterThan(0);
  expect(new Set(s.migrations).size, `migrations recorded twice: ${s.migrations}`).toBe(s.migrations.length);
}

describe("SQLite", () => {
  it("opening the same file again migrates nothing twice and keeps the data", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "keel-migrate-"));
    try {
      const first = await openDatabase({ dataDir });
      const ids = await writeSomething(first);
      const before = await snapshot(first);
      expectOneDefault(before);
      await first.close();

      for (const opts of [{ dataDir }, { dataDir: "/nonexistent-unused", databaseUrl: `sqlite://${join(dataDir, "keel.db")}` }]) {
        const again = await openDatabase(opts);
        try {
          const after = await snapshot(again);
          expect(after).toEqual(before);
          await expectKept(again, ids);
        } finally {
          await again.close();
        }
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it("several processes opening one fresh data directory at once all succeed", async () => {
    // Separate processes, as `keel server` and `keel gc` (or two servers started by mistake) would be: in one
    // process two SQLite connections would only wait on each other. The children run the compiled code
    // (dist/, as the CLI does), load it, say "ready", and open the database together when told "go".
    requireBuiltCli();
    const entry = join(ROOT, "dist", "db", "database.js");
    const code = `const { openDatabase } = await import(${JSON.stringify(pathToFileURL(entry).href)});
      process.stdout.write("ready\\n");
      process.stdin.once("data", async () => {
        try { const d = await openDatabase({ dataDir: process.argv[1] }); await d.close(); console.log("opened"); process.exit(0); }
        catch (e) { console.log("failed: " + (e && e.message)); process.exit(1); }
      });`;
    const failures: string[] = [];
    for (let trial = 0; trial < 3; trial++) {
      const dataDir = mkdtempSync(join(tmpdir(), "keel-migrate-race-"));
      try {
        const children = Array.from({ length: 4 }, () => {
          const p = spawn(process.execPath, ["--input-type=module", "-e", code, dataDir], { stdio: ["pipe", "pipe", "pipe"] });
          let out = "";
          const ready = new Promise<void>((resolve) => {
            p.stdout.on("data", (d) => {
              out += d;
              if (out.includes("ready")) resolve();
            });
          });
          p.stderr.on("data", (d) => {
            out += d;
          });
          const done = new Promise<{ code: number | null; out: string }>((resolve) => p.on("close", (c) => resolve({ code: c, out: out.trim() })));
          return { p, ready, done };
        });
        await Promise.all(children.map((c) => Promise.race([c.ready, c.done])));
        for (const c of children) c.p.stdin.end("go\n");
        for (const r of await Promise.all(children.map((c) => c.done))) {
          if (r.code !== 0) failures.push(`trial ${trial}: exit ${r.code}: ${r.out.slice(-300)}`);
        }
        const database = await openDatabase({ dataDir });
        try {
          expectOneDefault(await snapshot(database));
        } finally {
          await database.close();
        }
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    }
    expect(failures).toEqual([]);
  });
});

describe.runIf(PG_URL)("Postgres", () => {
  it("opening the same database again migrates nothing twice and keeps the data", async () => {
    const fresh = await freshDb();
    try {
      const first = await openDatabase({ dataDir: fresh.dataDir, databaseUrl: fresh.databaseUrl });
      const ids = await writeSomething(first);
      const before = await snapshot(first);
      expectOneDefault(before);
      await first.close();
      const again = await openDatabase({ dataDir: fresh.dataDir, databaseUrl: fresh.databaseUrl });
      try {
        expect(await snapshot(again)).toEqual(before);
        await expectKept(again, ids);
      } finally {
        await again.close();
      }
    } finally {
      await fresh.cleanup();
    }
  });

  it("openDatabase() calls racing on one fresh database all succeed and leave exactly one Default experiment", async () => {
    for (let trial = 0; trial < 3; trial++) {
      const fresh = await freshDb();
      const opened: Database[] = [];
      try {
        const results = await Promise.allSettled(
          Array.from({ length: trial === 0 ? 2 : 4 }, () => openDatabase({ dataDir: fresh.dataDir, databaseUrl: fresh.databaseUrl, poolSize: 2 })),
        );
        for (const r of results) if (r.status === "fulfilled") opened.push(r.value);
        const errors = results.flatMap((r) => (r.status === "rejected" ? [String((r.reason as Error)?.message ?? r.reason)] : []));
        expect(errors, `trial ${trial}`).toEqual([]);
        for (const d of opened) expectOneDefault(await snapshot(d));
        // Both handles work on the one schema.
        const ids = await writeSomething(opened[0]);
        await expectKept(opened[opened.length - 1], ids);
      } finally {
        for (const d of opened) await d.close();
        await fresh.cleanup();
      }
    }
  });
});

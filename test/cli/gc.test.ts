/**
 * `keel gc` as users run it: state built through a real app on a temp data dir (or a fresh Postgres
 * database), the app closed, then the compiled CLI run against the same database, and the database read
 * back through a fresh connection.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "../../src/db/database.js";
import { buildApp } from "../../src/server/app.js";
import { client, dbKind, freshDb, type TestDb, testArtifactStore } from "../helpers/app.js";
import { requireBuiltCli, runCli } from "../helpers/cli.js";

type Client = ReturnType<typeof client>;

let tdb: TestDb;

/** Runs `fn` against a real app on the test database, then closes both (gc runs with no server up). */
async function withApp<T>(fn: (c: Client) => Promise<T>): Promise<T> {
  const database = await openDatabase({ dataDir: tdb.dataDir, databaseUrl: tdb.databaseUrl });
  const { app } = await buildApp({ database, artifacts: await testArtifactStore(tdb.dataDir) });
  try {
    const url = await app.listen({ host: "127.0.0.1", port: 0 });
    return await fn(client(url));
  } finally {
    await app.close();
    await database.close();
  }
}

const dbArgs = () => ["--data", tdb.dataDir, ...(tdb.databaseUrl ? ["--database-url", tdb.databaseUrl] : [])];
const gc = (...args: string[]) => runCli(["gc", ...dbArgs(), ...args]);

/** Who owns the rows of each table: a run or an experiment. */
const OWNERS = {
  experiments: ["exp", "experiment_id"],
  experiment_tags: ["exp", "experiment_id"],
  datasets: ["exp", "experiment_id"],
  runs: ["run", "run_uuid"],
  metrics: ["run", "run_uuid"],
  latest_metrics: ["run", "run_uuid"],
  params: ["run", "run_uuid"],
  tags: ["run", "run_uuid"],
  inputs: ["run", "run_uuid"],
  input_tags: ["run", "run_uuid"],
} as const;

/** Every row of every tracking table, counted per owner: `{"metrics run <id>": 3, …}` read through a fresh connection. */
async function snapshot(): Promise<Record<string, number>> {
  const database = await openDatabase({ dataDir: tdb.dataDir, databaseUrl: tdb.databaseUrl });
  try {
    const out: Record<string, number> = {};
    for (const [table, [kind, col]] of Object.entries(OWNERS)) {
      const rows = await sql<{ owner: string | number; n: string | number }>`select ${sql.ref(col)} as owner, count(*) as n from ${sql.table(table)} group by ${sql.ref(col)}`.execute(
        database.db,
      );
      for (const r of rows.rows) out[`${table} ${kind} ${r.owner}`] = Number(r.n);
    }
    return out;
  } finally {
    await database.close();
  }
}

function without(snap: Record<string, number>, gone: { runs?: string[]; experiments?: string[] }): Record<string, number> {
  const runs = new Set(gone.runs ?? []);
  const exps = new Set(gone.experiments ?? []);
  return Object.fromEntries(
    Object.entries(snap).filter(([k]) => {
      const [, kind, owner] = k.split(" ");
      return !(kind === "run" ? runs.has(owner) : exps.has(owner));
    }),
  );
}

/** Removed ids as `keel gc` lists them ("  experiment 3", "  run abc…"). */
function listed(stdout: string): { runs: string[]; experiments: string[] } {
  const lines = stdout.split("\n").map((l) => l.trim());
  return {
    runs: lines.filter((l) => l.startsWith("run ")).map((l) => l.slice(4)).sort(),
    experiments: lines.filter((l) => l.startsWith("experiment ")).map((l) => l.slice(11)).sort(),
  };
}

async function createExperiment(c: Client, name: string): Promise<string> {
  const r = await c.post("experiments/create", { name, tags: [{ key: "owner", value: "gc-test" }] });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body.experiment_id;
}

/** A run with rows in every run-owned table: metrics (history + latest), params, tags, a dataset input with a tag. */
async function fullRun(c: Client, experimentId: string, name: string): Promise<string> {
  const r = await c.post("runs/create", { experiment_id: experimentId, run_name: name, start_time: 1000 });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  const id: string = r.body.run.info.run_id;
  const batch = await c.post("runs/log-batch", {
    run_id: id,
    metrics: [
      { key: "loss", value: 1, timestamp: 1, step: 0 },
      { key: "loss", value: 0.5, timestamp: 2, step: 1 },
      { key: "acc", value: 0.7, timestamp: 2, step: 1 },
    ],
    params: [
      { key: "lr", value: "0.1" },
      { key: "depth", value: "3" },
    ],
    tags: [{ key: "team", value: "gc" }],
  });
  expect(batch.status, JSON.stringify(batch.body)).toBe(200);
  const inputs = await c.post("runs/log-inputs", {
    run_id: id,
    datasets: [{ tags: [{ key: "mlflow.data.context", value: "training" }], dataset: { name: "train", digest: "d1", source_type: "local", source: "{}" } }],
  });
  expect(inputs.status, JSON.stringify(inputs.body)).toBe(200);
  const art = await c.call("PUT", `/api/2.0/mlflow-artifacts/artifacts/${experimentId}/${id}/artifacts/model/weights.bin`, "bytes");
  expect(art.status, JSON.stringify(art.body)).toBe(200);
  return id;
}

// Built once; each test below runs gc and checks the database against the snapshot taken before it.
const ids = {} as {
  expActive: string;
  expDeleted: string;
  expScoped: string;
  expOther: string;
  runActive: string;
  runDeleted1: string;
  runDeleted2: string;
  runInDeletedExpActive: string;
  runInDeletedExpDeleted: string;
  runInScoped: string;
  runOther: string;
};
let before: Record<string, number>;

beforeAll(async () => {
  requireBuiltCli();
  tdb = await freshDb();
  await withApp(async (c) => {
    ids.expActive = await createExperiment(c, "gc-active");
    ids.runActive = await fullRun(c, ids.expActive, "keep-me");
    ids.runDeleted1 = await fullRun(c, ids.expActive, "deleted-1");
    ids.runDeleted2 = await fullRun(c, ids.expActive, "deleted-2");
    ids.expDeleted = await createExperiment(c, "gc-deleted");
    ids.runInDeletedExpActive = await fullRun(c, ids.expDeleted, "in-deleted-exp-active");
    ids.runInDeletedExpDeleted = await fullRun(c, ids.expDeleted, "in-deleted-exp-deleted");
    ids.expScoped = await createExperiment(c, "gc-scoped");
    ids.runInScoped = await fullRun(c, ids.expScoped, "in-scoped");
    ids.expOther = await createExperiment(c, "gc-other");
    ids.runOther = await fullRun(c, ids.expOther, "other");
    for (const run of [ids.runDeleted1, ids.runDeleted2, ids.runInDeletedExpDeleted]) expect((await c.post("runs/delete", { run_id: run })).status).toBe(200);
    for (const exp of [ids.expDeleted, ids.expScoped]) expect((await c.post("experiments/delete", { experiment_id: exp })).status).toBe(200);
    // Before gc, a deleted experiment still holds its name.
    const clash = await c.post("experiments/create", { name: "gc-deleted" });
    expect(clash.status).toBe(400);
    expect(clash.body.error_code).toBe("RESOURCE_ALREADY_EXISTS");
  });
  before = await snapshot();
  // Sanity: the snapshot sees rows in every table for a full run, so "gone" below means something.
  for (const table of ["runs", "metrics", "latest_metrics", "params", "tags", "inputs", "input_tags"]) {
    expect(before[`${table} run ${ids.runDeleted1}`], `${table} rows for a run`).toBeGreaterThan(0);
  }
  for (const table of ["experiments", "experiment_tags", "datasets"]) {
    expect(before[`${table} exp ${ids.expDeleted}`], `${table} rows for an experiment`).toBeGreaterThan(0);
  }
});
afterAll(async () => tdb?.cleanup());

describe(`keel gc (${dbKind})`, () => {
  it("rejects a bad --older-than with a clear message and a non-zero exit, touching nothing", async () => {
    const r = await gc("--older-than", "abc");
    expect(r.code, r.stderr).not.toBe(0);
    expect(r.stderr).toMatch(/Invalid duration 'abc'/);
    expect(r.stderr).toMatch(/30d/);
    expect(r.stdout).toBe("");
    expect(await snapshot()).toEqual(before);
  });

  it("--older-than 30d removes nothing deleted just now", async () => {
    const r = await gc("--older-than", "30d");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Removed 0 run\(s\) and 0 experiment\(s\)/);
    expect(await snapshot()).toEqual(before);
  });

  it("--run-ids limits gc to those deleted runs (active runs named there are left alone)", async () => {
    const artifactDir = (exp: string, run: string) => join(tdb.dataDir, "artifacts", exp, run);
    expect(existsSync(artifactDir(ids.expActive, ids.runDeleted1))).toBe(true);
    const r = await gc("--older-than", "0s", "--run-ids", `${ids.runDeleted1},${ids.runActive}`);
    expect(r.code, r.stderr).toBe(0);
    // The removed run's artifacts go with it; the active run's stay.
    expect(r.stdout).toMatch(/Removed 1 artifact file\(s\)/);
    expect(existsSync(artifactDir(ids.expActive, ids.runDeleted1))).toBe(false);
    expect(existsSync(join(artifactDir(ids.expActive, ids.runActive), "artifacts", "model", "weights.bin"))).toBe(true);
    expect(listed(r.stdout)).toEqual({ runs: [ids.runDeleted1], experiments: [] });
    const expected = without(before, { runs: [ids.runDeleted1] });
    expect(await snapshot()).toEqual(expected);
    before = expected;
  });

  it("--experiment-ids limits gc to those deleted experiments", async () => {
    const r = await gc("--older-than", "0s", "--experiment-ids", ids.expScoped);
    expect(r.code, r.stderr).toBe(0);
    expect(listed(r.stdout)).toEqual({ runs: [ids.runInScoped], experiments: [ids.expScoped] });
    const expected = without(before, { runs: [ids.runInScoped], experiments: [ids.expScoped] });
    expect(await snapshot()).toEqual(expected);
    before = expected;
  });

  it("--older-than 0s removes every deleted run and experiment (with all their rows) and nothing else", async () => {
    const r = await gc("--older-than", "0s");
    expect(r.code, r.stderr).toBe(0);
    const gone = { runs: [ids.runDeleted2, ids.runInDeletedExpActive, ids.runInDeletedExpDeleted].sort(), experiments: [ids.expDeleted] };
    expect(listed(r.stdout)).toEqual(gone);
    const after = await snapshot();
    expect(after).toEqual(without(before, gone));
    // What stays: the Default experiment, the active experiments and their active run, row for row.
    for (const exp of ["0", ids.expActive, ids.expOther]) expect(after[`experiments exp ${exp}`]).toBe(1);
    for (const run of [ids.runActive, ids.runOther]) {
      for (const table of ["runs", "metrics", "latest_metrics", "params", "tags", "inputs", "input_tags"]) {
        expect(after[`${table} run ${run}`], `${table} of ${run}`).toBe(before[`${table} run ${run}`]);
      }
    }
    // Nothing left for gc to do.
    const again = await gc("--older-than", "0s");
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/Removed 0 run\(s\) and 0 experiment\(s\)/);
  });

  it("frees a deleted experiment's name, and the server still serves what was kept", async () => {
    await withApp(async (c) => {
      const created = await c.post("experiments/create", { name: "gc-deleted" });
      expect(created.status, JSON.stringify(created.body)).toBe(200);
      expect(created.body.experiment_id).not.toBe(ids.expDeleted);
      const run = await c.post("runs/create", { experiment_id: created.body.experiment_id });
      expect(run.status).toBe(200);
      expect((await c.get("experiments/get", { experiment_id: ids.expDeleted })).status).toBe(404);
      expect((await c.get("runs/get", { run_id: ids.runDeleted2 })).status).toBe(404);
      const kept = await c.get("runs/get", { run_id: ids.runActive });
      expect(kept.status).toBe(200);
      expect(kept.body.run.data.metrics).toHaveLength(2);
      expect(kept.body.run.inputs.dataset_inputs).toHaveLength(1);
      const history = await c.get("metrics/get-history", { run_id: ids.runActive, metric_key: "loss" });
      expect(history.body.metrics.map((m: { value: number }) => m.value)).toEqual([1, 0.5]);
    });
  });
});

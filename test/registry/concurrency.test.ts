/**
 * Many writers, one registry: concurrent version creations on one model get distinct, gapless numbers;
 * concurrent writes to many models all succeed; and a reader tailing the change feed while they write
 * sees every event exactly once, in order (no sequence number is passed before its transaction commits).
 * On Postgres, two servers with their own connection pools share the database.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Database, openDatabase } from "../../src/db/database.js";
import { createRegistry, type RegistryService } from "../../src/registry/index.js";
import { createTracking } from "../../src/tracking/index.js";
import { client, dbKind, startTestApp, type TestApp } from "../helpers/app.js";
import { newModel, newRun } from "../helpers/registry.js";

let t: TestApp;
let c: ReturnType<typeof client>;
let run: { runId: string; artifactUri: string };
beforeAll(async () => {
  t = await startTestApp();
  c = client(t.url);
  run = await newRun(c);
});
afterAll(async () => t?.close());

const createVersion = (name: string) => c.post("model-versions/create", { name, source: `${run.artifactUri}/model`, run_id: run.runId });

/** Follows the feed from `after` by long polling until `stop()` and one last empty read; returns every seq seen. */
async function tail(registry: RegistryService, after: number, stop: () => boolean): Promise<number[]> {
  const seen: number[] = [];
  for (;;) {
    const stopping = stop();
    const batch = await registry.events(after, 50, stopping ? 0 : 200);
    seen.push(...batch.map((e) => e.seq));
    if (batch.length) after = batch[batch.length - 1].seq;
    else if (stopping) return seen;
  }
}

async function allSeqs(after: number): Promise<number[]> {
  const out: number[] = [];
  for (;;) {
    const batch = await t.registry.events(after, 1000, 0);
    if (!batch.length) return out;
    out.push(...batch.map((e) => e.seq));
    after = batch[batch.length - 1].seq;
  }
}

describe("concurrent registry writes", () => {
  it("numbers concurrent versions of one model 1..N with no gaps or repeats", async () => {
    await newModel(c, "race");
    const answers = await Promise.all(Array.from({ length: 40 }, () => createVersion("race")));
    expect(answers.filter((a) => a.status !== 200)).toEqual([]);
    const numbers = answers.map((a) => Number(a.body.model_version.version)).sort((a, b) => a - b);
    expect(numbers).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
  });

  it("a reader tailing the feed during concurrent writes sees every event once, in order", async () => {
    const start = (await allSeqs(0)).at(-1) ?? 0;
    let done = false;
    const reader = tail(t.registry, start, () => done);
    const writes = Array.from({ length: 6 }, async (_, w) => {
      const name = `busy-${w}`;
      await newModel(c, name);
      for (let i = 0; i < 8; i++) {
        expect((await createVersion(name)).status).toBe(200);
        expect((await c.post("registered-models/alias", { name, alias: "latest-good", version: String(i + 1) })).status).toBe(200);
        expect((await c.post("model-versions/transition-stage", { name, version: String(i + 1), stage: "Staging", archive_existing_versions: true })).status).toBe(200);
      }
    });
    await Promise.all(writes);
    done = true;
    const seen = await reader;
    const all = await allSeqs(start);
    expect(seen).toEqual(all);
    // 6 models × (1 created + 8 × (version, alias, stage, and from the second on one archived))
    expect(all.length).toBe(6 * (1 + 8 * 3 + 7));
  });
});

describe.runIf(dbKind === "postgres")("two servers sharing one database", () => {
  let second: Database;
  let other: RegistryService;
  beforeAll(async () => {
    second = await openDatabase({ dataDir: t.db.dataDir, databaseUrl: t.db.databaseUrl });
    other = createRegistry(second, createTracking(second));
  });
  afterAll(async () => second?.close());

  it("interleaved writers on both servers share one numbering and one ordered feed", async () => {
    await newModel(c, "shared");
    const start = (await allSeqs(0)).at(-1) ?? 0;
    let done = false;
    const readers = [tail(t.registry, start, () => done), tail(other, start, () => done)];
    const source = `${run.artifactUri}/model`;
    const viaHttp = Array.from({ length: 20 }, () => createVersion("shared").then((r) => Number(r.body.model_version.version)));
    const viaOther = Array.from({ length: 20 }, () =>
      other.createVersion({ name: "shared", source, runId: run.runId, runLink: "", description: "", tags: [] }).then((v) => Number(v.version)),
    );
    const numbers = (await Promise.all([...viaHttp, ...viaOther])).sort((a, b) => a - b);
    expect(numbers).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    done = true;
    const all = await allSeqs(start);
    expect(all).toHaveLength(40);
    for (const seen of await Promise.all(readers)) expect(seen).toEqual(all);
  });
});

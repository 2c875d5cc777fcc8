import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type Database, openDatabase } from "../../src/db/database.js";

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

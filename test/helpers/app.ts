import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { createFsArtifactStore } from "../../src/artifacts/store-fs.js";
import { type Database, openDatabase } from "../../src/db/database.js";
import { type AppOptions, buildApp, type KeelApp } from "../../src/server/app.js";

/**
 * A real app on a real database: a fresh SQLite file in a temp dir, or — when KEEL_TEST_DATABASE_URL is
 * set — a fresh Postgres database created for this app and dropped afterwards.
 */
export interface TestDb {
  dataDir: string;
  databaseUrl?: string;
  cleanup(): Promise<void>;
}

export const PG_URL = process.env.KEEL_TEST_DATABASE_URL;
export const dbKind = PG_URL ? "postgres" : "sqlite";

export async function freshDb(): Promise<TestDb> {
  const dataDir = mkdtempSync(join(tmpdir(), "keel-test-"));
  if (!PG_URL) return { dataDir, cleanup: async () => rmSync(dataDir, { recursive: true, force: true }) };
  const name = `keel_t_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(PG_URL);
  url.pathname = `/${name}`;
  return {
    dataDir,
    databaseUrl: url.toString(),
    cleanup: async () => {
      rmSync(dataDir, { recursive: true, force: true });
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

export interface TestApp extends KeelApp {
  url: string;
  database: Database;
  db: TestDb;
  close(): Promise<void>;
}

/** The filesystem artifact store under a data dir, where `keel server` puts it by default. */
export function testArtifactStore(dataDir: string) {
  return createFsArtifactStore({ root: join(dataDir, "artifacts"), uploadsDir: join(dataDir, "artifact-uploads") });
}

export type TestAppOptions = Partial<Pick<AppOptions, "now" | "auth" | "redisUrl" | "webhooks" | "eventPollMs" | "uiDir">>;

export async function startTestApp(opts: TestAppOptions = {}): Promise<TestApp> {
  const db = await freshDb();
  const database = await openDatabase({ dataDir: db.dataDir, databaseUrl: db.databaseUrl });
  const built = await buildApp({ database, artifacts: await testArtifactStore(db.dataDir), ...opts });
  const url = await built.app.listen({ host: "127.0.0.1", port: 0 });
  return {
    ...built,
    url,
    database,
    db,
    close: async () => {
      await built.app.close();
      await database.close();
      await db.cleanup();
    },
  };
}

/** Authorization header values for tests. */
export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
export const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}` });

/** A tiny MLflow-style client: JSON in, {status, body} out; `headers` go with every call (credentials). */
export function client(base: string, headers: Record<string, string> = {}) {
  const call = async (method: string, path: string, body?: unknown, query?: Record<string, string | string[] | number>) => {
    const u = new URL(path.startsWith("/") ? path : `/api/2.0/mlflow/${path}`, base);
    for (const [k, v] of Object.entries(query ?? {})) for (const x of Array.isArray(v) ? v : [v]) u.searchParams.append(k, String(x));
    const res = await fetch(u, {
      method,
      headers: body === undefined ? headers : { ...headers, "content-type": "application/json" },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = text;
    }
    // biome-ignore lint/suspicious/noExplicitAny: test convenience: responses are asserted field by field
    return { status: res.status, body: json as any };
  };
  return {
    call,
    post: (path: string, body: unknown = {}) => call("POST", path, body),
    get: (path: string, query: Record<string, string | string[] | number> = {}) => call("GET", path, undefined, query),
  };
}

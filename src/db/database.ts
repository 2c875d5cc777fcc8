import { mkdirSync } from "node:fs";
import { join } from "node:path";
import SQLite from "better-sqlite3";
import { CompiledQuery, type DatabaseConnection, type Driver, Kysely, PostgresDialect, SqliteDialect } from "kysely";
import pg from "pg";
import { migrateToLatest } from "./migrate.js";
import type { DB } from "./types.js";
import type { CommitHook } from "./write-tx.js";

export type Durability = "normal" | "full";

export interface DatabaseOptions {
  /** postgres://… or sqlite:///path/file.db; when absent, SQLite at <dataDir>/keel.db */
  databaseUrl?: string;
  dataDir: string;
  durability?: Durability;
  /** Postgres pool size. */
  poolSize?: number;
}

export interface PoolStats {
  total: number;
  idle: number;
  waiting: number;
}

/**
 * The one place that knows which dialect is in use. Stores get `db` (Kysely, both dialects) and may take
 * the raw SQLite handle for hot paths; anything else dialect-specific is a field here, not an `if` in a service.
 */
export interface Database {
  kind: "sqlite" | "postgres";
  db: Kysely<DB>;
  /** Raw handle for prepared-statement hot paths. Only touch it inside `withSqlite` so Kysely's connection lock is held. */
  sqlite?: SQLite.Database;
  /** The SQLite file, for a second connection from a worker thread (undefined in memory and on Postgres). */
  sqliteFile?: string;
  /** Runs `fn` holding the single SQLite connection (no Kysely query can interleave). */
  withSqlite<T>(fn: (raw: SQLite.Database) => T): Promise<T>;
  /** Run inside every write transaction (db/write-tx.ts); governance adds the audit chain here. */
  commitHooks: CommitHook[];
  poolStats(): PoolStats;
  describe(): string;
  close(): Promise<void>;
}

export async function openDatabase(opts: DatabaseOptions): Promise<Database> {
  const url = opts.databaseUrl;
  if (url && /^postgres(ql)?:\/\//.test(url)) {
    const database = openPostgres(url, opts.poolSize ?? 10);
    try {
      await migrateToLatest(database);
    } catch (err) {
      await database.close();
      throw err;
    }
    return database;
  }
  const file = sqlitePath(url, opts.dataDir);
  // Several processes opening one fresh file: switching it to WAL and the first migration take locks for
  // which SQLite does not always wait out the busy timeout (it answers "database is locked" at once to
  // avoid deadlocks). Those are safe to retry from the start, with a backoff, for a while.
  const deadline = Date.now() + 15_000;
  for (let attempt = 0; ; attempt++) {
    let database: Database | undefined;
    try {
      database = openSqlite(file, opts.durability ?? "normal");
      await migrateToLatest(database);
      return database;
    } catch (err) {
      await database?.close();
      const code = (err as { code?: unknown }).code;
      const busy = typeof code === "string" && (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED"));
      if (!busy || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, Math.min(500, 20 * 2 ** attempt) * (0.5 + Math.random())));
    }
  }
}

function sqlitePath(url: string | undefined, dataDir: string): string {
  if (!url) {
    mkdirSync(dataDir, { recursive: true });
    return join(dataDir, "keel.db");
  }
  if (url.startsWith("sqlite:///")) return url.slice("sqlite:///".length - 1);
  if (url.startsWith("sqlite://")) return url.slice("sqlite://".length);
  throw new Error(`Unsupported --database-url '${url}': use postgres://user@host:port/db or sqlite:///absolute/path.db`);
}

/**
 * Write transactions take SQLite's write lock when they begin (BEGIN IMMEDIATE), waiting out busy_timeout
 * for another connection's write (the prediction log's writer thread, another process). A deferred BEGIN
 * that reads first and writes later fails at once with SQLITE_BUSY when another connection committed in
 * between: the busy handler does not apply to that upgrade.
 */
class ImmediateSqliteDialect extends SqliteDialect {
  override createDriver(): Driver {
    const driver = super.createDriver();
    driver.beginTransaction = async (connection: DatabaseConnection) => {
      await connection.executeQuery(CompiledQuery.raw("begin immediate"));
    };
    return driver;
  }
}

function openSqlite(file: string, durability: Durability): Database {
  const raw = new SQLite(file);
  try {
    // The busy timeout first: switching a fresh file to WAL takes a lock another process may hold.
    raw.pragma("busy_timeout = 10000");
    raw.pragma("journal_mode = WAL");
    raw.pragma("foreign_keys = ON");
    // WAL + NORMAL: a commit survives a process crash (kill -9); FULL also survives power loss.
    raw.pragma(`synchronous = ${durability === "full" ? "FULL" : "NORMAL"}`);
    raw.pragma("cache_size = -65536");
    raw.pragma("temp_store = MEMORY");
    // MLflow documents LIKE as case-sensitive (ILIKE is the insensitive one), as Postgres does.
    raw.pragma("case_sensitive_like = ON");
  } catch (err) {
    raw.close();
    throw err;
  }
  const db = new Kysely<DB>({ dialect: new ImmediateSqliteDialect({ database: raw }) });
  let closed = false;
  return {
    kind: "sqlite",
    db,
    sqlite: raw,
    ...(file !== ":memory:" && file !== "" ? { sqliteFile: file } : {}),
    withSqlite: (fn) => db.connection().execute(async () => fn(raw)),
    commitHooks: [],
    poolStats: () => ({ total: 1, idle: 1, waiting: 0 }),
    describe: () => `sqlite:${file}`,
    close: async () => {
      if (closed) return;
      closed = true;
      await db.destroy();
    },
  };
}

function openPostgres(url: string, poolSize: number): Database {
  const int8 = 20;
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    // A runaway query (a pathological search) is cancelled instead of holding a connection forever;
    // the client gets a retryable 503 (57014 is transient in dialect.ts).
    statement_timeout: 60_000,
    // bigint columns hold epoch ms and steps: well inside 2^53, so hand them back as numbers.
    types: {
      getTypeParser: ((oid: number, format?: "text" | "binary") =>
        oid === int8 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as "text")) as typeof pg.types.getTypeParser,
    },
  });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on("error", () => {});
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
  let closed = false;
  return {
    kind: "postgres",
    db,
    withSqlite: () => Promise.reject(new Error("withSqlite called on a Postgres database")),
    commitHooks: [],
    poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    describe: () => url.replace(/\/\/([^:@/]+):[^@/]*@/, "//$1:***@"),
    close: async () => {
      if (closed) return;
      closed = true;
      await db.destroy();
    },
  };
}

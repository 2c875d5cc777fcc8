import { type Kysely, type RawBuilder, sql } from "kysely";
import { KeelError } from "../core/errors.js";
import type { DB } from "./types.js";

/**
 * The few SQL differences between SQLite and Postgres, in one place (as Kysely's adapters do), so
 * stores build one query for both.
 */
export interface Dialect {
  kind: "sqlite" | "postgres";
  /** Case-insensitive LIKE. */
  ilike(column: RawBuilder<unknown>, pattern: unknown): RawBuilder<boolean>;
  /** Most bind parameters one statement may carry (SQLite 32766, Postgres 65535), with headroom. */
  maxParams: number;
  /**
   * The indexed form of a param/tag value. Postgres btree entries must stay under ~2.7 kB, so there the
   * (key, value) index holds a 256-character prefix (migration 002); SQLite indexes the whole value.
   */
  valuePrefix(expr: RawBuilder<unknown>): RawBuilder<unknown>;
  /**
   * Called in a transaction just before it appends to an ordered log (registry_events), as its last write.
   * Sequence numbers are drawn at insert but become visible at commit; unless appenders take turns, a
   * reader polling "seq > N" could pass a number whose transaction commits later and never see it.
   * Postgres: a transaction-scoped advisory lock, held until commit. SQLite: writers already take turns.
   */
  lockOrderedAppend(tx: Kysely<DB>): Promise<void>;
  /** Text in code-point order, as SQLite sorts it; Postgres would follow the database's locale ("a" < "B" < "b"). */
  byteOrder(expr: RawBuilder<unknown>): RawBuilder<unknown>;
}

/** Arbitrary constant naming the ordered-append advisory lock on Postgres. */
const ORDERED_APPEND_LOCK = 0x6b65656c;

export const VALUE_PREFIX_CHARS = 256;

export function dialectFor(kind: "sqlite" | "postgres"): Dialect {
  return kind === "postgres"
    ? {
        kind,
        ilike: (c, p) => sql<boolean>`${c} ilike ${p}`,
        maxParams: 60000,
        valuePrefix: (e) => sql`left(${e}, ${sql.raw(String(VALUE_PREFIX_CHARS))})`,
        lockOrderedAppend: async (tx) => {
          await sql`select pg_advisory_xact_lock(${ORDERED_APPEND_LOCK})`.execute(tx);
        },
        byteOrder: (e) => sql`${e} collate "C"`,
      }
    : {
        kind,
        ilike: (c, p) => sql<boolean>`lower(${c}) like lower(${p})`,
        maxParams: 30000,
        valuePrefix: (e) => e,
        lockOrderedAppend: async () => {},
        byteOrder: (e) => e,
      };
}

export function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === "23505" || code === "SQLITE_CONSTRAINT_UNIQUE" || code === "SQLITE_CONSTRAINT_PRIMARYKEY";
}

/** A database that is busy or gone is the server's problem (503, retryable), never the user's. */
export function isTransientDbError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== "string") return false;
  // SQLite's extended codes (SQLITE_BUSY_SNAPSHOT, SQLITE_LOCKED_SHAREDCACHE…) are the same condition.
  if (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED")) return true;
  // Postgres: admin shutdown, too many connections, statement_timeout, and the transaction it aborted to
  // break a deadlock or a serialization conflict (nothing of it was written); network: refused or reset.
  return code === "ECONNREFUSED" || code === "ECONNRESET" || code === "57P01" || code === "53300" || code === "57014" || code === "40P01" || code === "40001";
}

export function unavailable(err: unknown): KeelError {
  return new KeelError("TEMPORARILY_UNAVAILABLE", `The database is busy or unreachable (${(err as Error).message}); retry shortly.`);
}

/** Splits a list so that each chunk times `width` bound values stays under the dialect's limit. */
export function chunk<T>(items: T[], width: number, maxParams: number): T[][] {
  const size = Math.max(1, Math.floor(maxParams / width));
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

import { type RawBuilder, sql } from "kysely";
import { KeelError } from "../core/errors.js";

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
}

export function dialectFor(kind: "sqlite" | "postgres"): Dialect {
  return kind === "postgres"
    ? { kind, ilike: (c, p) => sql<boolean>`${c} ilike ${p}`, maxParams: 60000 }
    : { kind, ilike: (c, p) => sql<boolean>`lower(${c}) like lower(${p})`, maxParams: 30000 };
}

export function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === "23505" || code === "SQLITE_CONSTRAINT_UNIQUE" || code === "SQLITE_CONSTRAINT_PRIMARYKEY";
}

/** A database that is busy or gone is the server's problem (503, retryable), never the user's. */
export function isTransientDbError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === "SQLITE_BUSY" || code === "SQLITE_LOCKED" || code === "ECONNREFUSED" || code === "57P01" || code === "53300";
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

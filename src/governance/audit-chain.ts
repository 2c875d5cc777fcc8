import { createHash } from "node:crypto";
import type SQLite from "better-sqlite3";
import { type Kysely, sql } from "kysely";
import type { Database } from "../db/database.js";
import type { AuditLogTable, DB } from "../db/types.js";
import { type CommitHook, writeTx } from "../db/write-tx.js";
import { auditScope, type PendingAudit } from "./audit-context.js";

/**
 * The audit trail is a hash chain: each record stores the previous record's hash and its own SHA-256
 * over (seq, time, actor, action, resource, summary, request_id, prev_hash). Editing a record breaks its
 * hash; deleting or reordering records breaks the sequence or the next record's prev_hash. Appends take
 * the chain's lock (SQLite's write lock, a Postgres transaction-scoped advisory lock) at the end of the
 * transaction, so concurrent writers serialise only for the append itself.
 */
export const GENESIS_HASH = "0".repeat(64);
const PG_CHAIN_LOCK = 0x6b65656c; // "keel"

export type AuditRecord = AuditLogTable;

export function recordHash(r: Omit<AuditRecord, "hash">): string {
  const canonical = JSON.stringify([r.seq, r.time, r.actor, r.action, r.resource, r.summary, r.request_id, r.prev_hash]);
  return createHash("sha256").update(canonical).digest("hex");
}

function nextRecord(last: { seq: number; hash: string } | undefined, entry: PendingAudit, time: number): AuditRecord {
  const base = {
    seq: (last ? Number(last.seq) : 0) + 1,
    time,
    actor: entry.actor,
    action: entry.action,
    resource: entry.resource,
    summary: JSON.stringify(entry.summary),
    request_id: entry.requestId,
    prev_hash: last?.hash ?? GENESIS_HASH,
  };
  return { ...base, hash: recordHash(base) };
}

const sqliteStatements = new WeakMap<SQLite.Database, { last: SQLite.Statement; insert: SQLite.Statement }>();

function appendSqlite(raw: SQLite.Database, entry: PendingAudit, time: number): void {
  let s = sqliteStatements.get(raw);
  if (!s) {
    s = {
      last: raw.prepare("select seq, hash from audit_log order by seq desc limit 1"),
      insert: raw.prepare(
        "insert into audit_log (seq, time, actor, action, resource, summary, request_id, prev_hash, hash) values (@seq, @time, @actor, @action, @resource, @summary, @request_id, @prev_hash, @hash)",
      ),
    };
    sqliteStatements.set(raw, s);
  }
  s.insert.run(nextRecord(s.last.get() as { seq: number; hash: string } | undefined, entry, time));
}

async function appendPostgres(tx: Kysely<DB>, entry: PendingAudit, time: number): Promise<void> {
  await sql`select pg_advisory_xact_lock(${PG_CHAIN_LOCK})`.execute(tx);
  const last = await tx.selectFrom("audit_log").select(["seq", "hash"]).orderBy("seq", "desc").limit(1).executeTakeFirst();
  await tx.insertInto("audit_log").values(nextRecord(last, entry, time)).execute();
}

/** The commit hook that appends the current request's pending record, once. */
export function auditCommitHook(now: () => number): CommitHook {
  return {
    sqlite(raw) {
      const entry = auditScope.getStore();
      if (!entry || entry.written) return;
      appendSqlite(raw, entry, now());
      entry.written = true;
    },
    async postgres(tx) {
      const entry = auditScope.getStore();
      if (!entry || entry.written) return;
      await appendPostgres(tx, entry, now());
      entry.written = true;
    },
  };
}

/** Installs the audit hook on a database once (apps and CLI commands may share one). */
export function installAuditHook(database: Database, now: () => number): void {
  if (database.commitHooks.some((h) => (h as { audit?: boolean }).audit)) return;
  database.commitHooks.push(Object.assign(auditCommitHook(now), { audit: true }));
}

/** For changes made outside the database (artifact files) or by maintenance commands: its own transaction. */
export async function appendAudit(database: Database, entry: PendingAudit): Promise<void> {
  if (entry.written) return;
  await auditScope.run(entry, () => writeTx(database, async () => {}));
}

/** Runs `fn` with `entry` as the pending record: the first write inside appends it; if none did, it is appended after. */
export async function audited<T>(database: Database, entry: PendingAudit, fn: () => Promise<T>): Promise<T> {
  const out = await auditScope.run(entry, fn);
  await appendAudit(database, entry);
  return out;
}

export interface VerifyResult {
  ok: boolean;
  checked: number;
  /** The first record that fails, and why. */
  problem?: { seq: number; reason: string };
}

/** Walks the whole chain in order (keyset pages, constant memory). */
export async function verifyChain(database: Database, onProgress?: (checked: number) => void): Promise<VerifyResult> {
  let expected = 1;
  let prev = GENESIS_HASH;
  let checked = 0;
  for (;;) {
    const rows = await database.db.selectFrom("audit_log").selectAll().where("seq", ">=", expected).orderBy("seq").limit(5000).execute();
    if (!rows.length) return { ok: true, checked };
    for (const raw of rows) {
      const r = { ...raw, seq: Number(raw.seq), time: Number(raw.time) };
      if (r.seq !== expected) {
        return { ok: false, checked, problem: { seq: expected, reason: `record ${expected} is missing (deleted); the next record present is ${r.seq}` } };
      }
      if (r.prev_hash !== prev) {
        return { ok: false, checked, problem: { seq: r.seq, reason: `record ${r.seq} does not follow record ${r.seq - 1} (its prev_hash differs: records were reordered, replaced or edited)` } };
      }
      const { hash, ...rest } = r;
      if (recordHash(rest) !== hash) return { ok: false, checked, problem: { seq: r.seq, reason: `record ${r.seq} was edited: its contents no longer match its hash` } };
      prev = hash;
      expected++;
      checked++;
    }
    onProgress?.(checked);
  }
}

const SECRET_KEY = /pass(word)?|token|secret|authorization|credential/i;
const MAX_STRING = 200;
const MAX_LIST = 10;

/** What a request asked for, small enough to keep forever: secrets redacted, long values and lists cut. */
export function summarizeRequest(input: unknown, depth = 0): unknown {
  if (typeof input === "string") return input.length > MAX_STRING ? `${input.slice(0, MAX_STRING)}… (${input.length} chars)` : input;
  if (input === null || typeof input !== "object") return input;
  if (depth > 3) return "…";
  if (Array.isArray(input)) {
    const head = input.slice(0, MAX_LIST).map((v) => summarizeRequest(v, depth + 1));
    return input.length > MAX_LIST ? { count: input.length, first: head.slice(0, 3) } : head;
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(input as Record<string, unknown>)) {
    out[k] = SECRET_KEY.test(k) ? "[redacted]" : summarizeRequest(v, depth + 1);
  }
  return out;
}

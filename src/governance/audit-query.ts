import { invalidParam } from "../core/errors.js";
import type { Database } from "../db/database.js";

export interface AuditFilter {
  actor?: string;
  /** Exact resource (`run:<id>`), or a prefix ending in `*` (`experiment:*`). */
  resource?: string;
  /** Exact action (`POST /runs/log-batch`), or a prefix ending in `*`. */
  action?: string;
  since?: number;
  until?: number;
  /** Records with seq above this (keyset paging, oldest first). */
  after: number;
  /** Newest first: records with seq below `before` (when given), in descending order. */
  newestFirst?: boolean;
  before?: number;
  limit: number;
}

export const AUDIT_MAX_LIMIT = 1000;

function likePrefix(v: string): string {
  return `${v.slice(0, -1).replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** One audit record as the API answers it (the SDK's AuditRecord). */
export interface AuditRecord {
  seq: number;
  time: number;
  actor: string;
  action: string;
  resource: string;
  summary: unknown;
  request_id: string | null;
  prev_hash: string;
  hash: string;
}

/** A page of the listing (the SDK's AuditPage). */
export interface AuditPage {
  records: AuditRecord[];
  /** Oldest-first listing: pass as `after` for the next page. */
  next_after?: number;
  /** Newest-first listing (`order: "desc"`): pass as `before` for the next page. */
  next_before?: number;
}

/**
 * The audit trail in sequence order; `next_after` continues the listing. Newest first (the viewer's
 * order) goes down from `before` and continues with `next_before`.
 */
export async function listAudit(database: Database, f: AuditFilter): Promise<AuditPage> {
  if (!Number.isSafeInteger(f.limit) || f.limit < 1 || f.limit > AUDIT_MAX_LIMIT) throw invalidParam(`limit must be from 1 to ${AUDIT_MAX_LIMIT}.`);
  if (!Number.isSafeInteger(f.after) || f.after < 0) throw invalidParam("after must be a non-negative sequence number.");
  if (f.before !== undefined && (!Number.isSafeInteger(f.before) || f.before < 1)) throw invalidParam("before must be a positive sequence number.");
  if (f.before !== undefined && !f.newestFirst) throw invalidParam("before pages newest first: add order=desc.");
  let q = database.db.selectFrom("audit_log").selectAll().where("seq", ">", f.after);
  if (f.before !== undefined) q = q.where("seq", "<", f.before);
  if (f.actor !== undefined) q = q.where("actor", "=", f.actor);
  for (const [col, v] of [
    ["resource", f.resource],
    ["action", f.action],
  ] as const) {
    if (v === undefined) continue;
    q = v.endsWith("*") ? q.where(col, "like", likePrefix(v)) : q.where(col, "=", v);
  }
  if (f.since !== undefined) q = q.where("time", ">=", f.since);
  if (f.until !== undefined) q = q.where("time", "<", f.until);
  const rows = await q
    .orderBy("seq", f.newestFirst ? "desc" : "asc")
    .limit(f.limit + 1)
    .execute();
  const more = rows.length > f.limit;
  const page = rows.slice(0, f.limit).map((r): AuditRecord => ({
    seq: Number(r.seq),
    time: Number(r.time),
    actor: r.actor,
    action: r.action,
    resource: r.resource,
    summary: JSON.parse(r.summary) as unknown,
    request_id: r.request_id,
    prev_hash: r.prev_hash,
    hash: r.hash,
  }));
  if (!more) return { records: page };
  return { records: page, ...(f.newestFirst ? { next_before: page.at(-1)?.seq } : { next_after: page.at(-1)?.seq }) };
}

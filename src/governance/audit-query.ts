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
  /** Records with seq above this (keyset paging). */
  after: number;
  limit: number;
}

export const AUDIT_MAX_LIMIT = 1000;

function likePrefix(v: string): string {
  return `${v.slice(0, -1).replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** The audit trail in sequence order; `next_after` continues the listing. */
export async function listAudit(database: Database, f: AuditFilter) {
  if (!Number.isSafeInteger(f.limit) || f.limit < 1 || f.limit > AUDIT_MAX_LIMIT) throw invalidParam(`limit must be from 1 to ${AUDIT_MAX_LIMIT}.`);
  if (!Number.isSafeInteger(f.after) || f.after < 0) throw invalidParam("after must be a non-negative sequence number.");
  let q = database.db.selectFrom("audit_log").selectAll().where("seq", ">", f.after);
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
  const rows = await q.orderBy("seq").limit(f.limit + 1).execute();
  const more = rows.length > f.limit;
  const page = rows.slice(0, f.limit).map((r) => ({
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
  return { records: page, ...(more ? { next_after: page.at(-1)?.seq } : {}) };
}

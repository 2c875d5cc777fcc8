import { AsyncLocalStorage } from "node:async_hooks";

/**
 * The audit record a mutating request will write. The access hook opens it before the handler runs;
 * the first write transaction of the request appends it (db/write-tx.ts commit hook), so the change and
 * its record commit together. A request that changed files only (artifacts) appends it on its own after
 * the handler succeeded.
 */
export interface PendingAudit {
  actor: string;
  action: string;
  resource: string;
  summary: Record<string, unknown>;
  requestId: string;
  written: boolean;
}

export const auditScope = new AsyncLocalStorage<PendingAudit>();

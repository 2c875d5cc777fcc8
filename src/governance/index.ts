import { randomBytes } from "node:crypto";
import type { Database } from "../db/database.js";
import type { RegistryService } from "../registry/service.js";
import type { TrackingService } from "../tracking/service.js";
import { audited, installAuditHook } from "./audit-chain.js";
import type { Level } from "./levels.js";
import { createGovernanceService, type GovernanceService } from "./service.js";
import { createGovernanceStore } from "./store-sql.js";

export type { GuardedRoute } from "./guard.js";
export { installGuard } from "./guard.js";
export type { Level, Principal } from "./levels.js";
export type { GovernanceService } from "./service.js";

export function createGovernance(opts: {
  database: Database;
  tracking: TrackingService;
  registry: RegistryService;
  now?: () => number;
  defaultPermission?: Level;
}): GovernanceService {
  const now = opts.now ?? Date.now;
  installAuditHook(opts.database, now);
  return createGovernanceService({
    database: opts.database,
    store: createGovernanceStore(opts.database),
    tracking: opts.tracking,
    registry: opts.registry,
    now,
    defaultPermission: opts.defaultPermission ?? "READ",
  });
}

/** A record for work done outside any request (server bootstrap, `keel admin`, `keel gc`). */
export function systemAudit(actor: string, action: string, resource: string, summary: Record<string, unknown> = {}) {
  return { actor, action, resource, summary, requestId: `cli-${process.pid}-${Date.now()}`, written: false };
}

/**
 * The first start with auth on creates `admin`: with KEEL_ADMIN_PASSWORD when set, else a random password
 * returned here so the caller prints it once. Later starts change nothing.
 */
export async function ensureFirstAdmin(database: Database, gov: GovernanceService, envPassword: string | undefined): Promise<{ username: string; generatedPassword?: string } | undefined> {
  if ((await gov.countUsers()) > 0) return undefined;
  const generated = envPassword ? undefined : randomBytes(18).toString("base64url");
  const password = envPassword ?? (generated as string);
  await audited(database, systemAudit("system", "bootstrap admin", "user:admin"), () => gov.createUser("admin", password, true));
  return { username: "admin", generatedPassword: generated };
}

import { userInfo } from "node:os";
import type { Database } from "../db/database.js";
import type { GovernanceService } from "../governance/index.js";

/**
 * Maintenance commands open the database directly (no server needed), like `mlflow gc`. What they
 * change is audited as `cli:<os user>`.
 */
export interface Direct {
  database: Database;
  governance: GovernanceService;
  actor: string;
}

export async function withDirect<T>(opts: { data: string; databaseUrl?: string }, fn: (d: Direct) => Promise<T>): Promise<T> {
  const { openDatabase } = await import("../db/database.js");
  const { createTracking } = await import("../tracking/index.js");
  const { createRegistry } = await import("../registry/index.js");
  const { createGovernance } = await import("../governance/index.js");
  const database = await openDatabase({ databaseUrl: opts.databaseUrl, dataDir: opts.data });
  try {
    const tracking = createTracking(database);
    const registry = createRegistry(database, tracking);
    const governance = createGovernance({ database, tracking, registry });
    return await fn({ database, governance, actor: cliActor() });
  } finally {
    await database.close();
  }
}

export function cliActor(): string {
  let name = process.env.USER ?? "unknown";
  try {
    name = userInfo().username;
  } catch {}
  return `cli:${name}`;
}

export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8").replace(/\r?\n$/, "");
}

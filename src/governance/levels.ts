/**
 * Permission levels, as MLflow's auth app names them. NO_PERMISSIONS is an explicit deny: a user row
 * with it hides a resource even when the server's default would let everyone read.
 */
export const LEVELS = ["NO_PERMISSIONS", "READ", "EDIT", "MANAGE"] as const;
export type Level = (typeof LEVELS)[number];

const RANK: Record<Level, number> = { NO_PERMISSIONS: 0, READ: 1, EDIT: 2, MANAGE: 3 };

export function atLeast(have: Level, need: Level): boolean {
  return RANK[have] >= RANK[need];
}

export function maxLevel(levels: Iterable<Level>): Level | undefined {
  let best: Level | undefined;
  for (const l of levels) if (best === undefined || RANK[l] > RANK[best]) best = l;
  return best;
}

export function isLevel(v: unknown): v is Level {
  return typeof v === "string" && (LEVELS as readonly string[]).includes(v);
}

/** The kinds of resource that carry permissions; runs and artifacts inherit their experiment's. */
export type ResourceKind = "experiment" | "registered_model";

/** Who a request acts as. Auth off: one anonymous principal with every right. */
export interface Principal {
  userId: number;
  username: string;
  isAdmin: boolean;
  groupIds: number[];
  /** How the request proved it: "token", "password", or "none" when auth is off. */
  via: "token" | "password" | "none";
}

export const ANONYMOUS: Principal = { userId: 0, username: "anonymous", isAdmin: true, groupIds: [], via: "none" };

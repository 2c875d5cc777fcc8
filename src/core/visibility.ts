import { AsyncLocalStorage } from "node:async_hooks";

/**
 * What the caller of the current request may see, for searches and feeds that must leave out what
 * they can't read. `undefined` means everything. Filled in per request by governance; domains only
 * ask, so they don't depend on how permissions are decided.
 */
export interface Visibility {
  /** Only these ids (the caller's default grants nothing). */
  allow?: number[];
  /** Everything except these ids (the caller's default lets them read). */
  deny?: number[];
}

export type VisibleKind = "experiment" | "registered_model";

export interface RequestAccess {
  visibility(kind: VisibleKind): Promise<Visibility | undefined>;
  /** For feeds keyed by name (registry events): may the caller read this model? */
  canReadModel(name: string): Promise<boolean>;
}

export const requestAccess = new AsyncLocalStorage<RequestAccess>();

export function visibleTo(kind: VisibleKind): Promise<Visibility | undefined> {
  return requestAccess.getStore()?.visibility(kind) ?? Promise.resolve(undefined);
}

export function canReadModel(name: string): Promise<boolean> {
  return requestAccess.getStore()?.canReadModel(name) ?? Promise.resolve(true);
}

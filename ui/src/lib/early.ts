/**
 * Requests started before React renders (boot.ts), handed to the first query that asks for the same thing:
 * as data at once when the answer is already in (`peekEarly`, for a query's initialData: no loading state
 * and no second render), else as the promise (`takeEarly`, for its queryFn). Each is used once: a later
 * fetch of the same data (a refresh) asks the server again.
 */
interface Early {
  promise: Promise<unknown>;
  done?: { value: unknown; at: number };
}

const pending = new Map<string, Early>();

export function startEarly(key: string, start: () => Promise<unknown>): void {
  const e: Early = { promise: start() };
  e.promise.then(
    (value) => {
      e.done = { value, at: Date.now() };
    },
    // Nobody may take it (the user navigates away first): its failure must not surface as unhandled.
    () => undefined,
  );
  pending.set(key, e);
}

export function takeEarly<T>(key: string): Promise<T> | undefined {
  const e = pending.get(key);
  pending.delete(key);
  return e?.promise as Promise<T> | undefined;
}

/** The answer, if it is already in: taken, with the time it arrived (a query's initialDataUpdatedAt). */
export function peekEarly<T>(key: string): { value: T; at: number } | undefined {
  const e = pending.get(key);
  if (!e?.done) return undefined;
  pending.delete(key);
  return e.done as { value: T; at: number };
}

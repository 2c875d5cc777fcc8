/**
 * An LRU of answers keyed by a digest of the request's inputs, with a time to live. Map keeps insertion
 * order, so the least recently used entry is the first key; a hit moves its entry to the end.
 */
export interface ResponseCache<V> {
  get(key: string): V | undefined;
  set(key: string, value: V): void;
  stats(): { hits: number; misses: number; size: number };
  clear(): void;
}

export function createResponseCache<V>(maxEntries: number, ttlMs: number, now: () => number = Date.now): ResponseCache<V> {
  const entries = new Map<string, { value: V; expires: number }>();
  let hits = 0;
  let misses = 0;
  return {
    get(key) {
      const e = entries.get(key);
      if (!e || e.expires <= now()) {
        if (e) entries.delete(key);
        misses++;
        return undefined;
      }
      entries.delete(key);
      entries.set(key, e);
      hits++;
      return e.value;
    },
    set(key, value) {
      entries.delete(key);
      entries.set(key, { value, expires: now() + ttlMs });
      while (entries.size > maxEntries) entries.delete(entries.keys().next().value as string);
    },
    stats: () => ({ hits, misses, size: entries.size }),
    clear: () => entries.clear(),
  };
}

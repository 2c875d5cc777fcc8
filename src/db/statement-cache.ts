import type SQLite from "better-sqlite3";

const caches = new WeakMap<SQLite.Database, Map<string, SQLite.Statement>>();

/**
 * A prepared statement per SQL text and connection, prepared once (preparing costs more than running a
 * small query). Statements are returned in raw (array) mode: hot paths read columns by position.
 */
export function cachedStatement(raw: SQLite.Database, text: string): SQLite.Statement {
  let cache = caches.get(raw);
  if (!cache) {
    cache = new Map();
    caches.set(raw, cache);
  }
  let stmt = cache.get(text);
  if (!stmt) {
    // A bounded cache: query shapes vary by list lengths, so the text set is not fixed.
    if (cache.size >= 256) cache.clear();
    stmt = raw.prepare(text);
    if (stmt.reader) stmt.raw(true);
    cache.set(text, stmt);
  }
  return stmt;
}

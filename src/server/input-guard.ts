import type { FastifyInstance } from "fastify";
import { invalidParam } from "../core/errors.js";

/**
 * One check for every route, before any domain code: strings with NUL characters cannot be stored by
 * Postgres (and SQLite would truncate them in places), so refuse them up front with a 400 that says so
 * instead of failing deep in a driver.
 */
export function containsNul(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length) {
    const v = stack.pop();
    if (typeof v === "string") {
      if (v.includes("\u0000")) return true;
    } else if (Array.isArray(v)) {
      for (const x of v) stack.push(x);
    } else if (v !== null && typeof v === "object") {
      for (const [k, x] of Object.entries(v)) {
        if (k.includes("\u0000")) return true;
        stack.push(x);
      }
    }
  }
  return false;
}

export function installInputGuard(app: FastifyInstance): void {
  app.addHook("preValidation", async (req) => {
    if (containsNul(req.query) || containsNul(req.params) || containsNul(req.body)) {
      throw invalidParam("Request contains a NUL character (\\u0000) in a string; remove it and retry.");
    }
  });
}

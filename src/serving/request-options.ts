/** What every serving protocol reads from a request besides its body: id, deadline, headers. */
import type { FastifyRequest } from "fastify";
import { monotonicMs } from "../core/clock.js";
import { badInput } from "./errors.js";
import type { InferOptions } from "./model.js";

/** Per-request deadline header: milliseconds the caller will wait (queued requests past it get 503 and never run). */
export const TIMEOUT_HEADER = "keel-timeout-ms";
const MAX_TIMEOUT_MS = 3_600_000;

export function inferOptions(req: FastifyRequest, extra: Partial<InferOptions> = {}): InferOptions {
  const raw = req.headers[TIMEOUT_HEADER];
  let deadline: number | undefined;
  if (raw !== undefined) {
    const text = Array.isArray(raw) ? raw[0] : raw;
    const ms = /^\d{1,7}$/.test(text.trim()) ? Number(text.trim()) : Number.NaN;
    if (!(ms >= 1 && ms <= MAX_TIMEOUT_MS)) throw badInput(`Keel-Timeout-Ms must be a whole number of milliseconds from 1 to ${MAX_TIMEOUT_MS}; got '${text.slice(0, 40)}'.`);
    deadline = monotonicMs() + ms;
  }
  return { requestId: String(req.id), headers: req.headers, ...(deadline !== undefined ? { deadline } : {}), ...extra };
}

import { invalidParam } from "./errors.js";

/**
 * Opaque page tokens, shaped like MLflow's (base64 of `{"offset": N}`) so tokens from either server
 * look alike in logs. Extra fields let a caller bind a token to the query that produced it.
 */
export function encodePageToken(offset: number): string {
  return Buffer.from(JSON.stringify({ offset })).toString("base64");
}

export function decodePageToken(token: string | undefined | null): number {
  if (token === undefined || token === null || token === "") return 0;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, "base64").toString("utf8"));
  } catch {
    throw invalidParam(`Invalid page token '${truncate(token)}': it is not one this server issued.`);
  }
  const offset = (parsed as { offset?: unknown } | null)?.offset;
  if (typeof offset !== "number" || !Number.isSafeInteger(offset) || offset < 0) {
    throw invalidParam(`Invalid page token '${truncate(token)}': it is not one this server issued.`);
  }
  return offset;
}

function truncate(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}

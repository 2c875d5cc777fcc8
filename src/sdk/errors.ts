/** Errors the SDK raises: one for answers the server gave, one for servers that could not be reached. */

/** The server answered with an error: HTTP status, MLflow-style `error_code` and the server's message. */
export class KeelApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** "METHOD url" of the request that failed. */
    readonly request?: string,
  ) {
    super(message);
    this.name = "KeelApiError";
  }
}

/** No answer at all (connection refused, DNS, TLS, reset): the message names the URL and the cause. */
export class KeelNetworkError extends Error {
  constructor(
    readonly url: string,
    override readonly cause: unknown,
  ) {
    super(`cannot reach ${url}: ${describeCause(cause)}`);
    this.name = "KeelNetworkError";
  }
}

/** undici wraps the useful part (ECONNREFUSED, ENOTFOUND, …) in `cause`; browsers give a TypeError. */
function describeCause(err: unknown): string {
  const seen = new Set<unknown>();
  const parts: string[] = [];
  let e: unknown = err;
  while (e && typeof e === "object" && !seen.has(e)) {
    seen.add(e);
    const x = e as { message?: string; code?: string; cause?: unknown };
    const text = [x.code, x.message].filter((s) => typeof s === "string" && s !== "" && s !== "fetch failed").join(" ");
    if (text && !parts.some((p) => p.includes(text))) parts.push(text);
    e = x.cause;
  }
  return parts.join(": ") || String(err);
}

/**
 * Serving's errors are values with an HTTP status, rendered in the shape of the protocol in use, in one
 * place: `{"error": …}` for the Open Inference Protocol, `{"error_code", "message"}` for MLflow scoring.
 * Anything a client can cause is a 4xx; only a fault of the server (or the model itself) is a 5xx.
 */
import type { FastifyError } from "fastify";
import { KeelError } from "../core/errors.js";

export class ServingError extends Error {
  readonly status: number;
  /** Seconds for a Retry-After header (429, 503). */
  readonly retryAfterS?: number;
  constructor(status: number, message: string, retryAfterS?: number) {
    // No stack for answers to the client: under overload every 429 is one of these, and capturing a stack
    // was the most expensive part of refusing a request. A 500 keeps it (the log shows the cause's own).
    const limit = Error.stackTraceLimit;
    if (status < 500) Error.stackTraceLimit = 0;
    try {
      super(message);
    } finally {
      Error.stackTraceLimit = limit;
    }
    this.name = "ServingError";
    this.status = status;
    this.retryAfterS = retryAfterS;
  }
}

export const badInput = (message: string): ServingError => new ServingError(400, message);
export const unauthenticated = (message: string): ServingError => new ServingError(401, message);
export const modelNotFound = (message: string): ServingError => new ServingError(404, message);
export const tooLarge = (message: string): ServingError => new ServingError(413, message);
export const unsupportedMediaType = (message: string): ServingError => new ServingError(415, message);
/** The queue is full (the batcher's answer to overload). */
export const overloaded = (message: string, retryAfterS = 1): ServingError => new ServingError(429, message, retryAfterS);
/** A request refused before its body is read because `model`'s queue is full. */
export const queueFull = (model: string): ServingError => overloaded(`Model '${model}' is at capacity: its queue is full. Retry after the Retry-After delay.`, 1);
/** Not ready, or the request's deadline passed before it could run. */
export const unavailable = (message: string, retryAfterS?: number): ServingError => new ServingError(503, message, retryAfterS);

const INTERNAL = "Internal server error; the server log has the details.";

/** Any error as a ServingError: KeelErrors keep their status, Fastify's client errors theirs, the rest is 500. */
export function toServingError(err: unknown): ServingError {
  if (err instanceof ServingError) return err;
  if (err instanceof KeelError) {
    // The batcher's KeelErrors carry an estimate of when to retry.
    const ms = (err as { retryAfterMs?: unknown }).retryAfterMs;
    const retry = typeof ms === "number" && ms > 0 ? Math.ceil(ms / 1000) : err.status === 429 || err.status === 503 ? 1 : undefined;
    return new ServingError(err.status, err.message, retry);
  }
  const fe = err as FastifyError;
  if (typeof fe?.statusCode === "number" && fe.statusCode >= 400 && fe.statusCode < 500) return new ServingError(fe.statusCode, describeFastifyError(fe));
  return new ServingError(500, INTERNAL);
}

function describeFastifyError(fe: FastifyError): string {
  switch (fe.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return "The request body is larger than this server accepts (see --max-body-size); for large inputs use fewer rows per request.";
    case "FST_ERR_CTP_INVALID_CONTENT_LENGTH":
      return "The request's Content-Length does not match its body.";
    default:
      return fe.message;
  }
}

const MLFLOW_CODES: Record<number, string> = { 400: "BAD_REQUEST", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "RESOURCE_DOES_NOT_EXIST", 429: "REQUEST_LIMIT_EXCEEDED", 503: "TEMPORARILY_UNAVAILABLE" };

export const oipErrorBody = (e: ServingError) => ({ error: e.message });
export const mlflowErrorBody = (e: ServingError) => ({
  error_code: MLFLOW_CODES[e.status] ?? (e.status < 500 ? "BAD_REQUEST" : "INTERNAL_ERROR"),
  message: e.message,
});

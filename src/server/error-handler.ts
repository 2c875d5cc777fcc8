import type { FastifyError, FastifyInstance } from "fastify";
import { KeelError } from "../core/errors.js";
import { isTransientDbError, unavailable } from "../db/dialect.js";

/**
 * The one place errors become HTTP answers: MLflow's `{"error_code","message"}` for every JSON API.
 * Client mistakes caught by Fastify itself (bad JSON, wrong content type, body too large) keep their 4xx
 * status; anything unexpected is logged and answered 500 without internals.
 */
export function toKeelError(err: unknown): KeelError {
  if (err instanceof KeelError) return err;
  if (isTransientDbError(err)) return unavailable(err);
  const fe = err as FastifyError;
  if (typeof fe?.statusCode === "number" && fe.statusCode >= 400 && fe.statusCode < 500) {
    const e = new KeelError(fe.statusCode === 404 ? "ENDPOINT_NOT_FOUND" : "INVALID_PARAMETER_VALUE", describeClientError(fe));
    (e as { status: number }).status = fe.statusCode;
    return e;
  }
  return new KeelError("INTERNAL_ERROR", "Internal server error; the server log has the details.");
}

function describeClientError(fe: FastifyError): string {
  switch (fe.code) {
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return "Unsupported Content-Type: send JSON with 'Content-Type: application/json'.";
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return "The request body is empty: send a JSON object (at least {}).";
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return "The request body is too large.";
    default:
      return fe.message.startsWith("Unexpected") || fe.message.includes("JSON") ? `Malformed JSON in the request body: ${fe.message}` : fe.message;
  }
}

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err, req, reply) => {
    const ke = toKeelError(err);
    if (ke.status >= 500) req.log.error({ err }, "request failed");
    reply.status(ke.status).send({ error_code: ke.code, message: ke.message });
  });
  app.setNotFoundHandler((req, reply) => {
    reply.status(404).send({ error_code: "ENDPOINT_NOT_FOUND", message: `No endpoint ${req.method} ${req.url.split("?")[0]} on this server.` });
  });
}

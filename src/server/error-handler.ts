import { STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
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

/**
 * Requests Node's HTTP parser refuses before Fastify sees them (headers over 16 KiB, a malformed request
 * line): answered in MLflow's shape too, instead of Fastify's `{"error","statusCode"}`.
 */
function clientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === "ECONNRESET" || socket.destroyed) return;
  const [status, message] =
    err.code === "HPE_HEADER_OVERFLOW"
      ? [431, "The request's URL and headers are larger than the server accepts (16 KiB): send large inputs in a POST body."]
      : err.code === "ERR_HTTP_REQUEST_TIMEOUT"
        ? [408, "The request took too long to arrive."]
        : [400, "Malformed HTTP request."];
  const body = JSON.stringify({ error_code: "BAD_REQUEST", message });
  // As Node does: answer unless a response already started on this connection (that would corrupt it), then drop it.
  const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (socket.writable && !inFlight?.headersSent) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}

/**
 * Errors Fastify's router raises before any hook or handler runs (a path with broken percent-encoding,
 * an over-long path parameter). They bypass setErrorHandler; pass this as Fastify's `frameworkErrors`
 * option (in buildApp) to answer them in MLflow's shape too.
 */
export function frameworkErrors(err: FastifyError, _req: FastifyRequest, reply: FastifyReply): void {
  reply.status(400).send({ error_code: "INVALID_PARAMETER_VALUE", message: err.message });
}

export function installErrorHandling(app: FastifyInstance): void {
  // Fastify installed its own client-error listener when the app was created; this one replaces it.
  app.server.removeAllListeners("clientError");
  app.server.on("clientError", clientError);
  app.setErrorHandler((err, req, reply) => {
    const ke = toKeelError(err);
    if (ke.status >= 500) req.log.error({ err }, "request failed");
    reply.status(ke.status).send({ error_code: ke.code, message: ke.message });
  });
  app.setNotFoundHandler((req, reply) => {
    reply.status(404).send({ error_code: "ENDPOINT_NOT_FOUND", message: `No endpoint ${req.method} ${req.url.split("?")[0]} on this server.` });
  });
}

/**
 * MLflow's scoring server protocol as one Fastify plugin: POST /invocations, GET /ping, /health, /version,
 * at whatever prefix the caller registers it (the root for `keel serve`, a deployment's path in `keel
 * server`). Errors in MLflow's shape `{"error_code", "message"}`.
 */
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import { VERSION } from "../server/version.js";
import { mlflowErrorBody, queueFull, ServingError, toServingError, unavailable } from "./errors.js";
import { decodeInvocation, encodePredictions } from "./mlflow-codec.js";
import { beforeInfer, refuse, type ServedModel } from "./model.js";
import { acceptRawBodies, rawBody } from "./raw-body.js";
import { inferOptions } from "./request-options.js";

export interface ScoringRoutesOptions {
  /** The model a request is for (e.g. from a path parameter); throw a ServingError (404) when there is none. */
  resolve(req: FastifyRequest): ServedModel | Promise<ServedModel>;
  /** Largest request body in bytes (413 past it); default DEFAULT_MAX_BODY_BYTES. */
  maxBodyBytes?: number;
}

export function sendMlflowError(err: unknown, req: FastifyRequest, reply: FastifyReply): void {
  const e = toServingError(err);
  if (e.status >= 500 && !(err instanceof ServingError)) req.log.error({ err }, "scoring request failed");
  if (e.retryAfterS !== undefined) reply.header("retry-after", String(e.retryAfterS));
  reply.status(e.status).type("application/json").send(mlflowErrorBody(e));
}

export function mlflowScoringRoutes(opts: ScoringRoutesOptions): FastifyPluginAsync {
  return async (app: FastifyInstance) => {
    acceptRawBodies(app, opts.maxBodyBytes);
    app.setErrorHandler((err, req, reply) => sendMlflowError(err, req, reply));

    const health = async (req: FastifyRequest, reply: FastifyReply) => {
      const model = await opts.resolve(req);
      if (!model.ready()) throw unavailable(`Model '${model.name}' is not ready yet.`, 1);
      return reply.type("text/plain").send("\n");
    };
    app.get("/ping", health);
    app.get("/health", health);
    app.get("/version", async (_req, reply) => reply.type("text/plain").send(VERSION));
    // Overload: refuse before the body is read when the model's queue is already full.
    app.addHook("onRequest", async (req) => {
      if (req.method !== "POST") return;
      const model = await opts.resolve(req);
      if (model.saturated?.()) throw refuse(model, queueFull(model.name));
    });
    app.post("/invocations", async (req, reply) => {
      const model = await opts.resolve(req);
      const { inputs, params } = beforeInfer(model, () => {
        if (!model.ready()) throw unavailable(`Model '${model.name}' is not ready yet.`, 1);
        return decodeInvocation(req.headers["content-type"], rawBody(req), model.metadata(), model.inputPolicy);
      });
      const outputs = await model.infer(inputs, inferOptions(req, params ? { parameters: params } : {}));
      return reply.type("application/json").send(encodePredictions(outputs));
    });
  };
}

/**
 * The standalone server of `keel serve`: one model, no database. The Open Inference Protocol under /v2
 * and MLflow's scoring routes at the root (/invocations, /ping, /health, /version), as `mlflow models
 * serve` answers them. With a token, every route but the health checks needs `Authorization: Bearer <token>`.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import Fastify, { type FastifyInstance, type FastifyServerOptions } from "fastify";
import { frameworkErrors, installErrorHandling } from "../server/error-handler.js";
import { KeelError } from "../core/errors.js";
import { mlflowScoringRoutes } from "./mlflow-routes.js";
import { type ServedModel, staticRepository } from "./model.js";
import { oipRoutes } from "./oip-routes.js";
import { DEFAULT_MAX_BODY_BYTES } from "./raw-body.js";

export interface ServeAppOptions {
  model: ServedModel;
  /** Require `Authorization: Bearer <token>` on every route but /v2/health/*, /ping and /health. */
  token?: string;
  logger?: FastifyServerOptions["logger"];
  maxBodyBytes?: number;
}

/** Routes a load balancer or orchestrator probes without credentials. */
export const PUBLIC_ROUTES = new Set(["/v2/health/live", "/v2/health/ready", "/ping", "/health"]);

const digest = (s: string) => createHash("sha256").update(s).digest();

export async function buildServeApp(opts: ServeAppOptions): Promise<FastifyInstance> {
  const maxBodyBytes = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const app = Fastify({
    logger: opts.logger ?? false,
    bodyLimit: maxBodyBytes,
    requestIdHeader: "x-request-id",
    return503OnClosing: true,
    forceCloseConnections: "idle",
    keepAliveTimeout: 65_000,
    routerOptions: { ignoreTrailingSlash: true },
    frameworkErrors,
  });
  // MLflow's error shape outside the protocols' own scopes (unknown paths, malformed HTTP); /v2 and the
  // scoring routes render errors themselves.
  installErrorHandling(app);
  if (opts.token !== undefined) {
    const want = digest(opts.token);
    app.addHook("onRequest", async (req, reply) => {
      if (req.routeOptions.url !== undefined && PUBLIC_ROUTES.has(req.routeOptions.url)) return;
      const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(req.headers.authorization ?? "");
      if (m && timingSafeEqual(digest(m[1]), want)) return;
      reply.header("www-authenticate", 'Bearer realm="keel"');
      // A KeelError, not a ServingError: on unknown paths the root's (MLflow-shaped) handler renders it.
      throw new KeelError(
        "UNAUTHENTICATED",
        m ? "The Bearer token is not valid for this server." : "Authentication required: send 'Authorization: Bearer <token>' (the token in this server's --token-file).",
      );
    });
  }
  // While draining on shutdown, ask keep-alive clients to hang up after their answer.
  let closing = false;
  app.addHook("preClose", async () => {
    closing = true;
  });
  app.addHook("onSend", (_req, reply, payload, done) => {
    if (closing) reply.header("connection", "close");
    done(null, payload);
  });
  await app.register(oipRoutes({ repository: staticRepository([opts.model]), maxBodyBytes }));
  await app.register(mlflowScoringRoutes({ resolve: () => opts.model, maxBodyBytes }));
  return app;
}

import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import Fastify, { type FastifyInstance, type FastifyServerOptions } from "fastify";
import { type ArtifactService, type ArtifactStore, createArtifacts } from "../artifacts/index.js";
import { ARTIFACTS_PREFIX, registerArtifactProxyRoutes, registerTrackingArtifactRoutes, registerUiArtifactRoutes } from "../artifacts/routes.js";
import type { Database } from "../db/database.js";
import { createGovernance, type GovernanceService, type GuardedRoute, installGuard, type Level } from "../governance/index.js";
import { registerMlflowAuthRoutes } from "../governance/mlflow-routes.js";
import { registerGovernanceRoutes } from "../governance/routes.js";
import { createRegistry, type RegistryService } from "../registry/index.js";
import { registerKeelRegistryRoutes } from "../registry/keel-routes.js";
import { registerRegistryRoutes } from "../registry/routes.js";
import { createTracking, type TrackingService } from "../tracking/index.js";
import { registerKeelTrackingRoutes } from "../tracking/keel-routes.js";
import { registerTrackingRoutes } from "../tracking/routes.js";
import { frameworkErrors, installErrorHandling } from "./error-handler.js";
import { installInputGuard } from "./input-guard.js";
import { createDeploymentManager, type DeploymentManager } from "../deployments/manager.js";
import { deploymentMetrics } from "../deployments/metrics.js";
import { createPredictionLog } from "../deployments/prediction-log.js";
import { sqliteWorkerSink } from "../deployments/prediction-sink.js";
import { registerDeploymentRoutes } from "../deployments/routes.js";
import { createDeploymentStore } from "../deployments/store-sql.js";
import { mlflowScoringRoutes } from "../serving/mlflow-routes.js";
import { findModel, oipRoutes } from "../serving/oip-routes.js";
import { createWebhooks, type WebhookService, type WebhookTuning } from "../webhooks/index.js";
import { registerWebhookRoutes } from "../webhooks/routes.js";
import { installMetrics } from "./metrics.js";
import { connectRedisBus } from "./redis-bus.js";
import { defaultUiDir, registerUiStatic } from "./ui-static.js";
import { VERSION } from "./version.js";

export interface AppOptions {
  database: Database;
  /** Where artifact bytes live (createFsArtifactStore under the data dir by default; S3 with --artifacts). */
  artifacts: ArtifactStore;
  /** pino options, or false for silence (tests). */
  logger?: FastifyServerOptions["logger"];
  now?: () => number;
  /** Access control (off by default: loopback binds only, see server/config.ts). */
  auth?: { enabled: boolean; defaultPermission?: Level };
  /** Serve HTTPS with this certificate and key (PEM). */
  https?: { cert: Buffer; key: Buffer };
  /** Redis for cross-process event notifications (optional: the database poll works without it). */
  redisUrl?: string;
  /** Prediction log retention (default: a week, ten million rows). */
  predictionLog?: { maxAgeMs: number; maxRows: number };
  /** How often waiting event readers poll the database for other processes' events (default 200 ms). */
  eventPollMs?: number;
  /** Webhook delivery timing (tests shorten the retry backoff). */
  webhooks?: WebhookTuning;
  /** The built web UI served at `/` (default: `ui/dist` of this package; see server/ui-static.ts). */
  uiDir?: string;
}

export interface KeelApp {
  app: FastifyInstance;
  tracking: TrackingService;
  artifacts: ArtifactService;
  registry: RegistryService;
  governance: GovernanceService;
  webhooks: WebhookService;
  deployments: DeploymentManager;
  /** Every route with the access rule that guards it (the role-matrix test walks these). */
  routes: GuardedRoute[];
}

export const MLFLOW_PREFIXES = ["/api/2.0/mlflow", "/ajax-api/2.0/mlflow"] as const;
export const KEEL_PREFIX = "/api/keel/v1";

/** Assembles the server from its domains. No I/O beyond what the passed-in database does. */
export async function buildApp(opts: AppOptions): Promise<KeelApp> {
  const app = Fastify({
    ...(opts.https ? { https: opts.https } : {}),
    logger: opts.logger ?? false,
    bodyLimit: 32 * 1024 * 1024,
    // Request ids in logs; honour an upstream proxy's id.
    requestIdHeader: "x-request-id",
    return503OnClosing: true,
    forceCloseConnections: "idle",
    // Keep-alive clients (the MLflow client's requests.Session) reuse sockets: don't cut them short.
    keepAliveTimeout: 65_000,
    routerOptions: { ignoreTrailingSlash: true },
    // Unknown fields in Keel API bodies are mistakes worth reporting, not data to drop silently.
    ajv: { customOptions: { removeAdditional: false } },
    frameworkErrors,
  });
  installErrorHandling(app);
  const tracking = createTracking(opts.database, opts.now);
  const artifacts = createArtifacts(opts.artifacts, tracking);
  // The registry reads model files (signatures) through the artifact service, never the filesystem.
  const registry = createRegistry(opts.database, tracking, opts.now, artifacts, { eventPollMs: opts.eventPollMs });
  const governance = createGovernance({ database: opts.database, tracking, registry, now: opts.now, defaultPermission: opts.auth?.defaultPermission });
  const webhooks = createWebhooks({
    database: opts.database,
    registry,
    now: opts.now ?? Date.now,
    userAgent: `Keel-Webhooks/${VERSION}`,
    tuning: opts.webhooks,
    onError: (err) => app.log.warn({ err }, "webhook delivery pass failed; retrying at the next poll"),
  });
  registry.onChange(() => webhooks.worker.kick());
  app.addHook("onReady", async () => webhooks.worker.start());
  app.addHook("preClose", async () => webhooks.worker.stop());
  if (opts.redisUrl) {
    const bus = await connectRedisBus(opts.redisUrl, registry, app.log);
    app.addHook("onClose", async () => bus.close());
  }
  // Created once the metrics registry exists (below); access rules ask it which models a deployment serves.
  let deployments: DeploymentManager | undefined;
  // Before any route: the guard wraps every route's handler as it is registered.
  const routes = installGuard(app, {
    database: opts.database,
    governance,
    authEnabled: opts.auth?.enabled ?? false,
    context: { deploymentModels: (name) => deployments?.modelsOf(name) ?? [] },
  });
  // While draining on shutdown, tell keep-alive clients (the MLflow client keeps a session) to hang up after
  // their answer, so an idle socket does not hold the process open until the shutdown timeout.
  let closing = false;
  app.addHook("preClose", async () => {
    closing = true;
  });
  app.addHook("onSend", (_req, reply, payload, done) => {
    if (closing) reply.header("connection", "close");
    done(null, payload);
  });
  const metricsRegistry = installMetrics(app, opts.database);
  installInputGuard(app);
  const manager = createDeploymentManager({
    database: opts.database,
    store: createDeploymentStore(opts.database),
    registry,
    artifacts,
    predictions: createPredictionLog(),
    ...(opts.database.sqliteFile ? { sink: sqliteWorkerSink(opts.database.sqliteFile, app.log) } : {}),
    metrics: deploymentMetrics(metricsRegistry, () => manager.queueDepths()),
    now: opts.now ?? Date.now,
    log: app.log,
    pollMs: opts.eventPollMs === undefined ? undefined : Math.min(opts.eventPollMs, 1000),
    retention: opts.predictionLog,
  });
  deployments = manager;
  app.addHook("onReady", async () => manager.start());
  app.addHook("preClose", async () => manager.stop());

  app.get("/health", async (_req, reply) => reply.type("text/plain").send("OK"));
  app.get("/version", async (_req, reply) => reply.type("text/plain").send(VERSION));

  for (const prefix of MLFLOW_PREFIXES) {
    await app.register(async (scope) => registerTrackingRoutes(scope, tracking), { prefix });
    await app.register(async (scope) => registerRegistryRoutes(scope, registry), { prefix });
    await app.register(async (scope) => registerTrackingArtifactRoutes(scope, artifacts), { prefix });
    await app.register(async (scope) => registerMlflowAuthRoutes(scope, governance), { prefix });
  }
  await app.register(async (scope) => registerArtifactProxyRoutes(scope, artifacts), { prefix: ARTIFACTS_PREFIX });
  const versionPath = (name: string, version: number) => registry.artifactPath(name, version);
  await app.register(async (scope) => registerUiArtifactRoutes(scope, artifacts, { upload: false, versionPath }));
  await app.register(async (scope) => registerUiArtifactRoutes(scope, artifacts, { upload: true, versionPath }), { prefix: MLFLOW_PREFIXES[1] });

  // Serving: the Open Inference Protocol at /v2 (model name = deployment name), MLflow scoring per deployment.
  await app.register(oipRoutes({ repository: manager.repository }));
  await app.register(mlflowScoringRoutes({ resolve: (req) => findModel(manager.repository, (req.params as { deployment: string }).deployment) }), {
    prefix: `${KEEL_PREFIX}/deployments/:deployment`,
  });

  await app.register(swagger, {
    openapi: {
      info: { title: "Keel API", version: VERSION, description: "Keel's own API. MLflow-compatible routes live under /api/2.0/mlflow." },
    },
  });
  await app.register(swaggerUi, { routePrefix: "/docs" });
  await app.register(
    async (scope) => {
      scope.get("/health", { schema: { summary: "Liveness and database reachability", tags: ["server"] } }, async () => {
        await opts.database.db.selectFrom("experiments").select("experiment_id").limit(1).execute();
        return { status: "ok", version: VERSION, database: opts.database.kind };
      });
      await registerKeelTrackingRoutes(scope, tracking);
      await registerKeelRegistryRoutes(scope, registry);
      await registerGovernanceRoutes(scope, governance, opts.database);
      await registerWebhookRoutes(scope, webhooks.service);
      await registerDeploymentRoutes(scope, manager, metricsRegistry);
    },
    { prefix: KEEL_PREFIX },
  );
  // The web UI: every GET no API route claims (unknown API paths still get the JSON 404).
  await registerUiStatic(app, { dir: opts.uiDir ?? defaultUiDir() });
  return { app, tracking, artifacts, registry, governance, webhooks: webhooks.service, deployments: manager, routes };
}

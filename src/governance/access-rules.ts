import type { FastifyRequest } from "fastify";
import { checkArtifactPath } from "../artifacts/safe-path.js";
import { invalidParam } from "../core/errors.js";
import { asMessage, type Message, optString, reqString, runIdOf, stringList } from "../core/validate.js";
import type { Level } from "./levels.js";
import type { ResourceRef } from "./service.js";

/**
 * Who may call each route: ONE table, as MLflow's auth app keeps one, so a reviewer reads every rule in
 * one place and the role-matrix test walks the same table. A route without a rule is refused to everyone
 * but admins (and a test fails), so a new route cannot slip through unguarded.
 *
 *   public  — no credentials needed (health, version, API docs)
 *   user    — any signed-in user; searches and feeds filter what they return by permission
 *   admin   — admins only
 *   need    — at least this level on every resource `of` names (runs and artifacts follow their experiment)
 *
 * `creates` names the resource a successful call created: its creator gets MANAGE on it.
 * `reads` marks a POST that changes nothing (searches), so it is not audited.
 */
/** What rules may ask of the running server (deployments name the models they serve). */
export interface AccessContext {
  deploymentModels(name: string): string[];
}

export type Rule =
  | { public: true }
  | { user: true; reads?: boolean; creates?: (m: Message, out: unknown) => ResourceRef | undefined; about?: (m: Message) => string }
  | { admin: true; reads?: boolean; about?: (m: Message) => string }
  | { need: Level; of: (m: Message, req: FastifyRequest, ctx: AccessContext) => ResourceRef | ResourceRef[]; reads?: boolean };

/** What a route reads its arguments from: the query string for GET (and body-less DELETE), else the JSON body. */
export function inputOf(req: FastifyRequest): Message {
  const method = req.method === "HEAD" ? "GET" : req.method;
  const body = req.body;
  if (method === "GET" || (method === "DELETE" && body === undefined) || (body !== undefined && (typeof body !== "object" || body === null))) {
    return asMessage(req.query ?? {});
  }
  return asMessage(body ?? req.query ?? {});
}

const experiment =
  (field = "experiment_id") =>
  (m: Message): ResourceRef => ({ kind: "experiment", id: reqString(m, field) });
const experiments =
  (field: string) =>
  (m: Message): ResourceRef[] =>
    stringList(m, field).map((id) => ({ kind: "experiment", id }));
const run = (m: Message): ResourceRef => ({ kind: "run", id: runIdOf(m) });
const runs =
  (field: string) =>
  (m: Message): ResourceRef[] =>
    stringList(m, field).map((id) => ({ kind: "run", id }));
const model =
  (field = "name") =>
  (m: Message): ResourceRef => ({ kind: "registered_model", name: reqString(m, field) });

/** Proxied artifact paths are `<experiment>/<run>/artifacts/...`: checked by the one path check, then the run decides. */
function artifactRun(path: string): ResourceRef {
  const clean = checkArtifactPath(path, "path", true);
  const runId = clean.split("/")[1];
  if (!runId) throw invalidParam(`Artifact path '${path}' must start with <experiment_id>/<run_id>/artifacts.`);
  return { kind: "run", id: runId };
}
const proxiedPath = (_m: Message, req: FastifyRequest) => artifactRun((req.params as { "*"?: string })["*"] ?? "");

const READ = "READ" as const;
const EDIT = "EDIT" as const;
const MANAGE = "MANAGE" as const;

/** Keys are `METHOD path`, with the MLflow prefixes (/api/2.0/mlflow, /ajax-api/2.0/mlflow) removed. HEAD uses GET's rule. */
export const ACCESS_RULES: Record<string, Rule> = {
  // Server
  "GET /health": { public: true },
  "GET /version": { public: true },
  "GET /metrics": { user: true },
  "GET /docs": { public: true },
  "GET /docs/static/*": { public: true },
  "GET /docs/json": { public: true },
  "GET /docs/yaml": { public: true },
  "GET /docs/static/index.html": { public: true },
  "GET /docs/static/swagger-initializer.js": { public: true },
  "GET /api/keel/v1/health": { public: true },
  // The web UI's files (it signs in by itself; everything it reads goes through the guarded API)
  "GET /": { public: true },
  "GET /*": { public: true },

  // MLflow tracking (levels as MLflow's auth app sets them: delete and restore need MANAGE)
  "POST /experiments/create": {
    user: true,
    about: (m) => `experiment_name:${optString(m, "name") ?? ""}`,
    creates: (_m, out) => ({ kind: "experiment", id: String((out as { experiment_id?: string })?.experiment_id ?? "") }),
  },
  "GET /experiments/get": { need: READ, of: experiment() },
  "GET /experiments/get-by-name": { need: READ, of: (m) => ({ kind: "experiment_name", name: reqString(m, "experiment_name") }) },
  "GET /experiments/search": { user: true },
  "POST /experiments/search": { user: true, reads: true },
  "POST /experiments/search-datasets": { need: READ, of: experiments("experiment_ids"), reads: true },
  "POST /experiments/update": { need: EDIT, of: experiment() },
  "POST /experiments/set-experiment-tag": { need: EDIT, of: experiment() },
  "POST /experiments/delete": { need: MANAGE, of: experiment() },
  "POST /experiments/restore": { need: MANAGE, of: experiment() },
  "POST /runs/create": { need: EDIT, of: (m) => ({ kind: "experiment", id: optString(m, "experiment_id") ?? "0" }) },
  "GET /runs/get": { need: READ, of: run },
  "POST /runs/update": { need: EDIT, of: run },
  "POST /runs/log-metric": { need: EDIT, of: run },
  "POST /runs/log-parameter": { need: EDIT, of: run },
  "POST /runs/set-tag": { need: EDIT, of: run },
  "POST /runs/delete-tag": { need: EDIT, of: run },
  "POST /runs/log-batch": { need: EDIT, of: run },
  "POST /runs/log-model": { need: EDIT, of: run },
  "POST /runs/log-inputs": { need: EDIT, of: run },
  "POST /runs/delete": { need: MANAGE, of: run },
  "POST /runs/restore": { need: MANAGE, of: run },
  "POST /runs/search": { need: READ, of: experiments("experiment_ids"), reads: true },
  "GET /metrics/get-history": { need: READ, of: run },
  "GET /metrics/get-history-bulk": { need: READ, of: runs("run_id") },
  "GET /metrics/get-history-bulk-interval": { need: READ, of: runs("run_ids") },

  // MLflow model registry
  "POST /registered-models/create": {
    user: true,
    about: (m) => `registered_model:${optString(m, "name") ?? ""}`,
    creates: (m) => ({ kind: "registered_model", name: reqString(m, "name") }),
  },
  "GET /registered-models/get": { need: READ, of: model() },
  "GET /registered-models/search": { user: true },
  "GET /registered-models/get-latest-versions": { need: READ, of: model() },
  "POST /registered-models/get-latest-versions": { need: READ, of: model(), reads: true },
  "POST /registered-models/rename": { need: EDIT, of: model() },
  "PATCH /registered-models/update": { need: EDIT, of: model() },
  "POST /registered-models/set-tag": { need: EDIT, of: model() },
  "DELETE /registered-models/delete-tag": { need: EDIT, of: model() },
  "DELETE /registered-models/delete": { need: MANAGE, of: model() },
  "GET /registered-models/alias": { need: READ, of: model() },
  "POST /registered-models/alias": { need: EDIT, of: model() },
  "DELETE /registered-models/alias": { need: EDIT, of: model() },
  "POST /model-versions/create": { need: EDIT, of: model() },
  "GET /model-versions/get": { need: READ, of: model() },
  "GET /model-versions/get-download-uri": { need: READ, of: model() },
  "GET /model-versions/search": { user: true },
  "PATCH /model-versions/update": { need: EDIT, of: model() },
  "POST /model-versions/transition-stage": { need: EDIT, of: model() },
  "POST /model-versions/set-tag": { need: EDIT, of: model() },
  "DELETE /model-versions/delete-tag": { need: EDIT, of: model() },
  "DELETE /model-versions/delete": { need: MANAGE, of: model() },

  // Artifacts: MLflow's proxy, its run listing and the UI's file routes
  "GET /artifacts/list": { need: READ, of: run },
  "GET /get-artifact": { need: READ, of: run },
  "POST /upload-artifact": { need: EDIT, of: run },
  "GET /model-versions/get-artifact": { need: READ, of: model() },
  "GET /api/2.0/mlflow-artifacts/artifacts": { need: READ, of: (m) => artifactRun(optString(m, "path") ?? "") },
  "GET /api/2.0/mlflow-artifacts/artifacts/*": { need: READ, of: proxiedPath },
  "PUT /api/2.0/mlflow-artifacts/artifacts/*": { need: EDIT, of: proxiedPath },
  "DELETE /api/2.0/mlflow-artifacts/artifacts/*": { need: MANAGE, of: proxiedPath },
  "POST /api/2.0/mlflow-artifacts/mpu/create/*": { need: EDIT, of: proxiedPath },
  "PUT /api/2.0/mlflow-artifacts/mpu/upload-part/*": { need: EDIT, of: proxiedPath },
  "POST /api/2.0/mlflow-artifacts/mpu/complete/*": { need: EDIT, of: proxiedPath },
  "GET /api/2.0/mlflow-artifacts/mpu/parts/*": { need: EDIT, of: proxiedPath },
  "POST /api/2.0/mlflow-artifacts/mpu/abort/*": { need: EDIT, of: proxiedPath },

  // Keel tracking and registry extensions
  "POST /api/keel/v1/runs/compare": { need: READ, of: runs("run_ids"), reads: true },
  "GET /api/keel/v1/experiments/keys": { need: READ, of: experiments("experiment_ids") },
  "GET /api/keel/v1/events": { user: true },
  "GET /api/keel/v1/models/:name/versions/:version/signature": { need: READ, of: (_m, req) => ({ kind: "registered_model", name: (req.params as { name: string }).name }) },
  "GET /api/keel/v1/lineage": {
    need: READ,
    of: (m) => {
      const name = optString(m, "model");
      if (name !== undefined) return { kind: "registered_model", name };
      const runId = optString(m, "run_id");
      return runId !== undefined ? { kind: "run", id: runId } : [];
    },
  },

  // Governance: MLflow's auth API
  "POST /users/create": { admin: true, about: (m) => `user:${optString(m, "username") ?? ""}` },
  "GET /users/get": { admin: true },
  "PATCH /users/update-password": { admin: true, about: (m) => `user:${optString(m, "username") ?? ""}` },
  "PATCH /users/update-admin": { admin: true, about: (m) => `user:${optString(m, "username") ?? ""}` },
  "DELETE /users/delete": { admin: true, about: (m) => `user:${optString(m, "username") ?? ""}` },
  "POST /experiments/permissions/create": { need: MANAGE, of: experiment() },
  "GET /experiments/permissions/get": { need: MANAGE, of: experiment() },
  "PATCH /experiments/permissions/update": { need: MANAGE, of: experiment() },
  "DELETE /experiments/permissions/delete": { need: MANAGE, of: experiment() },
  "POST /registered-models/permissions/create": { need: MANAGE, of: model() },
  "GET /registered-models/permissions/get": { need: MANAGE, of: model() },
  "PATCH /registered-models/permissions/update": { need: MANAGE, of: model() },
  "DELETE /registered-models/permissions/delete": { need: MANAGE, of: model() },

  // Governance: Keel's API
  "GET /api/keel/v1/whoami": { user: true },
  "GET /api/keel/v1/users": { admin: true },
  "POST /api/keel/v1/users": { admin: true, about: (m) => `user:${optString(m, "username") ?? ""}` },
  "GET /api/keel/v1/users/:username": { admin: true },
  "PATCH /api/keel/v1/users/:username": { admin: true },
  "DELETE /api/keel/v1/users/:username": { admin: true },
  "GET /api/keel/v1/groups": { admin: true },
  "POST /api/keel/v1/groups": { admin: true, about: (m) => `group:${optString(m, "name") ?? ""}` },
  "DELETE /api/keel/v1/groups/:group": { admin: true },
  "PUT /api/keel/v1/groups/:group/members/:username": { admin: true },
  "DELETE /api/keel/v1/groups/:group/members/:username": { admin: true },
  "GET /api/keel/v1/tokens": { user: true },
  "POST /api/keel/v1/tokens": { user: true, about: (m) => `token:${optString(m, "name") ?? ""}` },
  "DELETE /api/keel/v1/tokens/:id": { user: true },
  "GET /api/keel/v1/permissions": { need: MANAGE, of: (m) => resourceParam(reqString(m, "resource")) },
  "PUT /api/keel/v1/permissions": { need: MANAGE, of: (m) => resourceParam(reqString(m, "resource")) },
  "DELETE /api/keel/v1/permissions": { need: MANAGE, of: (m) => resourceParam(reqString(m, "resource")) },
  "GET /api/keel/v1/audit": { admin: true },
  "GET /api/keel/v1/audit/verify": { admin: true },

  // Webhooks on the registry feed (admins: they make the server call out)
  "GET /api/keel/v1/webhooks": { admin: true },
  "POST /api/keel/v1/webhooks": { admin: true, about: (m) => `webhook:${optString(m, "name") ?? ""}` },
  "GET /api/keel/v1/webhooks/:name": { admin: true },
  "PATCH /api/keel/v1/webhooks/:name": { admin: true },
  "DELETE /api/keel/v1/webhooks/:name": { admin: true },
  "GET /api/keel/v1/webhooks/:name/deliveries": { admin: true },
  "POST /api/keel/v1/webhooks/:name/deliveries/:id/redeliver": { admin: true },

  // Serving: a deployment is guarded by the models it serves (READ to call it, EDIT to change it)
  "GET /v2": { public: true },
  "GET /v2/health/live": { public: true },
  "GET /v2/health/ready": { public: true },
  "GET /v2/models/:model": { need: READ, of: (_m, req, ctx) => deploymentRefs(req, ctx, "model") },
  "GET /v2/models/:model/ready": { need: READ, of: (_m, req, ctx) => deploymentRefs(req, ctx, "model") },
  "POST /v2/models/:model/infer": { need: READ, reads: true, of: (_m, req, ctx) => deploymentRefs(req, ctx, "model") },
  "GET /v2/models/:model/versions/:version": { need: READ, of: (_m, req, ctx) => deploymentRefs(req, ctx, "model") },
  "GET /v2/models/:model/versions/:version/ready": { need: READ, of: (_m, req, ctx) => deploymentRefs(req, ctx, "model") },
  "POST /v2/models/:model/versions/:version/infer": { need: READ, reads: true, of: (_m, req, ctx) => deploymentRefs(req, ctx, "model") },
  "GET /api/keel/v1/deployments": { user: true },
  "POST /api/keel/v1/deployments": { need: EDIT, of: (m) => specModels(m) },
  "GET /api/keel/v1/deployments/:name": { need: READ, of: (_m, req, ctx) => deploymentRefs(req, ctx, "name") },
  "PUT /api/keel/v1/deployments/:name": { need: EDIT, of: (m, req, ctx) => [...deploymentRefs(req, ctx, "name"), ...specModels(m)] },
  "PATCH /api/keel/v1/deployments/:name": { need: EDIT, of: (m, req, ctx) => [...deploymentRefs(req, ctx, "name"), ...specModels(m)] },
  "DELETE /api/keel/v1/deployments/:name": { need: EDIT, of: (_m, req, ctx) => deploymentRefs(req, ctx, "name") },
  "GET /api/keel/v1/deployments/:name/predictions": { need: READ, of: (_m, req, ctx) => deploymentRefs(req, ctx, "name") },
  "GET /api/keel/v1/deployments/:name/stats": { need: READ, of: (_m, req, ctx) => deploymentRefs(req, ctx, "name") },
  "POST /api/keel/v1/deployments/:deployment/invocations": { need: READ, reads: true, of: (_m, req, ctx) => deploymentRefs(req, ctx, "deployment") },
  "GET /api/keel/v1/deployments/:deployment/ping": { public: true },
  "GET /api/keel/v1/deployments/:deployment/health": { public: true },
  "GET /api/keel/v1/deployments/:deployment/version": { public: true },
};

function deploymentRefs(req: FastifyRequest, ctx: AccessContext, param: string): ResourceRef[] {
  const name = (req.params as Record<string, string>)[param] ?? "";
  return ctx.deploymentModels(name).map((model) => ({ kind: "registered_model", name: model }));
}

/** The models a deployment spec in a request body names (the spec parser checks the rest). */
function specModels(m: Message): ResourceRef[] {
  const variants = Array.isArray(m.variants) ? m.variants : [];
  return variants
    .map((v) => (v !== null && typeof v === "object" ? (v as Record<string, unknown>).model : undefined))
    .filter((x): x is string => typeof x === "string")
    .map((name) => ({ kind: "registered_model", name }));
}

/** `experiment:<id>` or `registered_model:<name>` (also `model:<name>`), as the permissions API takes them. */
export function resourceParam(spec: string): ResourceRef {
  const colon = spec.indexOf(":");
  const kind = spec.slice(0, colon);
  const id = spec.slice(colon + 1);
  if (colon > 0 && id) {
    if (kind === "experiment") return { kind: "experiment", id };
    if (kind === "registered_model" || kind === "model") return { kind: "registered_model", name: id };
  }
  throw invalidParam(`resource must be 'experiment:<id>' or 'registered_model:<name>'; got '${spec}'.`);
}

const MLFLOW_PREFIX = /^\/(ajax-)?api\/2\.0\/mlflow(?=\/)/;

export function ruleKey(method: string, url: string): string {
  return `${method === "HEAD" ? "GET" : method} ${url.replace(MLFLOW_PREFIX, "")}`;
}

export function ruleFor(method: string, url: string): Rule | undefined {
  return ACCESS_RULES[ruleKey(method, url)];
}

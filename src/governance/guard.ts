import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from "fastify";
import { type RequestAccess, requestAccess } from "../core/visibility.js";
import type { Database } from "../db/database.js";
import { type AccessContext, inputOf, type Rule, ruleFor, ruleKey } from "./access-rules.js";
import { appendAudit, summarizeRequest } from "./audit-chain.js";
import { auditScope, type PendingAudit } from "./audit-context.js";
import { ANONYMOUS, type Principal } from "./levels.js";
import { permissionDenied, type GovernanceService, type ResourceRef, unauthenticated } from "./service.js";


declare module "fastify" {
  interface FastifyRequest {
    principal: Principal;
  }
}

export interface GuardOptions {
  database: Database;
  /** What rules may ask of the running server. */
  context?: AccessContext;
  governance: GovernanceService;
  /** Off: every request acts as `anonymous` with every right (loopback only; see server/config.ts). */
  authEnabled: boolean;
}

export interface GuardedRoute {
  method: string;
  url: string;
  key: string;
  rule: Rule | undefined;
}

const MUTATING = new Set(["POST", "PUT", "PATCH", "DELETE"]);

function refLabel(ref: ResourceRef): string {
  switch (ref.kind) {
    case "experiment":
    case "run":
      return `${ref.kind}:${ref.id}`;
    case "experiment_name":
      return `experiment_name:${ref.name}`;
    case "registered_model":
      return `registered_model:${ref.name}`;
  }
}

/**
 * Authentication (onRequest: headers only, so an unauthenticated upload is refused before its body is
 * read), authorization from the route's rule (preValidation, once the body is parsed), and the audit record
 * of every mutating request, opened before the handler runs and committed with its first write.
 * Installed before any route is registered; returns the routes it saw (for the role-matrix test).
 */
export function installGuard(app: FastifyInstance, opts: GuardOptions): GuardedRoute[] {
  const { governance, database } = opts;
  const context: AccessContext = opts.context ?? { deploymentModels: () => [] };
  const seen: GuardedRoute[] = [];
  app.decorateRequest("principal", null as unknown as Principal);
  const accessOf = (principal: Principal): RequestAccess => ({
    visibility: (kind) => governance.visibility(principal, kind),
    canReadModel: (name) => governance.canRead(principal, { kind: "registered_model", name }),
  });

  app.addHook("onRoute", (route: RouteOptions) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      const rule = ruleFor(method, route.url ?? "");
      seen.push({ method, url: route.url ?? "", key: ruleKey(method, route.url ?? ""), rule });
    }
    const handler = route.handler;
    const rules = new Map(methods.map((m) => [m, ruleFor(m, route.url ?? "")]));
    route.handler = async function guarded(this: FastifyInstance, req: FastifyRequest, reply: FastifyReply) {
      const rule = rules.has(req.method) ? rules.get(req.method) : ruleFor(req.method, route.url ?? "");
      const principal = req.principal ?? ANONYMOUS;
      const audit = auditEntry(req, rule, principal, route.url ?? "", context);
      const call = () => handler.call(this, req, reply);
      const audited = () => (audit ? auditScope.run(audit, call) : call());
      // Without auth everyone sees everything: no visibility scope (visibleTo() then answers "all").
      const scoped = audit !== undefined || opts.authEnabled;
      let out: unknown;
      if (scoped) scopes.enter();
      try {
        out = await (opts.authEnabled ? requestAccess.run(accessOf(principal), audited) : audited());
      } finally {
        if (scoped) scopes.leave();
      }
      if (audit && !audit.written && reply.statusCode < 400) await appendAudit(database, audit);
      if (rule && "creates" in rule && rule.creates && reply.statusCode < 400) {
        const ref = rule.creates(inputOf(req), out);
        if (ref) await governance.grantCreator(principal, ref);
      }
      return out;
    };
  });

  if (!opts.authEnabled) {
    // Everyone is `anonymous` with every right: no authentication, and no authorization hook at all.
    app.addHook("onRequest", (req, _reply, done) => {
      req.principal = ANONYMOUS;
      done();
    });
    return seen;
  }

  app.addHook("onRequest", async (req, reply) => {
    const rule = req.routeOptions.url === undefined ? undefined : ruleFor(req.method, req.routeOptions.url);
    let principal: Principal | undefined;
    try {
      principal = await governance.authenticate(req.headers.authorization);
    } catch (err) {
      // A bad credential on a public route (a browser with a stale header hitting /health) is not an error.
      if (rule && "public" in rule) return;
      challenge(req, reply);
      throw err;
    }
    if (principal) {
      req.principal = principal;
      return;
    }
    // Unknown routes answer 404 for everyone; public ones need nothing.
    if (req.routeOptions.url === undefined || (rule && "public" in rule)) return;
    challenge(req, reply);
    throw unauthenticated("Authentication required: send 'Authorization: Bearer <token>' (MLFLOW_TRACKING_TOKEN) or Basic credentials (MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD).");
  });

  // preValidation: after the body is parsed but before schema validation, so a caller who may not use a
  // route learns nothing about it from validation errors.
  app.addHook("preValidation", async (req) => {
    if (req.routeOptions.url === undefined) return;
    const rule = ruleFor(req.method, req.routeOptions.url);
    const p = req.principal;
    if (!rule) {
      if (!p.isAdmin) throw permissionDenied(`No access rule covers ${req.method} ${req.routeOptions.url}; only admins may call it.`);
      return;
    }
    if ("public" in rule || p.isAdmin) return;
    if ("user" in rule) return;
    if ("admin" in rule) throw permissionDenied(`Permission denied: ${req.method} ${req.routeOptions.url} is for admins; user '${p.username}' is not one.`);
    const refs = rule.of(inputOf(req), req, context);
    for (const ref of Array.isArray(refs) ? refs : [refs]) await governance.require(p, rule.need, ref);
  });

  return seen;
}

/**
 * Node 20's AsyncLocalStorage, once enabled, runs a hook on every promise of the process (a few percent of a
 * serving request's CPU). The request scopes are needed only while a request that uses them runs, so the
 * stores are disabled whenever none is in flight, which takes the hook away; the next scoped request's run()
 * enables them again.
 */
const scopes = {
  inFlight: 0,
  enter(): void {
    this.inFlight++;
  },
  leave(): void {
    if (--this.inFlight === 0) {
      auditScope.disable();
      requestAccess.disable();
    }
  },
};

/**
 * Asks for Basic credentials on a 401, except from scripts that say they are one (`X-Requested-With:
 * XMLHttpRequest`, as the web UI sends): browsers answer a Basic challenge to fetch() with their own login
 * dialog, over the app's sign-in form.
 */
function challenge(req: FastifyRequest, reply: FastifyReply): void {
  if (req.headers["x-requested-with"] !== "XMLHttpRequest") reply.header("www-authenticate", 'Basic realm="keel", charset="UTF-8"');
}

function auditEntry(req: FastifyRequest, rule: Rule | undefined, p: Principal, url: string, context: AccessContext): PendingAudit | undefined {
  const method = req.method;
  if (!MUTATING.has(method) || (rule && "reads" in rule && rule.reads)) return undefined;
  const m = safeInput(req);
  let resource = "";
  if (rule && "need" in rule) {
    try {
      const refs = rule.of(m, req, context);
      resource = (Array.isArray(refs) ? refs : [refs]).map(refLabel).join(",");
    } catch {
      resource = "";
    }
  } else if (rule && "about" in rule && rule.about) {
    resource = rule.about(m);
  }
  const params = req.params as Record<string, string> | undefined;
  const summary: Record<string, unknown> = {};
  if (params && Object.keys(params).length) summary.params = summarizeRequest(params);
  if (req.body !== undefined) summary.body = summarizeRequest(req.body);
  else if (req.headers["content-length"]) summary.bytes = Number(req.headers["content-length"]);
  const query = req.query as Record<string, unknown> | undefined;
  if (query && Object.keys(query).length) summary.query = summarizeRequest(query);
  return {
    actor: p.username,
    action: ruleKey(method, url),
    resource,
    summary,
    requestId: String(req.id),
    written: false,
  };
}

function safeInput(req: FastifyRequest) {
  try {
    return inputOf(req);
  } catch {
    return {};
  }
}

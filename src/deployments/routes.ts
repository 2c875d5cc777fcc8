import type { FastifyInstance } from "fastify";
import type { Registry } from "prom-client";
import { asMessage, optInt } from "../core/validate.js";
import { invalidParam } from "../core/errors.js";
import type { DeploymentManager } from "./manager.js";
import { parseDeploymentSpec } from "./spec.js";
import { readDeploymentStats } from "./stats.js";

const doc = (summary: string) => ({ schema: { summary, tags: ["deployments"] } });

/**
 * /api/keel/v1/deployments: serve registered models (variants, canary weights, shadow, sticky routing, batching).
 * `metrics` is the app's Prometheus registry, which the live stats route reads.
 */
export async function registerDeploymentRoutes(app: FastifyInstance, manager: DeploymentManager, metrics: Registry): Promise<void> {
  const name = (req: { params: unknown }) => (req.params as { name: string }).name;
  app.get("/deployments", doc("Deployments and what each variant serves"), async () => ({ deployments: await manager.list() }));
  app.post("/deployments", doc("Create a deployment; answers once this server serves it"), async (req) => ({
    deployment: await manager.create(parseDeploymentSpec(req.body), req.principal.username),
  }));
  app.get("/deployments/:name", doc("A deployment: its spec and, per variant, the version served, readiness and queue depth"), async (req) => ({
    deployment: await manager.status(name(req)),
  }));
  app.put("/deployments/:name", doc("Replace a deployment's spec (weights, variants, shadow, batching…) without dropping requests"), async (req) => ({
    deployment: await manager.replace(parseDeploymentSpec(req.body, name(req))),
  }));
  app.patch("/deployments/:name", doc("Change some of a deployment's fields (e.g. variants with new weights); the rest stay"), async (req) => {
    const current = (await manager.get(name(req))).spec;
    const patch = asMessage(req.body ?? {});
    if (patch.name !== undefined && patch.name !== name(req)) throw invalidParam("A deployment cannot be renamed; create a new one.");
    return { deployment: await manager.replace(parseDeploymentSpec({ ...current, ...patch, name: name(req) }, name(req))) };
  });
  app.delete("/deployments/:name", doc("Stop serving and delete a deployment"), async (req) => {
    await manager.remove(name(req));
    return {};
  });
  app.get("/deployments/:name/predictions", doc("Recent predictions (newest first; page with before=<id>)"), async (req) => {
    await manager.get(name(req));
    const m = asMessage(req.query ?? {});
    const limit = optInt(m, "limit") ?? 100;
    if (limit < 1 || limit > 1000) throw invalidParam("limit must be from 1 to 1000.");
    await manager.flushPredictions();
    return { predictions: await manager.predictions(name(req), limit, optInt(m, "before")) };
  });
  app.get(
    "/deployments/:name/stats",
    doc("Live numbers of this server process per variant: cumulative requests by outcome, latency and batch-size histograms, queue depth, shadow outcomes"),
    async (req) => {
      const row = await manager.get(name(req));
      return readDeploymentStats(metrics, row.name, row.spec.variants.map((v) => v.name), Date.now());
    },
  );
}

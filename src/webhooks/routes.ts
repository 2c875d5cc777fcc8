import type { FastifyInstance } from "fastify";
import { invalidParam } from "../core/errors.js";
import { asMessage, optInt, optString } from "../core/validate.js";
import type { WebhookService } from "./service.js";

const doc = (summary: string) => ({ schema: { summary, tags: ["webhooks"] } });

/** /api/keel/v1/webhooks: registry events pushed to HTTP receivers, signed, retried, logged (admins). */
export async function registerWebhookRoutes(app: FastifyInstance, svc: WebhookService): Promise<void> {
  const name = (req: { params: unknown }) => (req.params as { name: string }).name;
  app.get("/webhooks", doc("Webhooks (admin)"), async () => ({ webhooks: await svc.list() }));
  app.post("/webhooks", doc("Create a webhook; the signing secret is in this answer only"), async (req) => {
    const m = asMessage(req.body ?? {});
    return svc.create(m as never, req.principal.username);
  });
  app.get("/webhooks/:name", doc("A webhook"), async (req) => ({ webhook: await svc.get(name(req)) }));
  app.patch("/webhooks/:name", doc("Change a webhook's url, events, model filter or active flag"), async (req) => ({
    webhook: await svc.update(name(req), asMessage(req.body ?? {}) as never),
  }));
  app.delete("/webhooks/:name", doc("Delete a webhook and its delivery log"), async (req) => {
    await svc.remove(name(req));
    return {};
  });
  app.get("/webhooks/:name/deliveries", doc("The delivery log: each delivery with every attempt (status code, error, response excerpt)"), async (req) => {
    const m = asMessage(req.query ?? {});
    return svc.deliveries(name(req), { status: optString(m, "status"), after: optInt(m, "after") ?? 0, limit: optInt(m, "limit") ?? 100 });
  });
  app.post("/webhooks/:name/deliveries/:id/redeliver", doc("Try a delivery again now"), async (req) => {
    const id = Number((req.params as { id: string }).id);
    if (!Number.isSafeInteger(id) || id < 1) throw invalidParam("The delivery id must be a positive integer.");
    await svc.redeliver(name(req), id);
    return {};
  });
}

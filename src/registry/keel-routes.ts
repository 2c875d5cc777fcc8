import type { FastifyInstance } from "fastify";
import { invalidParam } from "../core/errors.js";
import { ErrorResponse, EventsQuery, EventsResponse } from "./keel-schema.js";
import type { RegistryService } from "./service.js";

/** Keel's registry extensions: the ordered feed of registry changes, with long polling. */
export async function registerKeelRegistryRoutes(app: FastifyInstance, svc: RegistryService): Promise<void> {
  // A waiting reader must not hold the server open: closing ends every wait with what it has.
  app.addHook("preClose", async () => svc.close());

  app.get<{ Querystring: EventsQuery }>(
    "/events",
    {
      schema: {
        summary: "Registry changes in commit order (model, version, stage and alias changes), with long polling",
        tags: ["registry"],
        querystring: EventsQuery,
        response: { 200: EventsResponse, 400: ErrorResponse },
      },
    },
    async (req, reply) => {
      // The schema's integer check lets "1e400" through as Infinity (Ajv coerces first, and Infinity % 1 is NaN).
      for (const [field, value] of Object.entries(req.query)) {
        if (!Number.isSafeInteger(value)) throw invalidParam(`'${field}' must be a whole number within the documented range.`);
      }
      const { after = 0, limit = 100, wait_ms = 0 } = req.query;
      // The client hanging up ends the wait: the response closes before it was sent.
      const hangUp = new AbortController();
      reply.raw.once("close", () => hangUp.abort());
      const events = await svc.events(after, limit, wait_ms, hangUp.signal);
      return { events, next_after: events.at(-1)?.seq ?? after };
    },
  );
}

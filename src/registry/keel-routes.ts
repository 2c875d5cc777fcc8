import type { FastifyInstance } from "fastify";
import { invalidParam } from "../core/errors.js";
import { encodePageToken, decodePageToken } from "../core/page-token.js";
import { canReadModel, visibleTo } from "../core/visibility.js";
import { ErrorResponse, EventsQuery, EventsResponse, LineageQuery, LineageResponse, SignatureParams, SignatureResponse } from "./keel-schema.js";
import { LINEAGE_LIMITS, parseLineageQuery } from "./lineage.js";
import type { RegistryService } from "./service.js";
import { parseModelName, parseRunId, parseVersion } from "./validation.js";

/** Keel's registry extensions: the ordered feed of registry changes (with long polling), version signatures and lineage. */
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
      // Callers see only the models they may read; next_after still moves past what was left out.
      const readable = await Promise.all(events.map((e) => canReadModel(e.name)));
      return { events: events.filter((_, i) => readable[i]), next_after: events.at(-1)?.seq ?? after };
    },
  );

  app.get<{ Params: SignatureParams }>(
    "/models/:name/versions/:version/signature",
    {
      schema: {
        summary: "The signature captured when the version was registered: inputs and outputs with element types and shapes, from its .onnx file or its MLmodel",
        tags: ["registry"],
        params: SignatureParams,
        response: { 200: SignatureResponse, 400: ErrorResponse, 404: ErrorResponse },
      },
    },
    async (req) => {
      const name = parseModelName({ name: req.params.name });
      return svc.signature(name, parseVersion({ version: req.params.version }, name));
    },
  );

  app.get<{ Querystring: LineageQuery }>(
    "/lineage",
    {
      schema: {
        summary:
          "Lineage both ways: model=NAME&version=V (its run and the run's datasets), run_id=ID (its datasets and the versions made from it), or dataset_digest=D[&dataset_name=N] (the runs that used it and their versions)",
        tags: ["registry"],
        querystring: LineageQuery,
        response: { 200: LineageResponse, 400: ErrorResponse, 404: ErrorResponse },
      },
    },
    async (req) => {
      const { max_results = LINEAGE_LIMITS.pageDefault, page_token } = req.query;
      // As for /events: the schema's integer check lets "1e400" through as Infinity.
      if (!Number.isSafeInteger(max_results)) throw invalidParam(`'max_results' must be a whole number from 1 to ${LINEAGE_LIMITS.pageMax}.`);
      const page = { offset: decodePageToken(page_token), limit: max_results };
      const q = parseLineageQuery(req.query);
      // Callers see only the experiments and models they may read.
      const access = { experiments: await visibleTo("experiment"), canReadModel };
      let out: { nextOffset?: number };
      if (q.kind === "version") {
        const name = parseModelName({ model: q.name }, "model");
        out = await svc.versionLineage(name, parseVersion({ version: q.version }, name), page, access);
      } else if (q.kind === "run") {
        const runId = parseRunId({ run_id: q.runId });
        if (!runId) throw invalidParam("Missing value for parameter 'run_id'.");
        out = await svc.runLineage(runId, page, access);
      } else {
        out = await svc.datasetLineage(q.digest, q.name, page, access);
      }
      const { nextOffset, ...body } = out;
      return nextOffset === undefined ? body : { ...body, next_page_token: encodePageToken(nextOffset) };
    },
  );
}

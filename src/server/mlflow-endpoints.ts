import type { FastifyInstance } from "fastify";
import { encodePageToken } from "../core/page-token.js";
import { asMessage, type Message, optString, stringList } from "../core/validate.js";

/**
 * MLflow's REST routes as tables of endpoints: each domain lists its endpoints (method, path, handler on
 * the request message) and the server registers them under /api/2.0/mlflow and /ajax-api/2.0/mlflow.
 */
export type HttpMethod = "GET" | "POST" | "PATCH" | "DELETE";
export type Handler = (msg: Message) => Promise<unknown>;
export interface Endpoint {
  methods: HttpMethod[];
  path: string;
  handler: Handler;
}

/**
 * A JSON body written by the handler itself; the route sends it as is. Metric histories are the one
 * large answer: writing MLflow's `{"metrics":[{key,value,timestamp,step}]}` straight from columns skips an
 * object per point and a generic serializer pass (about half the time of a 100k-point fetch).
 */
export class RawJson {
  constructor(readonly text: string) {}
}

/**
 * GET reads the query string; every other method a JSON body (the MLflow client sends DELETE with a JSON
 * body). A DELETE that came without a body falls back to its query string, as other clients send it.
 */
export async function registerEndpoints(app: FastifyInstance, endpoints: Endpoint[]): Promise<void> {
  for (const ep of endpoints) {
    for (const method of ep.methods) {
      app.route({
        method,
        url: ep.path,
        handler: async (req, reply) => {
          const input = method === "GET" || (method === "DELETE" && req.body === undefined) ? req.query : req.body;
          const out = await ep.handler(asMessage(input));
          return out instanceof RawJson ? reply.type("application/json; charset=utf-8").send(out.text) : out;
        },
      });
    }
  }
}

/** A search's filter and order_by as sent; the service parses and bounds them. */
export function searchTerms(m: Message): { filter?: string; orderBy: string[] } {
  return { filter: optString(m, "filter"), orderBy: stringList(m, "order_by") };
}

export function nextPage(nextOffset: number | undefined): { next_page_token?: string } {
  return nextOffset !== undefined ? { next_page_token: encodePageToken(nextOffset) } : {};
}

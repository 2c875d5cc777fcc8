/**
 * The Open Inference Protocol v2 REST endpoints over a ModelRepository, as one Fastify plugin (all paths
 * under /v2, errors as `{"error": …}`, bodies read as bytes). Knows nothing of where models come from.
 */
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import { VERSION } from "../server/version.js";
import { modelNotFound, oipErrorBody, queueFull, ServingError, toServingError, unavailable } from "./errors.js";
import { beforeInfer, type ModelMetadata, type ModelRepository, refuse, type ServedModel } from "./model.js";
import { decodeOipRequest, encodeOipAnswer, HEADER_LENGTH } from "./oip-codec.js";
import { acceptRawBodies, rawBody } from "./raw-body.js";
import { inferOptions } from "./request-options.js";
import type { Tensor } from "./tensor.js";

export interface OipRoutesOptions {
  repository: ModelRepository;
  /** Largest request body in bytes (413 past it); default DEFAULT_MAX_BODY_BYTES. */
  maxBodyBytes?: number;
  /** Server name in GET /v2 (default "keel"). */
  serverName?: string;
}

export const OIP_EXTENSIONS = ["binary_tensor_data"];

type Params = { model: string; version?: string };

/** Sends a ServingError in OIP's shape (with Retry-After when it has one). */
export function sendOipError(err: unknown, req: FastifyRequest, reply: FastifyReply): void {
  const e = toServingError(err);
  if (e.status >= 500 && !(err instanceof ServingError)) req.log.error({ err }, "inference request failed");
  if (e.retryAfterS !== undefined) reply.header("retry-after", String(e.retryAfterS));
  reply.status(e.status).type("application/json").send(oipErrorBody(e));
}

/** The model for `name` (and `version`), or a 404 that says which part is unknown. */
export function findModel(repo: ModelRepository, name: string, version?: string): ServedModel {
  const m = repo.get(name, version);
  if (m) return m;
  if (version !== undefined && repo.get(name)) throw modelNotFound(`Model '${name}' has no version '${version}'.`);
  throw modelNotFound(`Unknown model '${name}'.`);
}

function metadataBody(meta: ModelMetadata) {
  const spec = (s: ModelMetadata["inputs"][number]) => ({ name: s.name, datatype: s.datatype, shape: s.shape });
  return { name: meta.name, versions: meta.versions, platform: meta.platform, inputs: meta.inputs.map(spec), outputs: meta.outputs.map(spec) };
}

export function oipRoutes(opts: OipRoutesOptions): FastifyPluginAsync {
  const repo = opts.repository;
  return async (app: FastifyInstance) => {
    await app.register(
      async (v2) => {
        acceptRawBodies(v2, opts.maxBodyBytes);
        v2.setErrorHandler((err, req, reply) => sendOipError(err, req, reply));
        v2.setNotFoundHandler((req, reply) => {
          reply.status(404).send({ error: `No endpoint ${req.method} ${req.url.split("?")[0]} in the Open Inference Protocol.` });
        });

        // Overload: refuse before the body is read or decoded when the model's queue is already full.
        v2.addHook("onRequest", (req, _reply, done) => {
          const p = req.method === "POST" ? (req.params as Partial<Params> | undefined) : undefined;
          const model = p?.model !== undefined ? repo.get(p.model, p.version) : undefined;
          if (model?.saturated?.(p?.version)) {
            done(refuse(model, queueFull(model.name)));
          } else done();
        });

        v2.get("/", async () => ({ name: opts.serverName ?? "keel", version: VERSION, extensions: OIP_EXTENSIONS }));
        v2.get("/health/live", async (_req, reply) => reply.status(200).send());
        // Ready when every model is (Triton's strict readiness); a server with no models yet is ready.
        v2.get("/health/ready", async (_req, reply) => reply.status(repo.list().every((m) => m.ready()) ? 200 : 400).send());

        const metadata = async (req: FastifyRequest<{ Params: Params }>) => {
          const m = findModel(repo, req.params.model, req.params.version);
          return metadataBody(m.metadata());
        };
        const ready = async (req: FastifyRequest<{ Params: Params }>, reply: FastifyReply) => {
          const m = findModel(repo, req.params.model, req.params.version);
          return reply.status(m.ready() ? 200 : 400).send();
        };
        const infer = async (req: FastifyRequest<{ Params: Params }>, reply: FastifyReply) => {
          const { model: name, version } = req.params;
          const model = findModel(repo, name, version);
          const { meta, request } = beforeInfer(model, () => {
            if (!model.ready()) throw unavailable(`Model '${name}' is not ready yet.`, 1);
            const meta = model.metadata();
            return { meta, request: decodeOipRequest(rawBody(req), req.headers[HEADER_LENGTH], meta, model.inputPolicy) };
          });
          const wanted = request.outputs?.map((o) => o.name);
          const options = inferOptions(req, { ...(wanted ? { outputs: wanted } : {}), ...(request.parameters ? { parameters: request.parameters } : {}), ...(version !== undefined ? { version } : {}) });
          const produced = await model.infer(request.inputs, options);
          const outputs = pickOutputs(produced, wanted ?? meta.outputs.map((o) => o.name));
          const binary = request.outputs ? request.outputs.map((o) => o.binary) : outputs.map(() => request.binaryByDefault);
          const modelVersion = version ?? (model.versions.length === 1 ? model.versions[0] : undefined);
          const answer = encodeOipAnswer({ model_name: name, model_version: modelVersion, id: request.id ?? options.requestId }, outputs, binary);
          if (answer.headerLength !== undefined) reply.header("inference-header-content-length", String(answer.headerLength));
          return reply.type(answer.contentType).send(answer.body);
        };

        for (const base of ["/models/:model", "/models/:model/versions/:version"]) {
          v2.get(base, metadata);
          v2.get(`${base}/ready`, ready);
          v2.post(`${base}/infer`, infer);
        }
      },
      { prefix: "/v2" },
    );
  };
}

/** The model's outputs in the order asked for; one missing is the model's fault (a 500), not the client's. */
function pickOutputs(produced: readonly Tensor[], names: readonly string[]): Tensor[] {
  if (produced.length === names.length && produced.every((t, i) => t.name === names[i])) return produced as Tensor[];
  return names.map((n) => {
    const t = produced.find((x) => x.name === n);
    if (!t) throw new Error(`The model returned no output '${n}'.`);
    return t;
  });
}

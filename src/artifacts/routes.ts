import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { invalidParam } from "../core/errors.js";
import { asMessage, objectList, optInt, optString, reqString, runIdOf } from "../core/validate.js";
import { parseRange, rangeNotSatisfiable, requestOrigin, sendArtifact } from "./http.js";
import { checkArtifactPath, joinArtifactPath } from "./safe-path.js";
import type { ArtifactService } from "./service.js";
import type { ByteRange } from "./store.js";

/**
 * MLflow's artifact proxy (`mlflow server --serve-artifacts`), the tracking API's artifact routes and
 * the UI's get-artifact/upload-artifact. Bodies of uploads are streams: these scopes replace the JSON
 * parser with one that hands the raw request to the handler, so no size limit or buffering applies.
 */
export const ARTIFACTS_PREFIX = "/api/2.0/mlflow-artifacts";

class Unsatisfiable {
  constructor(readonly size: number) {}
}

function rangeOf(req: FastifyRequest): (size: number) => ByteRange | undefined {
  return (size) => {
    const r = parseRange(req.headers.range, size);
    if (r === null) throw new Unsatisfiable(size);
    return r;
  };
}

async function download(svc: ArtifactService, req: FastifyRequest, reply: FastifyReply, path: string): Promise<FastifyReply> {
  try {
    return sendArtifact(reply, path, await svc.read(path, rangeOf(req)));
  } catch (e) {
    if (e instanceof Unsatisfiable) return rangeNotSatisfiable(reply, e.size);
    throw e;
  }
}

/**
 * Routes whose body is artifact bytes, of any content type (a .json artifact arrives as application/json):
 * no parser runs, the handler streams `req.raw`.
 */
async function withRawBodies(app: FastifyInstance, routes: (scope: FastifyInstance) => void): Promise<void> {
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser("*", (_req, _payload, done) => done(null, undefined));
    routes(scope);
  });
}

export async function registerArtifactProxyRoutes(app: FastifyInstance, svc: ArtifactService): Promise<void> {
  const wildcard = (req: FastifyRequest) => (req.params as { "*": string })["*"];

  app.get("/artifacts", async (req) => {
    const m = asMessage(req.query);
    const dir = await svc.proxyPath(optString(m, "path") ?? "");
    const files = await svc.list(dir);
    // The proxy answers basenames (the client joins them to the directory it asked for).
    return files.length ? { files: files.map((f) => ({ ...f, path: f.path.slice(dir.length + 1) })) } : {};
  });
  app.get("/artifacts/*", async (req, reply) => download(svc, req, reply, await svc.proxyPath(wildcard(req))));
  await withRawBodies(app, (raw) => {
    raw.put("/artifacts/*", async (req) => {
      await svc.put(wildcard(req), req.raw);
      return {};
    });
    raw.put("/mpu/upload-part/*", async (req, reply) => {
      const m = asMessage(req.query);
      const length = Number(req.headers["content-length"]);
      const size = Number.isSafeInteger(length) && length >= 0 ? length : undefined;
      const part = await svc.uploadPart(wildcard(req), reqString(m, "upload_id"), optInt(m, "part_number") ?? Number.NaN, req.raw, size);
      // The MLflow client reads the ETag header of each part's answer and sends it back on complete.
      reply.header("etag", `"${part.etag}"`);
      return { part_number: part.partNumber, etag: part.etag, size: part.size };
    });
  });
  app.delete("/artifacts/*", async (req) => {
    await svc.delete(wildcard(req));
    return {};
  });

  // Multipart: the part URLs point back at this server (there are no presigned URLs for a filesystem).
  app.post("/mpu/create/*", async (req) => {
    const m = asMessage(req.body ?? {});
    const numParts = optInt(m, "num_parts") ?? 1;
    if (numParts < 1 || numParts > 10_000) throw invalidParam(`num_parts must be from 1 to 10000; got ${numParts}.`);
    const { path, uploadId } = await svc.createUpload(wildcard(req));
    const base = `${requestOrigin(req)}${ARTIFACTS_PREFIX}/mpu/upload-part/${path.split("/").map(encodeURIComponent).join("/")}`;
    const credentials = Array.from({ length: numParts }, (_, i) => ({
      url: `${base}?upload_id=${uploadId}&part_number=${i + 1}`,
      part_number: i + 1,
      headers: {},
    }));
    return { upload_id: uploadId, credentials };
  });
  app.post("/mpu/complete/*", async (req) => {
    const m = asMessage(req.body ?? {});
    const parts = objectList(m, "parts").map((p) => ({ partNumber: optInt(p, "part_number") ?? Number.NaN, etag: optString(p, "etag") }));
    await svc.completeUpload(wildcard(req), reqString(m, "upload_id"), parts);
    return {};
  });
  // Keel extension: which parts of an interrupted upload arrived, so a client resumes with the rest.
  app.get("/mpu/parts/*", async (req) => {
    const parts = await svc.listParts(wildcard(req), reqString(asMessage(req.query), "upload_id"));
    return { parts: parts.map((p) => ({ part_number: p.partNumber, etag: p.etag, size: p.size })) };
  });
  app.post("/mpu/abort/*", async (req) => {
    await svc.abortUpload(wildcard(req), reqString(asMessage(req.body ?? {}), "upload_id"));
    return {};
  });
}

/** Under /api/2.0/mlflow and /ajax-api/2.0/mlflow. */
export async function registerTrackingArtifactRoutes(app: FastifyInstance, svc: ArtifactService): Promise<void> {
  app.get("/artifacts/list", async (req) => {
    const m = asMessage(req.query);
    const runId = runIdOf(m);
    const { root, files } = await svc.listRun(runId, optString(m, "path"));
    return { root_uri: `mlflow-artifacts:/${root}`, ...(files.length ? { files } : {}) };
  });
}

/** The UI's routes: /get-artifact at the root and under /ajax-api/2.0/mlflow, upload-artifact under the latter. */
export async function registerUiArtifactRoutes(
  app: FastifyInstance,
  svc: ArtifactService,
  opts: { upload: boolean; versionPath: (name: string, version: number) => Promise<string> },
): Promise<void> {
  // A file inside a registered model version's artifacts (the path the version's source resolved to).
  app.get("/model-versions/get-artifact", async (req, reply) => {
    const m = asMessage(req.query);
    const version = optInt(m, "version");
    if (version === undefined || version < 1) throw invalidParam("'version' must be a positive integer model version.");
    const base = await opts.versionPath(reqString(m, "name"), version);
    return download(svc, req, reply, joinArtifactPath(base, checkArtifactPath(reqString(m, "path"), "path")));
  });
  app.get("/get-artifact", async (req, reply) => {
    const m = asMessage(req.query);
    const runId = runIdOf(m);
    return download(svc, req, reply, await svc.runFile(runId, reqString(m, "path")));
  });
  if (opts.upload) {
    await withRawBodies(app, (raw) => {
      raw.post("/upload-artifact", async (req) => {
        const m = asMessage(req.query);
        const runId = runIdOf(m);
        await svc.putRunFile(runId, reqString(m, "path"), req.raw);
        return {};
      });
    });
  }
}

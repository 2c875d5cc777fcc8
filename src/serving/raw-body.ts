/**
 * Serving routes read their bodies as bytes, whatever the Content-Type: the binary tensor extension is a
 * JSON header followed by raw tensor bytes, and the MLflow formats are parsed by the route itself. Bodies
 * stream in up to a limit (413 past it, before the rest is read; a Content-Length past it is refused at once).
 *
 * The bytes are kept beside the request, not as `request.body`: hooks that walk a parsed body (the main
 * server's NUL check) would otherwise walk a Buffer byte by byte.
 */
import type { FastifyInstance, FastifyRequest } from "fastify";

/** 64 MiB: a batch of a few hundred 224×224 images in FP32, binary. */
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024;

const bodies = new WeakMap<FastifyRequest, Buffer>();

/** Makes every route of this (encapsulated) scope receive its body as bytes; read them with rawBody. */
export function acceptRawBodies(scope: FastifyInstance, maxBytes: number = DEFAULT_MAX_BODY_BYTES): void {
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser("*", { parseAs: "buffer", bodyLimit: maxBytes }, (req, body, done) => {
    bodies.set(req, body as Buffer);
    done(null, undefined);
  });
}

export function rawBody(req: FastifyRequest): Buffer | undefined {
  return bodies.get(req);
}

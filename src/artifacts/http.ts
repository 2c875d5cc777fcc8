import { basename, extname } from "node:path";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { ArtifactRead, ByteRange } from "./store.js";

/**
 * HTTP details of artifact downloads: content types, single byte ranges, and headers that keep a
 * downloaded file from ever being rendered as a page of this origin.
 */
const TYPES: Record<string, string> = {
  ".txt": "text/plain; charset=utf-8",
  ".log": "text/plain; charset=utf-8",
  ".md": "text/plain; charset=utf-8",
  // MLflow 2.10 serves JSON artifacts as text/plain (recorded in the client trace); the real server wins.
  ".json": "text/plain; charset=utf-8",
  ".yaml": "text/plain; charset=utf-8",
  ".yml": "text/plain; charset=utf-8",
  ".csv": "text/csv; charset=utf-8",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".gif": "image/gif",
  ".webp": "image/webp",
  ".pdf": "application/pdf",
  ".onnx": "application/octet-stream",
  ".pkl": "application/octet-stream",
  ".parquet": "application/octet-stream",
};

/** Never text/html or image/svg+xml: an uploaded page must not run as this origin. */
export function contentTypeFor(path: string): string {
  const name = basename(path);
  if (name === "MLmodel") return "text/plain; charset=utf-8";
  return TYPES[extname(name).toLowerCase()] ?? "application/octet-stream";
}

/**
 * One `bytes=` range against a size: a range, `null` to answer 416, or undefined to send the whole
 * object (no header, or several ranges, which RFC 9110 lets a server ignore).
 */
export function parseRange(header: string | undefined, size: number): ByteRange | null | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m) return header.includes(",") ? undefined : null;
  const [, a, b] = m;
  if (a === "" && b === "") return null;
  if (a === "") {
    const n = Number(b);
    if (n === 0 || size === 0) return null;
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(a);
  const end = b === "" ? size - 1 : Math.min(Number(b), size - 1);
  if (start >= size || end < start) return null;
  return { start, end };
}

export function sendArtifact(reply: FastifyReply, path: string, read: ArtifactRead & { range?: ByteRange }): FastifyReply {
  reply.header("content-type", contentTypeFor(path));
  reply.header("x-content-type-options", "nosniff");
  reply.header("content-security-policy", "default-src 'none'; sandbox");
  reply.header("accept-ranges", "bytes");
  reply.header("content-disposition", `attachment; filename*=UTF-8''${encodeURIComponent(basename(path))}`);
  if (read.range) {
    reply.code(206);
    reply.header("content-range", `bytes ${read.range.start}-${read.range.end}/${read.size}`);
    reply.header("content-length", read.range.end - read.range.start + 1);
  } else {
    reply.header("content-length", read.size);
  }
  return reply.send(read.stream);
}

/** A 416 in the shape the request's protocol uses, with the size the client may ask within. */
export function rangeNotSatisfiable(reply: FastifyReply, size: number): FastifyReply {
  return reply
    .code(416)
    .header("content-range", `bytes */${size}`)
    .send({ error_code: "INVALID_PARAMETER_VALUE", message: `The requested range is outside the artifact (${size} bytes).` });
}

/** The absolute base URL this request reached, for URLs handed back to the client (multipart part URLs). */
export function requestOrigin(req: FastifyRequest): string {
  return `${req.protocol}://${req.host}`;
}

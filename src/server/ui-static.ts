import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { readFile, realpath, stat } from "node:fs/promises";
import { dirname, extname, join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";

/**
 * The web UI: the files Vite built into `ui/dist`, served at `/`. Every path that is not an API route and
 * not a file answers index.html, so deep links (`/experiments/1/runs/abc`) load the app, which routes
 * itself. API prefixes never fall through to the UI: an unknown API path is still the JSON 404.
 * The UI's files are public (the app shows its own sign-in); the API behind them stays guarded.
 */

/** First path segments that belong to an API (or the server itself): never answered with the UI. */
const API_SEGMENTS = new Set(["api", "ajax-api", "v2", "metrics", "health", "version", "docs", "get-artifact", "model-versions", "invocations", "ping"]);

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".webmanifest": "application/manifest+json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".txt": "text/plain; charset=utf-8",
};
const COMPRESSIBLE = new Set([".html", ".js", ".mjs", ".css", ".json", ".map", ".svg", ".txt", ".webmanifest"]);

/**
 * The page is the app: scripts only from this origin (and the page's own inline scripts, by hash: the theme
 * is set before the first paint), no framing (clickjacking), API calls only to this origin.
 */
function contentSecurityPolicy(html: string): string {
  const hashes: string[] = [];
  for (const m of html.matchAll(/<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/gi)) {
    if (m[1].trim()) hashes.push(`'sha256-${createHash("sha256").update(m[1]).digest("base64")}'`);
  }
  return [
    "default-src 'self'",
    `script-src 'self'${hashes.map((h) => ` ${h}`).join("")}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "connect-src 'self'",
    "frame-ancestors 'none'",
    "base-uri 'self'",
    "form-action 'self'",
  ].join("; ");
}

/** Vite names everything under assets/ by content hash: those never change, so browsers may keep them a year. */
const IMMUTABLE = "public, max-age=31536000, immutable";

/**
 * `ui/dist` of the installed package: the first folder above this module (src/server/, dist/server/ or the
 * bundled dist/keel.mjs) whose package.json is Keel's. Undefined when not found.
 */
export function defaultUiDir(moduleUrl: string = import.meta.url): string | undefined {
  let dir = dirname(fileURLToPath(moduleUrl));
  for (let i = 0; i < 6; i++) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, "utf8")) as { name?: string }).name === "keel") return join(dir, "ui", "dist");
      } catch {}
    }
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return undefined;
}

interface CachedFile {
  mtimeMs: number;
  size: number;
  body: Buffer;
  gzip?: Buffer;
  etag: string;
  /** HTML only. */
  csp?: string;
}

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Keel</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; line-height: 1.5">
<h1>Keel</h1>
<p>The server is running, but the web UI has not been built.</p>
<p>Build it with <code>npm run build:ui</code> (<code>npm install</code> builds it too), then reload this page.</p>
<p>The API works without it: <a href="/docs">API docs</a>, MLflow clients at this address.</p>
</body></html>
`;

/** Registers `GET /` and `GET /*` (both public in the access table). `dir` undefined or missing: a page saying how to build the UI. */
export async function registerUiStatic(app: FastifyInstance, opts: { dir: string | undefined }): Promise<void> {
  const root = opts.dir ? resolve(opts.dir) : undefined;
  let realRoot: string | undefined;
  const cache = new Map<string, CachedFile>();

  async function rootDir(): Promise<string | undefined> {
    if (!root) return undefined;
    if (realRoot === undefined) {
      try {
        realRoot = await realpath(root);
      } catch {
        return undefined;
      }
    }
    return realRoot;
  }

  /** A regular file strictly inside the UI folder (after resolving symlinks), or undefined. */
  async function fileUnder(base: string, rel: string): Promise<string | undefined> {
    const target = resolve(base, `.${sep}${rel}`);
    if (!target.startsWith(base + sep)) return undefined;
    try {
      const real = await realpath(target);
      if (!real.startsWith(base + sep)) return undefined;
      return (await stat(real)).isFile() ? real : undefined;
    } catch {
      return undefined;
    }
  }

  async function load(path: string): Promise<CachedFile> {
    const st = await stat(path);
    const hit = cache.get(path);
    if (hit && hit.mtimeMs === st.mtimeMs && hit.size === st.size) return hit;
    const body = await readFile(path);
    const entry: CachedFile = { mtimeMs: st.mtimeMs, size: st.size, body, etag: `W/"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"` };
    if (COMPRESSIBLE.has(extname(path)) && body.length > 1024) entry.gzip = gzipSync(body, { level: 6 });
    if (extname(path) === ".html") entry.csp = contentSecurityPolicy(body.toString("utf8"));
    cache.set(path, entry);
    return entry;
  }

  async function send(req: FastifyRequest, reply: FastifyReply, path: string, cacheControl: string): Promise<FastifyReply> {
    const file = await load(path);
    const ext = extname(path);
    reply.header("content-type", TYPES[ext] ?? "application/octet-stream");
    reply.header("cache-control", cacheControl);
    reply.header("etag", file.etag);
    reply.header("x-content-type-options", "nosniff");
    if (file.csp) {
      reply.header("content-security-policy", file.csp);
      reply.header("referrer-policy", "same-origin");
    }
    if (file.gzip) reply.header("vary", "accept-encoding");
    if (req.headers["if-none-match"] === file.etag) return reply.code(304).send();
    if (file.gzip && /\bgzip\b/.test(String(req.headers["accept-encoding"] ?? ""))) {
      reply.header("content-encoding", "gzip");
      return reply.send(file.gzip);
    }
    return reply.send(file.body);
  }

  const handler = async (req: FastifyRequest, reply: FastifyReply) => {
    let decoded: string;
    try {
      decoded = decodeURIComponent(req.url.split("?")[0]);
    } catch {
      return reply.callNotFound();
    }
    if (decoded.includes("\u0000") || decoded.includes("\\")) return reply.callNotFound();
    // An API path in any spelling the router did not match (`//api/…`, `/API/…`, `/%61pi/…`) stays a JSON 404.
    const first = decoded.split("/").find((segment) => segment !== "") ?? "";
    if (API_SEGMENTS.has(first.toLowerCase())) return reply.callNotFound();
    const base = await rootDir();
    const index = base ? await fileUnder(base, "index.html") : undefined;
    if (!base || !index) return reply.type("text/html; charset=utf-8").header("cache-control", "no-cache").send(NOT_BUILT);
    const rel = decoded.replace(/^\/+/, "");
    if (rel !== "") {
      const file = await fileUnder(base, rel);
      if (file) return send(req, reply, file, rel.startsWith("assets/") ? IMMUTABLE : "no-cache");
      // A missing file (a stale hashed asset, a typo) is a 404, not the app: a script tag must not get HTML.
      if (rel.startsWith("assets/") || TYPES[extname(rel)] !== undefined) return reply.callNotFound();
    }
    return send(req, reply, index, "no-cache");
  };
  // The UI's files are not part of the API: kept out of the OpenAPI document at /docs.
  app.get("/", { schema: { hide: true } }, handler);
  app.get("/*", { schema: { hide: true } }, handler);
}

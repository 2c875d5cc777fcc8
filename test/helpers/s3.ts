import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * A real S3-compatible server on 127.0.0.1, on a free port, storing in a temp dir: s3rver 3.7.1 (its
 * newer fork @20minutes/s3rver needs Node 24) does objects (PUT, GET, HEAD, DELETE, DeleteObjects),
 * multipart create/part/complete and SigV4 checks.
 *
 * Where s3rver differs from S3 in ways the artifact store depends on, a small shim in front answers in
 * S3's wire format from s3rver's own files instead:
 * - ListObjectsV2: s3rver signs continuation tokens with DES, which Node 20's OpenSSL refuses (every
 *   truncated listing is a 500); it never reports a directory holding only directories as a common
 *   prefix; and it does not count common prefixes against max-keys.
 * - ListParts and AbortMultipartUpload answer 405; an unknown upload id is accepted by UploadPart and
 *   is a 500 on Complete, where S3 answers 404 NoSuchUpload.
 * (s3rver also reads "bytes=0-0" as the whole object; the store copes with widened ranges, so that
 * stays as it is.)
 */
export interface LocalS3 {
  endpoint: string;
  bucket: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  close(): Promise<void>;
}

interface S3rverInstance {
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
  configureBuckets(): Promise<void>;
  logger: { close(): void; exceptions: { unhandle(): void } };
}

// s3rver is CommonJS without types.
const S3rver = createRequire(import.meta.url)("s3rver") as new (opts: Record<string, unknown>) => S3rverInstance;

/** s3rver keeps object "a/b" as <dir>/<bucket>/a/b._S3rver_object and upload <id> in <dir>/<bucket>/._S3rver_uploads/<id>/. */
const OBJECT = "._S3rver_object";
const UPLOADS = "._S3rver_uploads";

export async function startLocalS3(bucket = "keel-test"): Promise<LocalS3> {
  const dir = mkdtempSync(join(tmpdir(), "keel-s3-"));
  const s3 = new S3rver({ directory: dir, silent: true, configureBuckets: [{ name: bucket, configs: [] }] });
  await s3.configureBuckets();
  const handle = s3.callback();
  const server = createServer((req, res) => {
    shim(dir, req, res).then(
      (done) => done || handle(req, res),
      (e: Error) => s3Error(res, 500, "InternalError", e.message),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    bucket,
    credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      s3.logger.exceptions.unhandle();
      s3.logger.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Answers what s3rver gets wrong; false = s3rver answers. */
async function shim(dir: string, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
  const url = new URL(req.url ?? "/", "http://x");
  const q = url.searchParams;
  const bucketOnly = /^\/([^/]+)\/?$/.exec(url.pathname);
  if (req.method === "GET" && bucketOnly && q.get("list-type") === "2") {
    await listObjectsV2(join(dir, bucketOnly[1]), bucketOnly[1], q, res);
    return true;
  }
  const m = /^\/([^/]+)\/(.+)$/.exec(url.pathname);
  const uploadId = q.get("uploadId");
  if (!m || uploadId === null) return false;
  const up = /^[0-9a-f]{32}$/.test(uploadId) ? join(dir, m[1], UPLOADS, uploadId) : "";
  if (!up || !existsSync(join(up, "key"))) {
    req.resume();
    s3Error(res, 404, "NoSuchUpload", "The specified upload does not exist.");
    return true;
  }
  if (req.method === "DELETE") {
    rmSync(up, { recursive: true, force: true });
    res.writeHead(204).end();
    return true;
  }
  if (req.method !== "GET") return false;
  // A part whose upload was cut off has no .md5 yet: S3 would not list it either.
  const marker = Number(q.get("part-number-marker") ?? 0);
  const max = Math.min(Number(q.get("max-parts") ?? 1000), 1000);
  const names = new Set(await readdir(up));
  const after = [...names]
    .filter((n) => /^\d+$/.test(n) && names.has(`${n}.md5`) && Number(n) > marker)
    .map(Number)
    .sort((a, b) => a - b);
  const page = after.slice(0, max);
  let parts = "";
  for (const n of page) {
    const [st, md5] = await Promise.all([stat(join(up, String(n))), readFile(join(up, `${n}.md5`), "utf8")]);
    parts += `<Part><PartNumber>${n}</PartNumber><LastModified>${st.mtime.toISOString()}</LastModified><ETag>"${md5.trim()}"</ETag><Size>${st.size}</Size></Part>`;
  }
  const truncated = after.length > page.length;
  xml(
    res,
    `<ListPartsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>${esc(m[1])}</Bucket><UploadId>${uploadId}</UploadId><PartNumberMarker>${marker}</PartNumberMarker>${truncated ? `<NextPartNumberMarker>${page[page.length - 1]}</NextPartNumberMarker>` : ""}<MaxParts>${max}</MaxParts><IsTruncated>${truncated}</IsTruncated>${parts}</ListPartsResult>`,
  );
  return true;
}

/** S3's ListObjectsV2: keys in UTF-8 byte order; keys and common prefixes together count against max-keys. */
async function listObjectsV2(bucketDir: string, bucket: string, q: URLSearchParams, res: ServerResponse): Promise<void> {
  if (!existsSync(bucketDir)) return s3Error(res, 404, "NoSuchBucket", "The specified bucket does not exist.");
  const prefix = q.get("prefix") ?? "";
  const delimiter = q.get("delimiter") ?? "";
  const max = Math.min(Number(q.get("max-keys") ?? 1000), 1000);
  const token = q.get("continuation-token");
  const startAfter = token ? Buffer.from(token, "base64url").toString("utf8") : (q.get("start-after") ?? "");
  const keys = (await objectFiles(bucketDir, "")).filter((k) => k.startsWith(prefix)).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const page: { key?: string; prefix?: string }[] = [];
  let truncated = false;
  for (const key of keys) {
    if (Buffer.compare(Buffer.from(key), Buffer.from(startAfter)) <= 0) continue;
    const cut = delimiter ? key.indexOf(delimiter, prefix.length) : -1;
    const entry = cut >= 0 ? { prefix: key.slice(0, cut + delimiter.length) } : { key };
    // Resuming after a common prefix skips the rest of its keys; a prefix is one entry however many keys it has.
    if (entry.prefix && (entry.prefix === startAfter || entry.prefix === page[page.length - 1]?.prefix)) continue;
    if (page.length === max) {
      truncated = true;
      break;
    }
    page.push(entry);
  }
  let body = "";
  for (const e of page) {
    if (e.prefix !== undefined) {
      body += `<CommonPrefixes><Prefix>${esc(e.prefix)}</Prefix></CommonPrefixes>`;
      continue;
    }
    const file = join(bucketDir, `${e.key}${OBJECT}`);
    const [st, md5] = await Promise.all([stat(file), readFile(`${file}.md5`, "utf8").catch(() => "")]);
    body += `<Contents><Key>${esc(e.key ?? "")}</Key><LastModified>${st.mtime.toISOString()}</LastModified><ETag>"${md5.trim()}"</ETag><Size>${st.size}</Size><StorageClass>STANDARD</StorageClass></Contents>`;
  }
  const last = page[page.length - 1];
  const next = truncated ? `<NextContinuationToken>${Buffer.from(last.prefix ?? last.key ?? "").toString("base64url")}</NextContinuationToken>` : "";
  xml(
    res,
    `<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${esc(bucket)}</Name><Prefix>${esc(prefix)}</Prefix>${delimiter ? `<Delimiter>${esc(delimiter)}</Delimiter>` : ""}<MaxKeys>${max}</MaxKeys><KeyCount>${page.length}</KeyCount><IsTruncated>${truncated}</IsTruncated>${token ? `<ContinuationToken>${esc(token)}</ContinuationToken>` : ""}${next}${body}</ListBucketResult>`,
  );
}

/** Every object key under `rel` in s3rver's layout. */
async function objectFiles(root: string, rel: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(join(root, rel), { withFileTypes: true })) {
    const path = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory() && path !== UPLOADS) out.push(...(await objectFiles(root, path)));
    else if (e.isFile() && e.name.endsWith(OBJECT)) out.push(path.slice(0, -OBJECT.length));
  }
  return out;
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

function xml(res: ServerResponse, body: string): void {
  res.writeHead(200, { "content-type": "application/xml" }).end(`<?xml version="1.0" encoding="UTF-8"?>${body}`);
}

function s3Error(res: ServerResponse, status: number, code: string, message: string): void {
  res.writeHead(status, { "content-type": "application/xml" }).end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${esc(message)}</Message></Error>`);
}

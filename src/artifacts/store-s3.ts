import { randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  S3Client,
  type S3ClientConfig,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { invalidParam, KeelError, notFound } from "../core/errors.js";
import { joinArtifactPath } from "./safe-path.js";
import type { ArtifactEntry, ArtifactRead, ArtifactStat, ArtifactStore, ByteRange, UploadPart } from "./store.js";

export interface S3StoreOptions {
  bucket: string;
  /** Key prefix under which the store root lives; "" = the bucket's root. Slashes at either end are ignored. */
  prefix: string;
  /** An S3-compatible server (MinIO, Ceph, s3rver…); unset = AWS itself. */
  endpoint?: string;
  /** Unset = AWS_REGION / the SDK's default chain (us-east-1 when an endpoint is given and nothing is set). */
  region?: string;
  /** Defaults to true when `endpoint` is set: most S3-compatible servers only do path-style addressing. */
  forcePathStyle?: boolean;
  /** Unset = the SDK's default chain (AWS_ACCESS_KEY_ID…, profiles, instance roles). */
  credentials?: S3ClientConfig["credentials"];
  /** Attempts per request (SDK default 3). */
  maxAttempts?: number;
  /** Time allowed to open a TCP connection (default 5 s), so a dead endpoint fails instead of hanging. */
  connectTimeoutMs?: number;
  /** A socket silent this long is dropped (default 120 s): a hung server must not hang a request forever. */
  idleTimeoutMs?: number;
  /** Part size for streamed `put` (default 8 MiB, S3's minimum is 5 MiB). 10,000 parts × 8 MiB ≈ 78 GiB per object. */
  partSize?: number;
  /** Parts of one `put` in flight at once (default 4): memory per put ≈ (queueSize + 1) × partSize. */
  queueSize?: number;
  /**
   * Where the SDK's own warnings go (pino fits). Unset = nowhere: every failure already reaches the caller
   * as a KeelError, and the SDK would otherwise print e.g. "non-retryable streaming request" to the console
   * for each part upload a client abandons.
   */
  logger?: S3ClientConfig["logger"];
  /** Keys per ListObjectsV2/ListParts page (default and S3 maximum 1000); small values let tests reach page two. */
  pageSize?: number;
}

const NOT_FOUND = new Set(["NoSuchKey", "NotFound", "NoSuchUpload"]);
const BAD_INPUT = new Set(["InvalidPart", "InvalidPartOrder", "EntityTooSmall", "EntityTooLarge", "InvalidRange", "InvalidArgument"]);
const UNAVAILABLE = new Set(["TimeoutError", "SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout", "RequestTimeTooSkewed"]);
const NET_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "EPIPE", "ECONNABORTED"]);

const QUIET = { trace() {}, debug() {}, info() {}, warn() {}, error() {} };

/** S3 quotes ETags; the API hands them out bare (as the filesystem store does) and quotes them for S3. */
const bare = (etag: string | undefined) => (etag ?? "").replace(/"/g, "");

/** `uploadPart` also takes the part's length (the request's Content-Length) so the part can stream through. */
export interface S3ArtifactStore extends ArtifactStore {
  uploadPart(path: string, uploadId: string, partNumber: number, body: Readable, size?: number): Promise<UploadPart>;
}

export function createS3ArtifactStore(opts: S3StoreOptions): S3ArtifactStore {
  const { bucket } = opts;
  const prefix = opts.prefix.replace(/^\/+|\/+$/g, "");
  const pageSize = Math.min(opts.pageSize ?? 1000, 1000);
  const where = `s3://${bucket}${prefix ? `/${prefix}` : ""}`;
  const client = new S3Client({
    endpoint: opts.endpoint,
    region: opts.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? (opts.endpoint ? "us-east-1" : undefined),
    forcePathStyle: opts.forcePathStyle ?? Boolean(opts.endpoint),
    credentials: opts.credentials,
    maxAttempts: opts.maxAttempts,
    logger: opts.logger ?? QUIET,
    // Many S3-compatible servers reject the SDK's newer default (aws-chunked bodies with CRC trailers).
    ...(opts.endpoint ? { requestChecksumCalculation: "WHEN_REQUIRED", responseChecksumValidation: "WHEN_REQUIRED" } : {}),
    requestHandler: {
      connectionTimeout: opts.connectTimeoutMs ?? 5_000,
      socketTimeout: opts.idleTimeoutMs ?? 120_000,
      // The SDK's default 50 sockets would queue the 51st concurrent download behind slow readers.
      httpAgent: { keepAlive: true, maxSockets: 256 },
      httpsAgent: { keepAlive: true, maxSockets: 256 },
    },
  });

  const key = (path: string) => joinArtifactPath(prefix, path);
  /** The listing prefix of a directory: "" for the bucket root, else ending in "/". */
  const dirPrefix = (dir: string) => (key(dir) ? `${key(dir)}/` : "");
  const rel = (k: string) => (prefix ? k.slice(prefix.length + 1) : k);

  /** SDK errors → Keel errors, so routes answer 404/400/503 instead of a bare 500. */
  function mapError(e: unknown, what: string): unknown {
    if (e instanceof KeelError) return e;
    const err = e as { name?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number } };
    const name = err?.name ?? "";
    const status = err?.$metadata?.httpStatusCode ?? 0;
    if (NOT_FOUND.has(name)) return notFound(`${what}: not found.`);
    if (BAD_INPUT.has(name)) return invalidParam(`${what}: ${err.message ?? name}`);
    if (UNAVAILABLE.has(name) || NET_CODES.has(err?.code ?? "") || status >= 500) {
      return new KeelError("TEMPORARILY_UNAVAILABLE", `Artifact storage ${where} is unavailable (${what}): ${err.message ?? name}`);
    }
    if (name === "NoSuchBucket" || name === "AccessDenied" || name === "InvalidAccessKeyId" || name === "SignatureDoesNotMatch") {
      // The server's configuration, not the caller's request, is wrong: say so plainly.
      return new KeelError("INTERNAL_ERROR", `Artifact storage ${where} refused ${what}: ${name}: ${err.message ?? ""}`);
    }
    return e;
  }
  async function call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw mapError(e, what);
    }
  }

  /** Every key under a prefix, one page at a time, so a huge tree never sits in memory at once. */
  async function* pages(p: string, delimiter?: string) {
    let token: string | undefined;
    do {
      const out = await call(`list '${p}'`, () =>
        client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: p, Delimiter: delimiter, ContinuationToken: token, MaxKeys: pageSize })),
      );
      yield out;
      token = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (token);
  }

  async function deleteKeys(keys: string[]): Promise<void> {
    if (!keys.length) return;
    const out = await call(`delete ${keys.length} objects`, () =>
      client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true } })),
    );
    const failed = out.Errors ?? [];
    if (failed.length) throw mapError({ name: failed[0].Code, message: `${failed.length} objects not deleted, e.g. '${failed[0].Key}': ${failed[0].Message}` }, "delete");
  }

  async function allParts(path: string, uploadId: string): Promise<UploadPart[]> {
    const parts: UploadPart[] = [];
    let marker: string | undefined;
    do {
      const out = await call(`list parts of upload '${uploadId}' for '${path}'`, () =>
        client.send(new ListPartsCommand({ Bucket: bucket, Key: key(path), UploadId: uploadId, PartNumberMarker: marker, MaxParts: pageSize })),
      );
      for (const p of out.Parts ?? []) parts.push({ partNumber: p.PartNumber ?? 0, size: p.Size ?? 0, etag: bare(p.ETag) });
      marker = out.IsTruncated ? out.NextPartNumberMarker : undefined;
    } while (marker);
    return parts.sort((a, b) => a.partNumber - b.partNumber);
  }

  async function statObject(path: string): Promise<ArtifactStat | undefined> {
    try {
      const out = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key(path) }));
      return { size: out.ContentLength ?? 0, modified: out.LastModified?.getTime() ?? 0 };
    } catch (e) {
      const mapped = mapError(e, `stat '${path}'`);
      if (mapped instanceof KeelError && mapped.code === "RESOURCE_DOES_NOT_EXIST") return undefined;
      throw mapped;
    }
  }

  return {
    describe: () => where,

    async put(path, body) {
      let size = 0;
      const counted = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          size += chunk.length;
          cb(null, chunk);
        },
      });
      const detach = feed(body, counted);
      let failure: unknown;
      // Upload buffers at most queueSize+1 parts, so memory stays bounded whatever the body's length;
      // bodies under one part go up as a single PutObject. On failure it aborts its multipart upload.
      const upload = new Upload({
        client: watched(client, (e) => {
          failure ??= e;
          void upload.abort();
        }),
        params: { Bucket: bucket, Key: key(path), Body: counted },
        partSize: opts.partSize ?? 8 * 1024 * 1024,
        queueSize: opts.queueSize ?? 4,
        leavePartsOnError: false,
      });
      try {
        await upload.done();
        return { size };
      } catch (e) {
        counted.destroy();
        throw mapError(failure ?? e, `put '${path}'`);
      } finally {
        detach();
      }
    },

    stat: statObject,

    async get(path, range?: ByteRange): Promise<ArtifactRead> {
      const out = await call(`read '${path}'`, () =>
        client.send(new GetObjectCommand({ Bucket: bucket, Key: key(path), Range: range ? `bytes=${range.start}-${range.end}` : undefined })),
      );
      const body = out.Body;
      // A ranged answer's ContentLength is the range's; the whole size is after the "/" of Content-Range.
      const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(out.ContentRange ?? "");
      const total = m ? Number(m[3]) : out.ContentLength;
      if (!(body instanceof Readable) || total === undefined) {
        (body as Readable | undefined)?.destroy?.();
        throw new KeelError("INTERNAL_ERROR", `Artifact storage ${where} answered an unreadable object for '${path}'.`);
      }
      if (!range) return { stream: body, size: total };
      // Some S3-compatible servers widen a range or ignore it (s3rver reads "bytes=0-0" as the whole object):
      // cut what was asked for out of what came, rather than hand a client the wrong bytes.
      const [from, to] = m ? [Number(m[1]), Number(m[2])] : [0, total - 1];
      if (from === range.start && to === range.end) return { stream: body, size: total };
      if (from > range.start || to < range.end) {
        body.destroy();
        throw new KeelError("INTERNAL_ERROR", `Artifact storage ${where} answered bytes ${from}-${to} of '${path}' for ${range.start}-${range.end}.`);
      }
      return { stream: slice(body, range.start - from, range.end - range.start + 1), size: total };
    },

    async list(dir): Promise<ArtifactEntry[]> {
      const p = dirPrefix(dir);
      const out: ArtifactEntry[] = [];
      for await (const page of pages(p, "/")) {
        for (const cp of page.CommonPrefixes ?? []) if (cp.Prefix) out.push({ path: rel(cp.Prefix.slice(0, -1)), is_dir: true });
        // A key equal to the prefix is a "directory marker" some tools write: not a child.
        for (const o of page.Contents ?? []) if (o.Key && o.Key !== p) out.push({ path: rel(o.Key), is_dir: false, file_size: o.Size ?? 0 });
      }
      // S3 orders by UTF-8 bytes; sort by UTF-16 code units like the filesystem store does.
      return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    },

    async delete(path): Promise<number> {
      let count = 0;
      if (path) {
        // DeleteObjects reports missing keys as deleted, so existence is asked first for an honest count.
        if (await statObject(path)) {
          await deleteKeys([key(path)]);
          count++;
        }
      }
      // "a/b/" and never "a/b": a sibling "a/bc" shares the bare prefix. Pages are ≤ 1000 keys = one batch.
      for await (const page of pages(dirPrefix(path))) {
        const keys = (page.Contents ?? []).flatMap((o) => (o.Key ? [o.Key] : []));
        await deleteKeys(keys);
        count += keys.length;
      }
      return count;
    },

    async createUpload(path) {
      const out = await call(`start an upload to '${path}'`, () => client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key(path) })));
      if (!out.UploadId) throw new KeelError("INTERNAL_ERROR", `Artifact storage ${where} gave no upload id for '${path}'.`);
      return out.UploadId;
    },

    /** `size` (the request's Content-Length) lets the part stream straight through; without it the part is spooled to a temp file, since S3 needs a length up front. */
    async uploadPart(path: string, uploadId: string, partNumber: number, body: Readable, size?: number): Promise<UploadPart> {
      if (!Number.isSafeInteger(partNumber) || partNumber < 1 || partNumber > 10_000) {
        throw invalidParam(`part_number must be an integer from 1 to 10000; got ${partNumber}.`);
      }
      const send = async (stream: Readable, length: number, abortSignal?: AbortSignal) => {
        const out = await call(`upload part ${partNumber} of '${path}'`, () =>
          client.send(
            new UploadPartCommand({ Bucket: bucket, Key: key(path), UploadId: uploadId, PartNumber: partNumber, Body: stream, ContentLength: length }),
            { abortSignal },
          ),
        );
        return { partNumber, size: length, etag: bare(out.ETag) };
      };
      if (size !== undefined) {
        // A body shorter or longer than promised would leave S3 waiting or storing a wrong part; and
        // the SDK pipes the body without forwarding its errors, so a failed body must abort the request.
        const checked = exactLength(size);
        const abort = new AbortController();
        let failure: unknown;
        checked.on("error", (e) => {
          failure = e;
          abort.abort();
        });
        const detach = feed(body, checked);
        try {
          return await send(checked, size, abort.signal);
        } catch (e) {
          checked.destroy();
          throw failure ?? e;
        } finally {
          detach();
        }
      }
      const tmp = join(tmpdir(), `keel-part-${randomBytes(12).toString("hex")}`);
      try {
        await pipeline(body, createWriteStream(tmp, { mode: 0o600 }));
        return await send(createReadStream(tmp), (await stat(tmp)).size);
      } finally {
        await rm(tmp, { force: true });
      }
    },

    listParts: (path, uploadId) => allParts(path, uploadId),

    async completeUpload(path, uploadId, wanted) {
      // Asked first: it fills in missing etags, checks the given ones, and sums the size S3 does not return.
      const have = new Map((await allParts(path, uploadId)).map((p) => [p.partNumber, p]));
      const order = (wanted.length ? [...wanted] : [...have.values()]).sort((a, b) => a.partNumber - b.partNumber);
      if (!order.length) throw invalidParam(`Multipart upload '${uploadId}' has no parts to complete.`);
      let size = 0;
      const parts = order.map((p, i) => {
        const got = have.get(p.partNumber);
        if (!got) throw invalidParam(`Part ${p.partNumber} of upload '${uploadId}' was never uploaded.`);
        if (i > 0 && order[i - 1].partNumber === p.partNumber) throw invalidParam(`Part ${p.partNumber} is listed twice.`);
        if (p.etag && bare(p.etag) !== got.etag) throw invalidParam(`Part ${p.partNumber}'s etag does not match the uploaded part; re-upload it.`);
        size += got.size;
        return { PartNumber: p.partNumber, ETag: `"${got.etag}"` };
      });
      await call(`complete upload '${uploadId}' to '${path}'`, () =>
        client.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key(path), UploadId: uploadId, MultipartUpload: { Parts: parts } })),
      );
      return { size };
    },

    async abortUpload(path, uploadId) {
      await call(`abort upload '${uploadId}' to '${path}'`, () =>
        client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key(path), UploadId: uploadId })),
      );
    },
  };
}

/**
 * The client, except that a failed request also calls `onError`. lib-storage reports a failed part only
 * once every worker has stopped, and a worker waiting for body bytes a stalled client never sends would
 * hold the failure (and the caller) forever.
 */
function watched(client: S3Client, onError: (e: unknown) => void): S3Client {
  const send = (command: Parameters<S3Client["send"]>[0], options?: Parameters<S3Client["send"]>[1]) =>
    client.send(command, options).catch((e: unknown) => {
      onError(e);
      throw e;
    });
  return Object.assign(Object.create(client) as S3Client, { send });
}

/**
 * Pipes a caller's body into `into`, passing its errors on, without owning it: when the upload fails
 * first, `detach` leaves the body alive, since an HTTP request body dies with its socket and the client
 * would never see the error response. (pipeline() would destroy it.)
 */
function feed(body: Readable, into: Transform): () => void {
  const fail = (e: Error) => into.destroy(e);
  body.on("error", fail);
  body.pipe(into);
  return () => {
    body.off("error", fail);
    body.unpipe(into);
  };
}

/** Passes exactly `size` bytes through, or fails the stream. */
function exactLength(size: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      seen += chunk.length;
      cb(seen > size ? invalidParam(`The part is longer than its declared ${size} bytes.`) : null, chunk);
    },
    flush(cb) {
      cb(seen < size ? invalidParam(`The part ended after ${seen} of its declared ${size} bytes.`) : null);
    },
  });
}

/** The `take` bytes after the first `skip` of `source`; the source is dropped once they passed or the reader left. */
function slice(source: Readable, skip: number, take: number): Readable {
  const drop = () => {
    // Dropping the rest may make the source report an abort; that is no longer the reader's business.
    source.unpipe(out);
    source.off("error", fail).on("error", () => {});
    source.destroy();
  };
  const out = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      if (take === 0) return cb();
      const from = Math.min(skip, chunk.length);
      skip -= from;
      const part = chunk.subarray(from, from + take);
      take -= part.length;
      if (part.length) this.push(part);
      if (take === 0) {
        this.push(null);
        drop();
      }
      cb();
    },
  });
  // pipe() does not pass errors on: a failed download must fail the reader, not leave it waiting.
  const fail = (e: Error) => out.destroy(e);
  source.on("error", fail);
  out.once("close", () => {
    if (!source.destroyed) drop();
  });
  return source.pipe(out);
}

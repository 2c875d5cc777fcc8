import type { Readable } from "node:stream";

/** One entry of a directory listing, as MLflow's artifact APIs return it. */
export interface ArtifactEntry {
  /** Path relative to the listed root (the MLflow proxy answers basenames; the tracking API full relative paths). */
  path: string;
  is_dir: boolean;
  /** Bytes; files only. */
  file_size?: number;
}

export interface ArtifactStat {
  size: number;
  /** Epoch ms. */
  modified: number;
}

/** An inclusive byte range, already checked against the object's size. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface ArtifactRead {
  stream: Readable;
  /** Size of the whole object (not of the range). */
  size: number;
}

export interface UploadPart {
  partNumber: number;
  size: number;
  etag: string;
}

/**
 * Where artifact bytes live. Every `path` here is relative to the store's root and has ALREADY passed
 * `checkArtifactPath` (safe-path.ts): implementations never see user input that was not checked.
 * Writes are atomic and durable: a reader sees the old object or the whole new one, never a torn one,
 * and `put` resolves only once the bytes are on stable storage.
 */
export interface ArtifactStore {
  /** "file:///abs/root" or "s3://bucket/prefix": shown in logs and `keel server` output. */
  describe(): string;
  /** Streams `body` into `path`, replacing any object there. Resolves with the bytes written. */
  put(path: string, body: Readable): Promise<{ size: number }>;
  /** Undefined when there is no object (or it is a directory). */
  stat(path: string): Promise<ArtifactStat | undefined>;
  /** Streams the object (or the range of it). Throws RESOURCE_DOES_NOT_EXIST when absent. */
  get(path: string, range?: ByteRange): Promise<ArtifactRead>;
  /** Immediate children of the directory `dir` ("" = root), sorted by path; [] when it does not exist. */
  list(dir: string): Promise<ArtifactEntry[]>;
  /** Removes the object or the whole directory tree at `path`; resolves with how many objects went. */
  delete(path: string): Promise<number>;

  /**
   * Multipart uploads: parts arrive in any order, may be re-sent (last wins), and survive a server restart.
   * Completing with [] uses every uploaded part; a never-uploaded part or a wrong etag is
   * INVALID_PARAMETER_VALUE; after complete or abort the upload id is RESOURCE_DOES_NOT_EXIST.
   * A caller that does not read a `get` stream to the end must destroy it (it may hold a connection).
   */
  createUpload(path: string): Promise<string>;
  /** `size` (the request's Content-Length) lets S3 stream the part instead of staging it; the body must match it. */
  uploadPart(path: string, uploadId: string, partNumber: number, body: Readable, size?: number): Promise<UploadPart>;
  listParts(path: string, uploadId: string): Promise<UploadPart[]>;
  completeUpload(path: string, uploadId: string, parts: { partNumber: number; etag?: string }[]): Promise<{ size: number }>;
  abortUpload(path: string, uploadId: string): Promise<void>;
}

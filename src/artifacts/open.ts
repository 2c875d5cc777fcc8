import { isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { ArtifactStore } from "./store.js";
import { createFsArtifactStore } from "./store-fs.js";

export interface ArtifactStoreConfig {
  /** A directory, file:///abs/dir, or s3://bucket/prefix; undefined = <dataDir>/artifacts. */
  artifacts?: string;
  dataDir: string;
  s3Endpoint?: string;
}

/** Opens the configured artifact store (the server and `keel gc` share this). */
export async function openArtifactStore(cfg: ArtifactStoreConfig): Promise<ArtifactStore> {
  const uri = cfg.artifacts;
  const uploadsDir = join(cfg.dataDir, "artifact-uploads");
  if (!uri) return createFsArtifactStore({ root: join(cfg.dataDir, "artifacts"), uploadsDir });
  if (uri.startsWith("s3://")) {
    const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
    if (!m || m[1].length < 3) throw new Error(`Invalid --artifacts '${uri}': use s3://bucket/optional/prefix.`);
    // Loaded on demand: the AWS SDK is large and most servers use the filesystem.
    const { createS3ArtifactStore } = await import("./store-s3.js");
    return createS3ArtifactStore({
      bucket: m[1],
      prefix: m[2].replace(/\/+$/, ""),
      endpoint: cfg.s3Endpoint ?? process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL,
      forcePathStyle: Boolean(cfg.s3Endpoint ?? process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL),
    });
  }
  if (uri.startsWith("file://")) return createFsArtifactStore({ root: fileURLToPath(uri), uploadsDir });
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(uri)) throw new Error(`Unsupported --artifacts '${uri}': use a directory, file:///abs/dir or s3://bucket/prefix.`);
  return createFsArtifactStore({ root: isAbsolute(uri) ? uri : resolve(uri), uploadsDir });
}

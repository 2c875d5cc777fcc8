import type { Readable } from "node:stream";
import { invalidParam, notFound } from "../core/errors.js";
import type { TrackingService } from "../tracking/service.js";
import { checkArtifactPath, joinArtifactPath, proxiedArtifactPath, resolveArtifactUri } from "./safe-path.js";
import type { ArtifactEntry, ArtifactRead, ArtifactStore, ByteRange, UploadPart } from "./store.js";

export interface ArtifactServiceDeps {
  store: ArtifactStore;
  tracking: Pick<TrackingService, "getRun">;
}

const RUN_ID = /^[0-9a-f]{32}$/;

/**
 * The rules for artifact bytes. Every path is checked by safe-path.ts first; then it must lie inside a
 * run's own artifact root (`<experiment_id>/<run_id>/artifacts`), the run must exist in that experiment,
 * and writes need a run that is not deleted. So one run's artifacts can never be reached through another
 * run's name, and later permission checks map every path to exactly one experiment.
 */
export function createArtifactService({ store, tracking }: ArtifactServiceDeps) {
  /** The store-relative artifact root of a run served by this server, or a 4xx. */
  async function runRoot(runId: string, forWrite = false): Promise<string> {
    if (!RUN_ID.test(runId)) throw notFound(`Run '${runId.slice(0, 80)}' not found.`);
    const run = await tracking.getRun(runId);
    if (forWrite && run.info.lifecycle_stage !== "active") throw invalidParam(`Run '${runId}' is deleted; restore it before writing artifacts.`);
    const root = proxiedArtifactPath(run.info.artifact_uri, "artifact_uri");
    if (root === undefined) {
      throw invalidParam(`Run '${runId}' keeps its artifacts at '${run.info.artifact_uri}', which this server does not serve; read them from there directly.`);
    }
    // A run's root is never the whole store.
    return checkArtifactPath(root, "artifact_uri");
  }

  /** A proxy path (`<exp>/<run>/artifacts/…`): checked, and owned by the run it names. */
  async function proxyPath(raw: unknown, opts: { forWrite?: boolean; allowRoot?: boolean } = {}): Promise<string> {
    const path = checkArtifactPath(raw, "path", opts.allowRoot);
    const [exp, run, artifacts] = path.split("/");
    if (!exp || !RUN_ID.test(run ?? "") || artifacts !== "artifacts" || !/^\d+$/.test(exp)) {
      throw invalidParam(`Artifact path '${path.slice(0, 200)}' is outside any run: proxied paths are <experiment_id>/<run_id>/artifacts/<path>.`);
    }
    const root = await runRoot(run, opts.forWrite);
    if (root !== `${exp}/${run}/artifacts`) throw notFound(`Run '${run}' does not belong to experiment '${exp}'.`);
    return path;
  }

  return {
    proxyPath,
    runRoot,

    /** A model version's source or a run URI → store path (model-versions/get-artifact, registry checks). */
    resolveUri: (uri: unknown, field: string) => resolveArtifactUri(uri, field, (runId) => runRoot(runId)),

    async put(rawPath: unknown, body: Readable): Promise<{ size: number }> {
      return store.put(await proxyPath(rawPath, { forWrite: true }), body);
    },

    async read(path: string, range?: (size: number) => ByteRange | undefined): Promise<ArtifactRead & { range?: ByteRange }> {
      const st = await store.stat(path);
      if (!st) throw notFound(`No artifact at '${path}'.`);
      const r = range?.(st.size);
      return { ...(await store.get(path, r)), range: r };
    },

    async list(path: string): Promise<ArtifactEntry[]> {
      return store.list(path);
    },

    async delete(rawPath: unknown): Promise<number> {
      const path = await proxyPath(rawPath, { forWrite: true });
      const n = await store.delete(path);
      if (!n) throw notFound(`No artifact at '${path}'.`);
      return n;
    },

    /** tracking's artifacts/list: paths relative to the run's artifact root. */
    async listRun(runId: string, rawPath: unknown): Promise<{ root: string; files: ArtifactEntry[] }> {
      const root = await runRoot(runId);
      const rel = checkArtifactPath(rawPath, "path", true);
      const files = await store.list(joinArtifactPath(root, rel));
      return { root, files: files.map((f) => ({ ...f, path: f.path.slice(root.length + 1) })) };
    },

    async putRunFile(runId: string, rawPath: unknown, body: Readable): Promise<{ size: number }> {
      const path = joinArtifactPath(await runRoot(runId, true), checkArtifactPath(rawPath, "path"));
      return store.put(path, body);
    },

    async runFile(runId: string, rawPath: unknown): Promise<string> {
      return joinArtifactPath(await runRoot(runId), checkArtifactPath(rawPath, "path"));
    },

    async createUpload(rawPath: unknown): Promise<{ path: string; uploadId: string }> {
      const path = await proxyPath(rawPath, { forWrite: true });
      return { path, uploadId: await store.createUpload(path) };
    },
    async uploadPart(rawPath: unknown, uploadId: string, partNumber: number, body: Readable, size?: number): Promise<UploadPart> {
      return store.uploadPart(await proxyPath(rawPath, { forWrite: true }), uploadId, partNumber, body, size);
    },
    async listParts(rawPath: unknown, uploadId: string): Promise<UploadPart[]> {
      return store.listParts(await proxyPath(rawPath), uploadId);
    },
    async completeUpload(rawPath: unknown, uploadId: string, parts: { partNumber: number; etag?: string }[]): Promise<{ size: number }> {
      return store.completeUpload(await proxyPath(rawPath, { forWrite: true }), uploadId, parts);
    },
    async abortUpload(rawPath: unknown, uploadId: string): Promise<void> {
      await store.abortUpload(await proxyPath(rawPath, { forWrite: true }), uploadId);
    },
  };
}

export type ArtifactService = ReturnType<typeof createArtifactService>;

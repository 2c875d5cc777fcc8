import type { Visibility } from "../core/visibility.js";
import { resolveArtifactUri } from "../artifacts/safe-path.js";
import { invalidParam, isKeelError } from "../core/errors.js";
import type { TrackingService } from "../tracking/index.js";
import { aliasNotFound, modelNotFound, versionNotFound } from "./errors.js";
import type { EventFeed } from "./events.js";
import { createLineage, type LineageTracking } from "./lineage.js";
import { captureSignature, type ModelFiles, type ModelSignature } from "./model-signature.js";
import { ACTIVE_STAGES, type ModelVersion, type RegisteredModel, type RegistryEvent, STAGES, type Tag } from "./schema.js";
import { parseModelFilter, parseModelOrderBy, parseVersionFilter, parseVersionOrderBy } from "./search-filter.js";
import type { SignatureStore } from "./signature-store.js";
import type { RegistryStore, SearchPage } from "./store.js";
import { boundedFilter, LIMITS, parseStage } from "./validation.js";

export interface RegistryServiceDeps {
  store: RegistryStore;
  /** Runs are read through tracking's public interface: a version's source must lie in its run's artifacts; lineage reads runs and datasets. */
  tracking: Pick<TrackingService, "getRun"> & LineageTracking;
  feed: EventFeed;
  /** Signatures captured at registration. */
  signatures: SignatureStore;
  /** The model files a signature is read from (the artifact service); without it, versions record no signature. */
  files?: ModelFiles;
  now?: () => number;
}

export interface NewVersionInput {
  name: string;
  source: string;
  /** "" when not given. */
  runId: string;
  runLink: string;
  description: string;
  tags: Tag[];
}

export interface SearchInput {
  filter?: string;
  orderBy: string[];
  offset: number;
  limit: number;
  visible?: Visibility;
}

/** The rules of the model registry. Routes parse and shape; this decides. */
export function createRegistryService({ store, tracking, feed, signatures, files, now = Date.now }: RegistryServiceDeps) {
  /** Every write wakes the event waiters once it has committed. */
  async function committed<T>(write: Promise<T>): Promise<T> {
    const out = await write;
    feed.notify();
    return out;
  }

  /** The artifact-store path a run keeps its artifacts under (`<experiment>/<run>/artifacts`). */
  async function runArtifactRoot(runId: string): Promise<string> {
    const run = await tracking.getRun(runId);
    const uri = run.info.artifact_uri;
    try {
      return await resolveArtifactUri(uri, "artifact_uri", () => Promise.reject(invalidParam("nested runs:/ URI")));
    } catch (err) {
      if (!isKeelError(err)) throw err;
      throw invalidParam(`Run ${runId} keeps its artifacts at '${uri}', outside this server's artifact store, so its models cannot be registered here.`);
    }
  }

  /**
   * A version's source must name artifacts this server stores: `runs:/<run_id>/<path>` or
   * `mlflow-artifacts:/<path>`. With a run_id it must lie inside that run's artifacts, so a version
   * cannot claim another run's model as its own.
   */
  async function resolveSource(source: string, runId: string): Promise<string> {
    const path = await resolveArtifactUri(source, "source", runArtifactRoot);
    if (path === "") throw invalidParam(`Invalid source '${source}': name a model directory inside the artifact store, not its root.`);
    if (runId) {
      const root = await runArtifactRoot(runId);
      if (path !== root && !path.startsWith(`${root}/`)) {
        throw invalidParam(
          `Invalid source '${source}': it is not inside the artifacts of run ${runId} (mlflow-artifacts:/${root}). Register the run's own model, or leave out run_id.`,
        );
      }
    }
    return path;
  }

  async function modelOrThrow(name: string): Promise<RegisteredModel> {
    const m = await store.getModel(name);
    if (!m) throw modelNotFound(name);
    return m;
  }

  async function versionOrThrow(name: string, version: number): Promise<ModelVersion> {
    const v = await store.getVersion(name, version);
    if (!v) throw versionNotFound(name, version);
    return v;
  }

  /** Records a captured signature; a failure here never fails the registration (the signature is read again when asked for). */
  async function recordSignature(name: string, version: number, signature: ModelSignature): Promise<void> {
    try {
      await signatures.put(name, version, signature, now());
    } catch {
      // The version exists and is READY; `signature` below captures again when no row was recorded.
    }
  }

  const lineage = createLineage({ store, tracking });

  return {
    createModel: (name: string, description: string, tags: Tag[]): Promise<RegisteredModel> => committed(store.createModel(name, description, tags, now())),

    getModel: modelOrThrow,

    renameModel: (name: string, newName: string): Promise<RegisteredModel> =>
      newName === name ? modelOrThrow(name) : committed(store.renameModel(name, newName, now())),

    updateModel: (name: string, description: string): Promise<RegisteredModel> => store.updateModel(name, description, now()),
    deleteModel: (name: string): Promise<void> => committed(store.deleteModel(name, now())),

    modelId: (name: string): Promise<number | undefined> => store.modelId(name),

    searchModels(q: SearchInput): Promise<SearchPage<RegisteredModel>> {
      const filter = boundedFilter(q.filter, parseModelFilter);
      return store.searchModels({ filter, orderBy: parseModelOrderBy(q.orderBy), offset: q.offset, limit: q.limit, visible: q.visible });
    },

    setModelTag: (name: string, tag: Tag): Promise<void> => store.setModelTag(name, tag),
    deleteModelTag: (name: string, key: string): Promise<void> => store.deleteModelTag(name, key),

    /** The newest version in each stage asked for (every stage when none is), as MLflow answers. */
    latestVersions(name: string, stages: string[]): Promise<ModelVersion[]> {
      return store.latestVersions(name, stages.length ? [...new Set(stages.map(parseStage))] : STAGES);
    },

    async createVersion(input: NewVersionInput): Promise<ModelVersion> {
      const storagePath = await resolveSource(input.source, input.runId);
      // Read before the version exists, so it is never seen without its signature; capture never throws.
      const signature = await captureSignature(files, storagePath);
      const created = await committed(store.createVersion({ ...input, storagePath }, now()));
      await recordSignature(created.name, Number(created.version), signature);
      return created;
    },

    getVersion: versionOrThrow,

    /** The signature captured when the version was registered (captured now for a version that has none recorded). */
    async signature(name: string, version: number): Promise<ModelSignature & { name: string; version: string; captured_timestamp: number }> {
      await modelOrThrow(name);
      let stored = await signatures.get(name, version);
      if (!stored) {
        const path = await store.versionStoragePath(name, version);
        if (path === undefined) throw versionNotFound(name, version);
        const signature = await captureSignature(files, path);
        await recordSignature(name, version, signature);
        stored = (await signatures.get(name, version)) ?? { signature, captured: now() };
      }
      return { name, version: String(version), captured_timestamp: stored.captured, ...stored.signature };
    },

    /** Lineage: a version's run and datasets, a run's datasets and versions, a dataset's runs and versions. */
    versionLineage: lineage.ofVersion,
    runLineage: lineage.ofRun,
    datasetLineage: lineage.ofDataset,
    updateVersion: (name: string, version: number, description: string): Promise<ModelVersion> => store.updateVersion(name, version, description, now()),
    deleteVersion: (name: string, version: number): Promise<void> => committed(store.deleteVersion(name, version, now())),

    transitionStage(name: string, version: number, stage: string, archiveExisting: boolean): Promise<ModelVersion> {
      const target = parseStage(stage);
      if (archiveExisting && !ACTIVE_STAGES.includes(target)) {
        throw invalidParam(
          `Model version transition cannot archive existing model versions because '${target}' is not an Active stage. Valid stages are ${ACTIVE_STAGES.join(", ")}.`,
        );
      }
      return committed(store.transitionStage(name, version, target, archiveExisting, now()));
    },

    searchVersions(q: SearchInput): Promise<SearchPage<ModelVersion>> {
      const filter = boundedFilter(q.filter, parseVersionFilter);
      return store.searchVersions({ filter, orderBy: parseVersionOrderBy(q.orderBy), offset: q.offset, limit: q.limit, visible: q.visible });
    },

    setVersionTag: (name: string, version: number, tag: Tag): Promise<void> => store.setVersionTag(name, version, tag),
    deleteVersionTag: (name: string, version: number, key: string): Promise<void> => store.deleteVersionTag(name, version, key),

    /** MLflow does not copy model files: a version downloads from where it was registered. */
    async downloadUri(name: string, version: number): Promise<string> {
      return (await versionOrThrow(name, version)).source;
    },

    /**
     * Where the version's files are in the artifact store (a path already checked by safe-path.ts), for
     * serving and for downloads through this server; what get-download-uri answers is the source as given.
     */
    async artifactPath(name: string, version: number): Promise<string> {
      const path = await store.versionStoragePath(name, version);
      if (path === undefined) throw versionNotFound(name, version);
      return path;
    },

    setAlias: (name: string, alias: string, version: number): Promise<void> => committed(store.setAlias(name, alias, version, now())),
    deleteAlias: (name: string, alias: string): Promise<void> => committed(store.deleteAlias(name, alias, now())),

    async versionByAlias(name: string, alias: string): Promise<ModelVersion> {
      const v = await store.versionByAlias(name, alias);
      if (!v) throw aliasNotFound(name, alias);
      return v;
    },

    /** Registry changes after `after`, oldest first; waits up to `waitMs` (at most 30 s) for one when there are none. */
    events(after: number, limit: number, waitMs: number, signal?: AbortSignal): Promise<RegistryEvent[]> {
      return feed.wait(after, Math.min(limit, LIMITS.eventsPerRead), Math.min(waitMs, LIMITS.eventWaitMs), signal);
    },

    /** Local commits (for publishing to other processes); see EventFeed. */
    onLocalCommit: (l: () => void): (() => void) => feed.onLocalCommit(l),
    /** Every new event, local or announced by another process. */
    onChange: (l: () => void): (() => void) => feed.onChange(l),
    /** Another process committed registry events (Redis pub/sub). */
    notifyRemote: (): void => feed.notifyRemote(),

    /** The newest event's sequence number (0 when there are none). */
    lastEventSeq: (): Promise<number> => store.lastEventSeq(),

    /** Readers waiting for events now. */
    eventWaiters: (): number => feed.waiting(),

    /** Ends waiting readers (the server is closing). */
    close: (): void => feed.close(),
  };
}

export type RegistryService = ReturnType<typeof createRegistryService>;

import type { Comparison, OrderBy } from "../core/search-grammar.js";
import type { Visibility } from "../core/visibility.js";
import type { ModelVersion, RegisteredModel, RegistryEvent, Stage, Tag } from "./schema.js";

export interface SearchPage<T> {
  items: T[];
  /** Offset of the next page, or undefined on the last page. */
  nextOffset?: number;
}

export interface SearchQuery {
  filter: Comparison[];
  orderBy: OrderBy[];
  offset: number;
  limit: number;
  /** Only models the caller may read (core/visibility.ts). */
  visible?: Visibility;
}

export interface NewVersion {
  name: string;
  source: string;
  /** The artifact-store path `source` resolved to. */
  storagePath: string;
  runId: string;
  runLink: string;
  description: string;
  tags: Tag[];
}

/**
 * Every registry operation named once, as MLflow's abstract registry store does. A write that changes
 * more than one row runs in one transaction that first locks the model's row (concurrent writes to one
 * model take turns, so version numbers never collide) and last appends its registry_events, so the feed
 * holds exactly the committed changes, in commit order. The store throws RESOURCE_DOES_NOT_EXIST /
 * RESOURCE_ALREADY_EXISTS itself where only the transaction can tell; input rules are the service's.
 */
export interface RegistryStore {
  createModel(name: string, description: string, tags: Tag[], now: number): Promise<RegisteredModel>;
  getModel(name: string): Promise<RegisteredModel | undefined>;
  /** The model's stable id (permissions hang on it, so they survive a rename). */
  modelId(name: string): Promise<number | undefined>;
  /** Also stamps every version's last_updated_timestamp, as MLflow does (the name is part of each version). */
  renameModel(name: string, newName: string, now: number): Promise<RegisteredModel>;
  updateModel(name: string, description: string, now: number): Promise<RegisteredModel>;
  deleteModel(name: string, now: number): Promise<void>;
  searchModels(q: SearchQuery): Promise<SearchPage<RegisteredModel>>;
  setModelTag(name: string, tag: Tag): Promise<void>;
  deleteModelTag(name: string, key: string): Promise<void>;
  /** The newest version in each of `stages`, with aliases. */
  latestVersions(name: string, stages: readonly Stage[]): Promise<ModelVersion[]>;

  /** Numbers the version one past the highest ever issued for the model; it is READY at once. */
  createVersion(v: NewVersion, now: number): Promise<ModelVersion>;
  getVersion(name: string, version: number): Promise<ModelVersion | undefined>;
  /** The artifact-store path the version's source resolved to when it was registered. */
  versionStoragePath(name: string, version: number): Promise<string | undefined>;
  updateVersion(name: string, version: number, description: string, now: number): Promise<ModelVersion>;
  /** Removes the version, its tags and the aliases pointing at it. */
  deleteVersion(name: string, version: number, now: number): Promise<void>;
  /** With `archiveExisting`, the model's other versions in `stage` move to Archived in the same transaction. */
  transitionStage(name: string, version: number, stage: Stage, archiveExisting: boolean, now: number): Promise<ModelVersion>;
  searchVersions(q: SearchQuery): Promise<SearchPage<ModelVersion>>;
  setVersionTag(name: string, version: number, tag: Tag): Promise<void>;
  deleteVersionTag(name: string, version: number, key: string): Promise<void>;

  /** Points the alias at the version, moving it if it pointed elsewhere. */
  setAlias(name: string, alias: string, version: number, now: number): Promise<void>;
  deleteAlias(name: string, alias: string, now: number): Promise<void>;
  versionByAlias(name: string, alias: string): Promise<ModelVersion | undefined>;

  /** Events with seq > after, oldest first. */
  events(after: number, limit: number): Promise<RegistryEvent[]>;
  /** The newest event's seq (0 when there is none): a cheap "anything new?" for waiting readers. */
  lastEventSeq(): Promise<number>;
}

import { invalidParam } from "../core/errors.js";
import { RUN_ID_RE } from "../core/ids.js";
import type { Comparison } from "../core/search-grammar.js";
import { checkKeyName, type Message, missing, objectList, optString, preview } from "../core/validate.js";
import { versionNotFound } from "./errors.js";
import { STAGES, type Stage, type Tag } from "./schema.js";

/** MLflow's registry limits (its column sizes), enforced here so both databases answer the same 400. */
export const LIMITS = {
  modelNameLength: 256,
  descriptionLength: 5000,
  tagKeyLength: 250,
  tagValueLength: 5000,
  tagsPerRequest: 100,
  aliasLength: 255,
  runLinkLength: 500,
  searchModelsDefault: 100,
  searchModelsMax: 1000,
  searchVersionsDefault: 10_000,
  searchVersionsMax: 200_000,
  filterLength: 100_000,
  filterClauses: 20,
  inValues: 1000,
  eventsPerRead: 1000,
  /** Longest a reader may wait for events: past this, proxies and clients give up on an idle request. */
  eventWaitMs: 30_000,
} as const;

/** Versions are integer columns: anything past this cannot exist and must not reach the driver. */
const MAX_VERSION = 2_147_483_647;

export function parseModelName(m: Message, field = "name"): string {
  const name = optString(m, field);
  if (name === undefined || name === "") throw invalidParam(`Registered model name cannot be empty: give '${field}'.`);
  if (name.length > LIMITS.modelNameLength) {
    throw invalidParam(`Registered model name '${clip(name)}' had length ${name.length}, which exceeded length limit of ${LIMITS.modelNameLength}.`);
  }
  return name;
}

/**
 * A version number as clients send it ("3" or 3). Not an integer: 400. An integer no version can have
 * (0, negative, past the column's range): the version does not exist, as MLflow answers.
 */
export function parseVersion(m: Message, name: string, field = "version"): number {
  const raw = optString(m, field);
  if (raw === undefined || raw === "") throw missing(field);
  if (!/^-?\d+$/.test(raw.trim())) throw invalidParam(`Model version must be an integer, got '${clip(raw)}'.`);
  const n = Number(raw.trim());
  if (n < 1 || n > MAX_VERSION) throw versionNotFound(name, raw.trim());
  return n;
}

export function parseDescription(m: Message): string {
  const d = optString(m, "description") ?? "";
  if (d.length > LIMITS.descriptionLength) throw invalidParam(`Description had length ${d.length}, which exceeded length limit of ${LIMITS.descriptionLength}.`);
  return d;
}

export function parseTag(m: Message): Tag {
  const key = checkKeyName("tag", m.key, LIMITS.tagKeyLength);
  const raw = m.value;
  if (raw !== undefined && raw !== null && typeof raw !== "string" && typeof raw !== "number" && typeof raw !== "boolean") {
    throw invalidParam(`Invalid value ${preview(raw)} for tag '${key}': expected a string.`);
  }
  const value = raw === undefined || raw === null ? "" : String(raw);
  if (value.length > LIMITS.tagValueLength) {
    throw invalidParam(`Tag value for '${key}' had length ${value.length}, which exceeded length limit of ${LIMITS.tagValueLength}.`);
  }
  return { key, value };
}

export function parseTags(m: Message): Tag[] {
  const list = objectList(m, "tags");
  if (list.length > LIMITS.tagsPerRequest) throw invalidParam(`At most ${LIMITS.tagsPerRequest} tags per request; got ${list.length}.`);
  return list.map(parseTag);
}

export function parseTagKey(m: Message): string {
  return checkKeyName("tag", m.key, LIMITS.tagKeyLength);
}

/** MLflow's stage names, matched case-insensitively ("production" → "Production"). */
export function parseStage(raw: string): Stage {
  const stage = STAGES.find((s) => s.toLowerCase() === raw.toLowerCase());
  if (!stage) throw invalidParam(`Invalid Model Version stage: ${clip(raw)}. Value must be one of ${STAGES.join(", ")}.`);
  return stage;
}

/** MLflow's alias rules: word characters and dashes, at most 255, not `latest` and not `v<digits>` (those name versions). */
export function parseAlias(m: Message): string {
  const alias = optString(m, "alias");
  if (alias === undefined || alias === "") throw invalidParam("Registered model alias name cannot be empty: give 'alias'.");
  if (!/^[\w-]*$/.test(alias)) {
    throw invalidParam(`Invalid alias name: '${clip(alias)}'. Names may only contain alphanumerics, underscores (_), and dashes (-).`);
  }
  if (alias.length > LIMITS.aliasLength) throw invalidParam(`Alias name had length ${alias.length}, which exceeded length limit of ${LIMITS.aliasLength}.`);
  if (alias.toLowerCase() === "latest") throw invalidParam("'latest' alias name (case insensitive) is reserved: it always means the newest version.");
  if (/^[vV]\d+$/.test(alias)) throw invalidParam(`Version alias name '${alias}' is reserved: v<number> names that version.`);
  return alias;
}

export function parseRunLink(m: Message): string {
  const link = optString(m, "run_link") ?? "";
  if (link.length > LIMITS.runLinkLength) throw invalidParam(`run_link had length ${link.length}, which exceeded length limit of ${LIMITS.runLinkLength}.`);
  return link;
}

export function parseRunId(m: Message): string {
  const id = optString(m, "run_id") ?? "";
  if (id !== "" && !RUN_ID_RE.test(id)) throw invalidParam(`Invalid run_id '${clip(id)}': run ids are 32 lowercase hexadecimal characters.`);
  return id;
}

/**
 * A search filter parsed, within what one registry search may ask of the database: a bounded filter,
 * bounded IN lists, and version numbers compared with integers in the column's range (Postgres fails a
 * query comparing an integer column with 1.5 or 99999999999 instead of answering it).
 */
export function boundedFilter(filter: string | undefined, parse: (f: string | undefined) => Comparison[]): Comparison[] {
  if (filter && filter.length > LIMITS.filterLength) {
    throw invalidParam(`The filter is ${filter.length} characters long; the limit is ${LIMITS.filterLength}. Split the search into several.`);
  }
  const parsed = parse(filter);
  if (parsed.length > LIMITS.filterClauses) {
    throw invalidParam(`The filter has ${parsed.length} comparisons; the limit is ${LIMITS.filterClauses}. Split the search into several.`);
  }
  for (const c of parsed) {
    if (Array.isArray(c.value) && c.value.length > LIMITS.inValues) {
      throw invalidParam(`An IN list holds at most ${LIMITS.inValues} values; got ${c.value.length}. Split the search into several.`);
    }
    const isVersion = c.type === "attribute" && c.key === "version_number";
    if (isVersion && (typeof c.value !== "number" || !Number.isInteger(c.value) || Math.abs(c.value) > MAX_VERSION)) {
      throw invalidParam(`version_number must be compared with a whole number (at most ${MAX_VERSION}); got ${preview(c.value)}.`);
    }
  }
  return parsed;
}

export function clip(s: string): string {
  return s.length > 100 ? `${s.slice(0, 100)}…` : s;
}

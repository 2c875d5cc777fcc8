import { invalidParam } from "../core/errors.js";
import { checkKeyName, type Message, missing, objectList, optInt, optString, preview } from "../core/validate.js";
import type { DatasetInput, KeyValue, Metric, ViewType } from "./schema.js";
import type { Comparison } from "./search-filter.js";

/** MLflow's server-side limits (the newer, more permissive value where versions differ). */
export const LIMITS = {
  keyLength: 250,
  paramValueLength: 6000,
  tagValueLength: 8000,
  batchMetrics: 1000,
  batchParams: 100,
  batchTags: 100,
  batchTotal: 1000,
  searchMaxResults: 50000,
  runNameLength: 250,
  experimentNameLength: 500,
  datasetInputs: 1000,
  searchExperimentIds: 5000,
  filterLength: 200_000,
  /**
   * Comparisons in one search filter. SQLite refuses expressions nested deeper than 1000; Postgres plans
   * each comparison as a semi-join and its planning time grows fast (measured ~0.1 s at 10, ~1.5 s at 50).
   */
  filterClauses: 20,
  /** order_by terms in one search (each metric/param/tag term is a join; SQLite allows at most 64 tables in one). */
  orderByTerms: 20,
  datasetNameLength: 500,
  datasetDigestLength: 36,
} as const;

/**
 * Keys already found valid. A batch repeats a handful of keys a thousand times; checking each once saves
 * a regex and a split per point on the ingest path. Bounded: cleared when full.
 */
const validKeys = new Set<string>();

/** A metric/param/tag key: MLflow's character set, a normalised relative path, at most 250 characters. */
export function validateKey(kind: "metric" | "param" | "tag", key: unknown): string {
  if (typeof key === "string" && validKeys.has(key)) return key;
  checkKeyName(kind, key, LIMITS.keyLength);
  if (validKeys.size >= 10_000) validKeys.clear();
  validKeys.add(key as string);
  return key as string;
}

function stringValue(kind: "param" | "tag", raw: unknown, max: number, key: string): string {
  if (raw === undefined || raw === null) return "";
  if (typeof raw !== "string" && typeof raw !== "number" && typeof raw !== "boolean") {
    throw invalidParam(`Invalid value ${preview(raw)} for ${kind} '${key}': expected a string.`);
  }
  const value = String(raw);
  if (value.length > max) throw invalidParam(`${cap(kind)} value '${clip(value)}' had length ${value.length}, which exceeded length limit of ${max}`);
  return value;
}

export function parseParam(m: Message): KeyValue {
  const key = validateKey("param", m.key);
  return { key, value: stringValue("param", m.value, LIMITS.paramValueLength, key) };
}

export function parseTag(m: Message): KeyValue {
  const key = validateKey("tag", m.key);
  return { key, value: stringValue("tag", m.value, LIMITS.tagValueLength, key) };
}

/** Metric values are doubles; NaN and ±Infinity arrive as strings. */
export function parseMetricValue(raw: unknown, key: string): number {
  if (typeof raw === "number") return raw;
  if (typeof raw === "string") {
    const t = raw.trim();
    if (t === "NaN" || t === "nan") return Number.NaN;
    if (t === "Infinity" || t === "inf" || t === "+Infinity") return Number.POSITIVE_INFINITY;
    if (t === "-Infinity" || t === "-inf") return Number.NEGATIVE_INFINITY;
    if (t !== "" && Number.isFinite(Number(t))) return Number(t);
  }
  if (raw === undefined || raw === null) throw missing("value");
  throw invalidParam(`Got invalid value ${preview(raw)} for metric '${key}' (timestamp=…). Please specify a value that can be converted to a double.`);
}

export function parseMetric(m: Message): Metric {
  const key = validateKey("metric", m.key);
  const value = parseMetricValue(m.value, key);
  const timestamp = optInt(m, "timestamp");
  if (timestamp === undefined) throw invalidParam(`Missing value for required parameter 'timestamp' of metric '${key}'.`);
  const step = optInt(m, "step") ?? 0;
  return { key, value, timestamp, step };
}

export function parseBatch(msg: Message): { metrics: Metric[]; params: KeyValue[]; tags: KeyValue[] } {
  const metricsRaw = objectList(msg, "metrics");
  const paramsRaw = objectList(msg, "params");
  const tagsRaw = objectList(msg, "tags");
  if (metricsRaw.length > LIMITS.batchMetrics) {
    throw invalidParam(`A batch logging request can contain at most ${LIMITS.batchMetrics} metrics. Got ${metricsRaw.length} metrics. Please split up metrics across multiple requests and try again.`);
  }
  if (paramsRaw.length > LIMITS.batchParams) {
    throw invalidParam(`A batch logging request can contain at most ${LIMITS.batchParams} params. Got ${paramsRaw.length} params. Please split up params across multiple requests and try again.`);
  }
  if (tagsRaw.length > LIMITS.batchTags) {
    throw invalidParam(`A batch logging request can contain at most ${LIMITS.batchTags} tags. Got ${tagsRaw.length} tags. Please split up tags across multiple requests and try again.`);
  }
  const total = metricsRaw.length + paramsRaw.length + tagsRaw.length;
  if (total > LIMITS.batchTotal) {
    throw invalidParam(`A batch logging request can contain at most ${LIMITS.batchTotal} total metrics, params and tags. Got ${total}. Please split the batch and try again.`);
  }
  return { metrics: metricsRaw.map(parseMetric), params: paramsRaw.map(parseParam), tags: tagsRaw.map(parseTag) };
}

export function parseViewType(raw: unknown, field: string): ViewType {
  if (raw === undefined || raw === null || raw === "") return "ACTIVE_ONLY";
  // A query string repeats keys as a list; only a scalar names a view type (String() of a deeply nested list would overflow the stack).
  const scalar: unknown = Array.isArray(raw) ? raw[0] : raw;
  const v = typeof scalar === "string" || typeof scalar === "number" ? String(scalar).toUpperCase() : "";
  if (v === "ACTIVE_ONLY" || v === "1") return "ACTIVE_ONLY";
  if (v === "DELETED_ONLY" || v === "2") return "DELETED_ONLY";
  if (v === "ALL" || v === "3") return "ALL";
  throw invalidParam(`Invalid value ${preview(raw)} for parameter '${field}': use ACTIVE_ONLY, DELETED_ONLY or ALL.`);
}

const INTEGER_ATTRIBUTES: ReadonlySet<string> = new Set(["start_time", "end_time", "creation_time", "last_update_time"]);

/**
 * What one search may ask of the database, checked on its parsed filter: a bounded number of comparisons
 * and sort terms, and integer columns compared with integers only (Postgres fails a query that compares
 * a bigint column with 1.5 or 1e999).
 */
export function checkSearchBounds(filter: Comparison[], orderBy: string[]): void {
  if (filter.length > LIMITS.filterClauses) {
    throw invalidParam(`The filter has ${filter.length} comparisons; the limit is ${LIMITS.filterClauses}. Split the search into several.`);
  }
  if (orderBy.length > LIMITS.orderByTerms) throw invalidParam(`order_by has ${orderBy.length} terms; the limit is ${LIMITS.orderByTerms}.`);
  for (const c of filter) {
    if (c.type === "attribute" && INTEGER_ATTRIBUTES.has(c.key) && !Number.isSafeInteger(c.value)) {
      throw invalidParam(`attributes.${c.key} must be compared with an integer number of epoch milliseconds; got ${preview(c.value)}.`);
    }
  }
}

/** Experiment ids are numeric strings; anything else cannot name an experiment. */
export function isExperimentId(id: string): boolean {
  // Also within a 32-bit integer column on Postgres: a larger id cannot exist, and must not reach the driver.
  return /^\d{1,10}$/.test(id) && Number(id) <= 2_147_483_647;
}

export function parseDatasetInputs(msg: Message): DatasetInput[] {
  if (msg.datasets === undefined || msg.datasets === null) throw missing("datasets");
  const list = objectList(msg, "datasets");
  if (list.length > LIMITS.datasetInputs) throw invalidParam(`At most ${LIMITS.datasetInputs} dataset inputs may be logged per request; got ${list.length}.`);
  return list.map((item, i) => {
    const d = item.dataset;
    if (d === null || typeof d !== "object" || Array.isArray(d)) throw invalidParam(`Missing value for required parameter 'datasets[${i}].dataset'.`);
    const ds = d as Message;
    const req = (f: string, limit: number) => {
      const v = optString(ds, f);
      if (v === undefined || v === "") throw invalidParam(`Missing value for required parameter 'datasets[${i}].dataset.${f}'.`);
      if (v.length > limit) throw invalidParam(`'datasets[${i}].dataset.${f}' is ${v.length} characters long; the limit is ${limit}.`);
      return v;
    };
    // MLflow's limits: name 500 and digest 36 (they also form a unique index, which Postgres caps at ~2700 bytes a row).
    const dataset: DatasetInput["dataset"] = {
      name: req("name", LIMITS.datasetNameLength),
      digest: req("digest", LIMITS.datasetDigestLength),
      source_type: req("source_type", 65535),
      source: req("source", 65535),
    };
    for (const f of ["schema", "profile"] as const) {
      const v = optString(ds, f);
      if (v !== undefined) {
        if (v.length > 1048576) throw invalidParam(`'datasets[${i}].dataset.${f}' exceeds 1 MiB.`);
        dataset[f] = v;
      }
    }
    const tags = objectList(item, "tags").map((t) => {
      const key = optString(t, "key");
      if (!key) throw invalidParam(`Missing value for required parameter 'datasets[${i}].tags.key'.`);
      if (key.length > LIMITS.keyLength) throw invalidParam(`Input tag key '${clip(key)}' exceeds ${LIMITS.keyLength} characters.`);
      const value = optString(t, "value") ?? "";
      if (value.length > 500) throw invalidParam(`Input tag value for '${key}' exceeds 500 characters.`);
      return { key, value };
    });
    return tags.length ? { dataset, tags } : { dataset };
  });
}

function clip(s: string): string {
  return s.length > 60 ? `${s.slice(0, 60)}…` : s;
}

function cap(s: string): string {
  return s[0].toUpperCase() + s.slice(1);
}

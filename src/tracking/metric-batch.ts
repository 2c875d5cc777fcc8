import { invalidParam } from "../core/errors.js";
import type { KeyValue, Metric } from "./schema.js";

/** Rules shared by every logBatch implementation, so SQLite and Postgres answer identically. */

export interface MetricRow {
  key: string;
  step: number;
  timestamp: number;
  value: number;
  is_nan: number;
}

export function toMetricRow(m: Metric): MetricRow {
  const nan = Number.isNaN(m.value);
  return { key: m.key, step: m.step, timestamp: m.timestamp, value: nan ? 0 : m.value, is_nan: nan ? 1 : 0 };
}

/** MLflow's "latest" value of a metric: the greatest (step, timestamp, value), NaN counting as larger than any number. */
export function isNewer(a: MetricRow, b: MetricRow): boolean {
  if (a.step !== b.step) return a.step > b.step;
  if (a.timestamp !== b.timestamp) return a.timestamp > b.timestamp;
  if (a.is_nan !== b.is_nan) return a.is_nan > b.is_nan;
  return a.value > b.value;
}

/** The newest row per key within one batch, keys in the order they first appear. */
export function latestPerKey(rows: MetricRow[]): MetricRow[] {
  const best = new Map<string, MetricRow>();
  for (const r of rows) {
    const cur = best.get(r.key);
    if (!cur || isNewer(r, cur)) best.set(r.key, r);
  }
  return [...best.values()];
}

/**
 * Postgres locks rows in the order a statement writes them: concurrent batches of one run that write the
 * same keys must write them in one order (this one, by code unit) or they can deadlock.
 */
export const byKey = (a: { key: string }, b: { key: string }): number => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

/** Metric rows in primary-key order (see byKey). */
export function byMetricPk(a: MetricRow, b: MetricRow): number {
  return byKey(a, b) || a.step - b.step || a.timestamp - b.timestamp || a.is_nan - b.is_nan || a.value - b.value;
}

/** Params are immutable: a batch may repeat a key only with the same value. */
export function dedupeParams(runId: string, params: KeyValue[]): KeyValue[] {
  const seen = new Map<string, string>();
  for (const p of params) {
    const prev = seen.get(p.key);
    if (prev !== undefined && prev !== p.value) {
      throw invalidParam(
        `Duplicate parameter keys have been submitted: '${p.key}' with values '${prev}' and '${p.value}' for run ID='${runId}'. Log each parameter once per batch.`,
      );
    }
    seen.set(p.key, p.value);
  }
  return [...seen].map(([key, value]) => ({ key, value }));
}

export function paramChanged(runId: string, key: string, oldValue: string, newValue: string): Error {
  return invalidParam(
    `Changing param values is not allowed. Param with key='${key}' was already logged with value='${oldValue}' for run ID='${runId}'. Attempted logging new value '${newValue}'.`,
  );
}

/**
 * The filter box's placeholder: an example in MLflow's search language built from keys (and values) this
 * experiment has, so it reads as something to try here, not a filter on a metric the runs never logged.
 */
import type { KeySets } from "./autocomplete";
import { quoteKey, type RunRow } from "./columns";

const GENERIC = "metrics.accuracy > 0.9 AND params.optimizer = 'adam'";
/** Runs looked at for example values: the first ones loaded are as good as any. */
const SAMPLE = 100;

export function filterExample(keys: KeySets, rows: readonly RunRow[]): string {
  const sample = rows.slice(0, SAMPLE);
  // An accuracy-like metric reads most naturally with "> 0.9"; otherwise any metric, with a value a run has.
  const metric = keys.metrics.find((k) => /acc/i.test(k)) ?? keys.metrics[0];
  const parts: string[] = [];
  if (metric !== undefined) {
    const v = sample.find((r) => Number.isFinite(r.metrics.get(metric)))?.metrics.get(metric);
    parts.push(`metrics.${quoteKey(metric)} > ${v === undefined ? "0.9" : String(Number(v.toPrecision(2)))}`);
  }
  // A param with a short, plain value some run has (a value needing escapes would make a confusing example).
  for (const key of keys.params) {
    const value = sample.find((r) => r.params.has(key))?.params.get(key);
    if (value !== undefined && value !== "" && value.length <= 24 && !/['"\\]/.test(value)) {
      parts.push(`params.${quoteKey(key)} = '${value}'`);
      break;
    }
  }
  return `Filter: ${parts.length ? parts.join(" AND ") : GENERIC}`;
}

import { RawJson } from "../server/mlflow-endpoints.js";
import type { HistoryJsonPage, MetricColumns } from "./store.js";

/** JSON text of a metric value: numbers as numbers; NaN and ±Infinity as MLflow's strings. */
function valueText(v: number): string {
  if (Number.isFinite(v)) return String(v);
  return Number.isNaN(v) ? '"NaN"' : v > 0 ? '"Infinity"' : '"-Infinity"';
}

/** `{"metrics":[…], ...extra}` in MLflow's shape from a page the store wrote or from columns. */
export function historyJson(page: HistoryJsonPage | { columns: MetricColumns }, withRunId: boolean, extra: Record<string, unknown> = {}): RawJson {
  const points = "points" in page ? page.points : pointsJson(page.columns, withRunId);
  let tail = "";
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) tail += `,${JSON.stringify(k)}:${JSON.stringify(v)}`;
  // Proto3 JSON omits an empty repeated field, as MLflow's server does.
  return new RawJson(points ? `{"metrics":[${points}]${tail}}` : `{${tail.slice(1)}}`);
}

/** Points as comma-separated JSON objects, with `run_id` on each when asked (the bulk endpoints). */
function pointsJson(c: MetricColumns, withRunId: boolean): string {
  const head = `{"key":${JSON.stringify(c.key)},"value":`;
  const runTails = c.runIds.map((id) => (withRunId ? `,"run_id":${JSON.stringify(id)}}` : "}"));
  const parts: string[] = [];
  let chunk = "";
  for (let i = 0; i < c.length; i++) {
    chunk += `${i ? "," : ""}${head}${valueText(c.value[i])},"timestamp":${c.timestamp[i]},"step":${c.step[i]}${runTails[c.run[i]]}`;
    // Flatten every few thousand points: one rope of 100k pieces costs more to flatten at the end.
    if ((i & 4095) === 4095) {
      parts.push(chunk);
      chunk = "";
    }
  }
  parts.push(chunk);
  return parts.join("");
}

/**
 * MLflow's interval sampling: at most `n` distinct steps per run, evenly spaced, always keeping the first
 * and last step, and every point logged at a chosen step. Columns are ordered by step within the run.
 */
export function sampleSteps(c: MetricColumns, n: number): MetricColumns {
  const steps: number[] = [];
  for (let i = 0; i < c.length; i++) if (i === 0 || c.step[i] !== c.step[i - 1]) steps.push(c.step[i]);
  if (steps.length <= n) return c;
  const chosen = new Set<number>();
  for (let i = 0; i < n; i++) chosen.add(steps[Math.round((i * (steps.length - 1)) / Math.max(1, n - 1))]);
  const keep: number[] = [];
  for (let i = 0; i < c.length; i++) if (chosen.has(c.step[i])) keep.push(i);
  const pick = <T extends Float64Array | Uint32Array>(a: T, out: T): T => {
    keep.forEach((k, j) => {
      out[j] = a[k];
    });
    return out;
  };
  return {
    key: c.key,
    runIds: c.runIds,
    length: keep.length,
    run: pick(c.run, new Uint32Array(keep.length)),
    step: pick(c.step, new Float64Array(keep.length)),
    timestamp: pick(c.timestamp, new Float64Array(keep.length)),
    value: pick(c.value, new Float64Array(keep.length)),
  };
}

/** Several runs' columns as one (each already ordered), for answers that list runs one after another. */
export function concatColumns(key: string, runIds: string[], parts: MetricColumns[]): MetricColumns {
  const length = parts.reduce((n, p) => n + p.length, 0);
  const out: MetricColumns = { key, runIds, length, run: new Uint32Array(length), step: new Float64Array(length), timestamp: new Float64Array(length), value: new Float64Array(length) };
  let at = 0;
  for (const p of parts) {
    for (let i = 0; i < p.length; i++) out.run[at + i] = runIds.indexOf(p.runIds[p.run[i]]);
    out.step.set(p.step, at);
    out.timestamp.set(p.timestamp, at);
    out.value.set(p.value, at);
    at += p.length;
  }
  return out;
}

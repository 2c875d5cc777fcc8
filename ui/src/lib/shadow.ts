/** The shadow comparison from the prediction log: each mirrored request's largest absolute difference from the answer that was returned. */
import type { PredictionEntry } from "@keel/sdk";

export interface ShadowRow {
  id: number;
  time: number;
  requestId: string;
  shadow: string;
  primary: string;
  version: string;
  latencyMs: number;
  /** A number, "incomparable" (shapes or types differ) or undefined when the shadow failed. */
  diff: number | "incomparable" | undefined;
  error: string | null;
}

export interface ShadowSummary {
  compared: number;
  identical: number;
  differing: number;
  incomparable: number;
  errors: number;
  maxDiff?: number;
  medianDiff?: number;
  p95Diff?: number;
}

export function shadowRows(entries: PredictionEntry[]): ShadowRow[] {
  return entries
    .filter((e) => e.shadow_of)
    .map((e) => {
      const out = e.outputs && !Array.isArray(e.outputs) ? e.outputs : undefined;
      const d = out?.max_abs_diff;
      return {
        id: e.id,
        time: e.time,
        requestId: e.request_id,
        shadow: e.variant,
        primary: e.shadow_of as string,
        version: e.model_version,
        latencyMs: e.latency_ms,
        diff: typeof d === "number" || d === "incomparable" ? d : undefined,
        error: e.error,
      };
    });
}

const nearest = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];

export function summarize(rows: ShadowRow[]): ShadowSummary {
  const diffs = rows.map((r) => r.diff).filter((d): d is number => typeof d === "number").sort((a, b) => a - b);
  return {
    compared: rows.length,
    identical: diffs.filter((d) => d === 0).length,
    differing: diffs.filter((d) => d > 0).length,
    incomparable: rows.filter((r) => r.diff === "incomparable").length,
    errors: rows.filter((r) => r.error).length,
    ...(diffs.length ? { maxDiff: diffs[diffs.length - 1], medianDiff: nearest(diffs, 0.5), p95Diff: nearest(diffs, 0.95) } : {}),
  };
}

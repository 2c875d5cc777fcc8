import type { PredictionEntry } from "@keel/sdk";
import { describe, expect, it } from "vitest";
import { shadowRows, summarize } from "./shadow";

const entry = (id: number, extra: Partial<PredictionEntry>): PredictionEntry => ({
  id,
  time: id * 1000,
  request_id: `r${id}`,
  deployment: "d",
  variant: "main",
  model_version: "1",
  latency_ms: 1,
  shadow_of: null,
  error: null,
  inputs: null,
  outputs: null,
  ...extra,
});
const shadow = (id: number, diff: number | "incomparable" | undefined, error: string | null = null) =>
  entry(id, { variant: "candidate", model_version: "2", shadow_of: "main", error, outputs: diff === undefined ? null : { tensors: [], max_abs_diff: diff } });

describe("shadow comparison", () => {
  it("keeps only the shadow's entries and reads each one's difference", () => {
    const rows = shadowRows([entry(1, {}), shadow(2, 0), shadow(3, 0.25), shadow(4, "incomparable"), shadow(5, undefined, "boom")]);
    expect(rows.map((r) => [r.id, r.primary, r.shadow, r.diff, r.error])).toEqual([
      [2, "main", "candidate", 0, null],
      [3, "main", "candidate", 0.25, null],
      [4, "main", "candidate", "incomparable", null],
      [5, "main", "candidate", undefined, "boom"],
    ]);
  });

  it("summarizes: identical, differing, incomparable, failed, and the spread of differences", () => {
    const rows = shadowRows([shadow(1, 0), shadow(2, 0), shadow(3, 0.1), shadow(4, 0.5), shadow(5, "incomparable"), shadow(6, undefined, "timeout")]);
    expect(summarize(rows)).toEqual({ compared: 6, identical: 2, differing: 2, incomparable: 1, errors: 1, maxDiff: 0.5, medianDiff: 0, p95Diff: 0.5 });
    expect(summarize([])).toEqual({ compared: 0, identical: 0, differing: 0, incomparable: 0, errors: 0 });
  });
});

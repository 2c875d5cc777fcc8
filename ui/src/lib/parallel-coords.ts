/**
 * Axes of a parallel-coordinates plot (params → a metric): an axis is numeric when every value on it is a
 * number (logarithmic when they are positive and span two decades or more, as learning rates do), else
 * categorical (values spread evenly, sorted). Positions are 0 (bottom) to 1 (top). Pure.
 */
export interface PcRun {
  id: string;
  name: string;
  params: Map<string, string>;
  metrics: Map<string, number>;
}

export interface PcAxis {
  key: string;
  kind: "param" | "metric";
  numeric: boolean;
  /** Positions by log10 of the value. */
  log: boolean;
  min: number;
  max: number;
  categories: string[];
}

/** Params whose values differ between the runs (all of them when none differ), at most `max`, sorted by name. */
export function varyingParams(runs: PcRun[], max = 12): string[] {
  const keys = [...new Set(runs.flatMap((r) => [...r.params.keys()]))].sort();
  const varying = keys.filter((k) => new Set(runs.map((r) => r.params.get(k))).size > 1);
  return (varying.length ? varying : keys).slice(0, max);
}

function numericAxis(key: string, kind: PcAxis["kind"], values: number[]): PcAxis {
  const finite = values.filter(Number.isFinite);
  const min = finite.length ? Math.min(...finite) : 0;
  const max = finite.length ? Math.max(...finite) : 1;
  return { key, kind, numeric: true, log: min > 0 && max / min >= 100, min, max, categories: [] };
}

export function buildAxes(runs: PcRun[], params: string[], metric: string | undefined): PcAxis[] {
  const axes: PcAxis[] = params.map((key) => {
    const values = runs.map((r) => r.params.get(key)).filter((v): v is string => v !== undefined);
    const nums = values.map((v) => (v.trim() === "" ? Number.NaN : Number(v)));
    if (values.length && nums.every(Number.isFinite)) return numericAxis(key, "param", nums);
    const categories = [...new Set(values)].sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
    return { key, kind: "param", numeric: false, log: false, min: 0, max: Math.max(0, categories.length - 1), categories };
  });
  if (metric !== undefined) axes.push(numericAxis(metric, "metric", runs.map((r) => r.metrics.get(metric)).filter((v): v is number => v !== undefined)));
  return axes;
}

/** Where a run sits on an axis, 0..1; undefined when the run has no (usable) value there. */
export function position(axis: PcAxis, run: PcRun): number | undefined {
  if (axis.kind === "metric" || axis.numeric) {
    const raw = axis.kind === "metric" ? run.metrics.get(axis.key) : Number(run.params.get(axis.key));
    if (raw === undefined || !Number.isFinite(raw) || (axis.log && raw <= 0)) return undefined;
    if (axis.max === axis.min) return 0.5;
    return axis.log ? Math.log10(raw / axis.min) / Math.log10(axis.max / axis.min) : (raw - axis.min) / (axis.max - axis.min);
  }
  const v = run.params.get(axis.key);
  if (v === undefined) return undefined;
  const i = axis.categories.indexOf(v);
  return axis.categories.length <= 1 ? 0.5 : i / (axis.categories.length - 1);
}

/** A color from low (blue) to high (orange) for a 0..1 value. */
export function rampColor(t: number): string {
  const lo = [0x4e, 0x79, 0xa7];
  const hi = [0xf2, 0x8e, 0x2b];
  const c = lo.map((l, i) => Math.round(l + (hi[i] - l) * Math.max(0, Math.min(1, t))));
  return `#${c.map((x) => x.toString(16).padStart(2, "0")).join("")}`;
}

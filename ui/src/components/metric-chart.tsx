/**
 * One metric chart (uPlot, canvas): one or many series over step, wall time or time since the run began;
 * log scale; smoothing with the raw line kept faint behind it. Rebuilt when the data or the options change,
 * resized in place.
 */
import { useEffect, useMemo, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { firstChartDrawn, isFirstChartDrawn } from "../lib/first-chart";
import { formatClock, formatCount, formatDuration, formatNumber } from "../lib/format";
import { smooth } from "../lib/smoothing";
import { cssVar, useTheme } from "../lib/theme";

export type XMode = "step" | "time" | "relative";

export interface ChartSeries {
  label: string;
  color: string;
  /** Step, epoch seconds (time) or seconds since start (relative), ascending. */
  x: number[];
  y: (number | null)[];
}

export interface MetricChartProps {
  series: ChartSeries[];
  xMode: XMode;
  log: boolean;
  smoothing: number;
  height?: number;
  /** What a screen reader hears instead of the canvas. */
  description: string;
}

const X_LABEL: Record<XMode, string> = { step: "Step", time: "Time", relative: "Time since start" };

function sortedByX(s: ChartSeries): ChartSeries {
  for (let i = 1; i < s.x.length; i++) {
    if (s.x[i] < s.x[i - 1]) {
      const order = s.x.map((_, j) => j).sort((a, b) => s.x[a] - s.x[b]);
      return { ...s, x: order.map((j) => s.x[j]), y: order.map((j) => s.y[j]) };
    }
  }
  return s;
}

function withAlpha(color: string, alpha: number): string {
  const m = /^#([0-9a-f]{6})$/i.exec(color);
  if (!m) return color;
  const n = Number.parseInt(m[1], 16);
  return `rgba(${n >> 16}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}

interface Built {
  data: uPlot.AlignedData;
  uSeries: uPlot.Series[];
  /** What the chart's options depend on besides the data: equal shapes take new data in place. */
  shape: string;
}

function build(series: ChartSeries[], xMode: XMode, log: boolean, smoothing: number): Built {
  const showRaw = smoothing > 0 && series.length <= 10;
  const tables: uPlot.AlignedData[] = [];
  const uSeries: uPlot.Series[] = [{ label: X_LABEL[xMode], value: (_u, v) => (v === null ? "" : formatX(v, xMode)) }];
  for (const raw of series) {
    const s = sortedByX(raw);
    const ys = log ? s.y.map((v) => (v !== null && v > 0 ? v : null)) : s.y;
    const cols: (number | null)[][] = [];
    if (showRaw) {
      cols.push(ys);
      uSeries.push({ label: `${s.label} (raw)`, stroke: withAlpha(s.color, 0.25), width: 1, spanGaps: true, points: { show: false }, value: (_u, v) => formatNumber(v ?? undefined) });
    }
    cols.push(smoothing > 0 ? smooth(ys, smoothing) : ys);
    uSeries.push({ label: s.label, stroke: s.color, width: 1.5, spanGaps: true, points: { show: s.x.length < 2 }, value: (_u, v) => formatNumber(v ?? undefined) });
    tables.push([s.x, ...cols] as uPlot.AlignedData);
  }
  const data: uPlot.AlignedData = tables.length === 1 ? tables[0] : tables.length === 0 ? [[]] : uPlot.join(tables);
  const shape = JSON.stringify([xMode, log, showRaw, series.map((s) => [s.label, s.color, s.x.length < 2])]);
  return { data, uSeries, shape };
}

interface Live {
  u: uPlot;
  shape: string;
  /** The user dragged a range: new data (a live run's refresh) must not undo it. A double click clears it. */
  zoomed: boolean;
  dispose(): void;
}

export function MetricChart({ series, xMode, log, smoothing, height = 220, description }: MetricChartProps) {
  const host = useRef<HTMLDivElement>(null);
  const live = useRef<Live | null>(null);
  const theme = useTheme();
  const built = useMemo(() => build(series, xMode, log, smoothing), [series, xMode, log, smoothing]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: `theme` rebuilds the chart with the new theme's colors (read from CSS variables)
  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const shape = `${built.shape}|${height}|${theme}`;
    const current = live.current;
    if (current && current.shape === shape) {
      // Same chart, new points (a running run's refresh): keep the user's zoom, else rescale to the data.
      current.u.setData(built.data, !current.zoomed);
      return;
    }
    current?.dispose();
    const fg = cssVar("--fg-muted") || "#666";
    const grid = cssVar("--border") || "#ddd";
    const opts: uPlot.Options = {
      width: Math.max(100, el.clientWidth),
      height,
      scales: { x: { time: xMode === "time", range: xRange(xMode) }, y: log ? { distr: 3, log: 10 } : { range: yRange } },
      axes: [
        {
          stroke: fg,
          grid: { stroke: grid, width: 1 },
          ticks: { stroke: grid, width: 1 },
          ...(xMode === "time" ? {} : { values: (_u: uPlot, splits: number[], _i: number, _space: number, incr: number) => splits.map((v) => (v == null ? "" : formatTick(v, xMode, incr))) }),
          // Steps are whole numbers: no ticks between them.
          ...(xMode === "step" ? { incrs: STEP_INCRS } : {}),
        },
        {
          stroke: fg,
          grid: { stroke: grid, width: 1 },
          ticks: { stroke: grid, width: 1 },
          size: 70,
          // uPlot passes null for the log scale's unlabeled minor ticks.
          values: (_u, splits) => splits.map((v) => (v == null ? "" : formatNumber(v))),
        },
      ],
      series: built.uSeries,
      // The legend reads out the point under the cursor (step and value); past ten series the page lists
      // the runs with their colors instead.
      legend: { show: series.length <= 10, live: true },
      cursor: { drag: { x: true, y: false, setScale: true } },
      hooks: {
        setSelect: [
          (u) => {
            if (u.select.width > 0 && live.current) live.current.zoomed = true;
          },
        ],
        // The ranges shown, on the element (axes are drawn on the canvas): what tests and tools can read.
        setScale: [
          (u, key) => {
            if (key !== "x" && key !== "y") return;
            el.dataset[`${key}Min`] = String(u.scales[key].min);
            el.dataset[`${key}Max`] = String(u.scales[key].max);
          },
        ],
      },
    };
    // The first chart drawn with data on this page load (the benchmark's "chart rendered").
    if (!isFirstChartDrawn() && series.some((s) => s.x.length > 0)) opts.hooks = { ...opts.hooks, draw: [firstChartDrawn] };
    const u = new uPlot(opts, built.data, el);
    const ro = new ResizeObserver(() => {
      const w = Math.max(100, el.clientWidth);
      if (w !== u.width) u.setSize({ width: w, height });
    });
    ro.observe(el);
    const unzoom = () => {
      if (live.current) live.current.zoomed = false;
    };
    el.addEventListener("dblclick", unzoom);
    live.current = {
      u,
      shape,
      zoomed: false,
      dispose: () => {
        ro.disconnect();
        el.removeEventListener("dblclick", unzoom);
        u.destroy();
      },
    };
  }, [built, height, theme]);

  useEffect(
    () => () => {
      live.current?.dispose();
      live.current = null;
    },
    [],
  );

  return (
    <figure className="chart" role="img" aria-label={description}>
      <div ref={host} className="chart-host" data-testid="metric-chart" />
    </figure>
  );
}

const STEP_INCRS = Array.from({ length: 16 }, (_, k) => [1, 2, 5].map((m) => m * 10 ** k)).flat();

/**
 * A single x value (one point, or every series at the same step) gets a window around it: uPlot's own
 * range for it runs from 0 to twice the value (a day, for wall time).
 */
function xRange(mode: XMode): uPlot.Range.Function {
  return (u, min, max) => {
    const xs = u.data[0];
    if (xs?.length && xs[0] === xs[xs.length - 1]) {
      const v = xs[0];
      const d = mode === "time" ? 60 : mode === "step" ? Math.max(1, Math.round(Math.abs(v) * 0.1)) : Math.max(1, Math.abs(v) * 0.1);
      return [v - d, v + d];
    }
    return [min, max];
  };
}

/** A flat series (one point, or one value throughout) sits in the middle of ±10%, not on an axis from 0 to 1.5× it. */
const yRange: uPlot.Range.Function = (_u, min, max) => {
  if (min == null || max == null) return [null, null];
  if (min === max) {
    const d = Math.abs(min) * 0.1 || 1;
    return [min - d, max + d];
  }
  return uPlot.rangeNum(min, max, 0.1, true);
};

/** Axis labels: seconds, minutes or hours for relative time, with as many decimals as the tick spacing needs. */
function formatTick(v: number, mode: XMode, incr: number): string {
  if (mode !== "relative") return formatX(v, mode);
  const unit = incr >= 3600 ? { name: "h", size: 3600 } : incr >= 60 ? { name: "min", size: 60 } : { name: "s", size: 1 };
  const decimals = Math.max(0, Math.min(3, -Math.floor(Math.log10(incr / unit.size) + 1e-9)));
  return `${(v / unit.size).toFixed(decimals)} ${unit.name}`;
}

function formatX(v: number, mode: XMode): string {
  if (mode === "relative") return formatDuration(v * 1000);
  if (mode === "time") return formatClock(new Date(v * 1000));
  return Number.isInteger(v) && Math.abs(v) < 1e9 ? formatCount(v) : formatNumber(v);
}

/**
 * Metric charts for one or many runs, drawn from Keel's server-side downsampling (POST /runs/compare):
 * the server sends about as many points as the chart has pixels (or every point, in full resolution), and
 * each chart says how many it shows of how many there are. Charts fetch when scrolled near the view.
 */
import type { ComparedSeries } from "@keel/sdk";
import { metricNumber } from "@keel/sdk";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useId, useLayoutEffect, useMemo, useRef, useState } from "react";
import { errorMessage, useClient } from "../lib/api";
import { formatCount, formatNumber } from "../lib/format";
import { lazyPage } from "../lib/lazy-page";
import type { ChartSeries, MetricChartProps, XMode } from "./metric-chart";

/**
 * uPlot loads on demand, when a chart card first shows: evaluating it sets up Intl (locale data, tens of
 * ms on a slow machine), which then overlaps the card's data request instead of delaying the page.
 */
const MetricChart = lazyPage<MetricChartProps>(
  () => import("./metric-chart").then((m) => ({ default: m.MetricChart })),
  () => (
    <div className="chart-placeholder" aria-busy="true">
      Loading…
    </div>
  ),
);

export interface ChartSettings {
  xMode: XMode;
  log: boolean;
  smoothing: number;
}

export function ChartControls({ value, onChange }: { value: ChartSettings; onChange(next: Partial<ChartSettings>): void }) {
  const id = useId();
  return (
    <div className="toolbar chart-controls">
      <fieldset className="segmented">
        <legend>X axis</legend>
        {(
          [
            ["step", "Step"],
            ["time", "Wall time"],
            ["relative", "Relative time"],
          ] as const
        ).map(([mode, label]) => (
          <label key={mode} className={value.xMode === mode ? "on" : undefined}>
            <input type="radio" name={`${id}-x`} value={mode} checked={value.xMode === mode} onChange={() => onChange({ xMode: mode })} />
            {label}
          </label>
        ))}
      </fieldset>
      <label className="check inline">
        <input type="checkbox" checked={value.log} onChange={(e) => onChange({ log: e.target.checked })} />
        Log scale
      </label>
      <label className="inline" htmlFor={`${id}-smooth`}>
        Smoothing
      </label>
      <input
        id={`${id}-smooth`}
        type="range"
        min={0}
        max={0.99}
        step={0.01}
        value={value.smoothing}
        onChange={(e) => onChange({ smoothing: Number(e.target.value) })}
        aria-valuetext={value.smoothing ? value.smoothing.toFixed(2) : "off"}
      />
      <output htmlFor={`${id}-smooth`} className="mono">
        {value.smoothing ? value.smoothing.toFixed(2) : "off"}
      </output>
    </div>
  );
}

/** Settings kept in the URL: `x`, `log`, `smooth`. */
export function chartSettingsFrom(q: URLSearchParams): ChartSettings {
  const x = q.get("x");
  const s = Number(q.get("smooth"));
  return {
    xMode: x === "time" || x === "relative" ? x : "step",
    log: q.get("log") === "1",
    smoothing: Number.isFinite(s) && s > 0 && s < 1 ? s : 0,
  };
}

export function chartSettingsTo(q: URLSearchParams, s: ChartSettings): void {
  if (s.xMode !== "step") q.set("x", s.xMode);
  else q.delete("x");
  if (s.log) q.set("log", "1");
  else q.delete("log");
  if (s.smoothing > 0) q.set("smooth", String(s.smoothing));
  else q.delete("smooth");
}

export interface RunRef {
  id: string;
  name: string;
  color: string;
  /** Start time (ms): relative time counts from it. */
  start: number;
}

/** True once the element has come within `margin` of the viewport. */
function useNearView<T extends Element>(margin = "300px"): [React.RefObject<T | null>, boolean] {
  const ref = useRef<T>(null);
  const [seen, setSeen] = useState(false);
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el || seen) return;
    // Charts already in view fetch at once; the observer's first report comes a frame later.
    const r = el.getBoundingClientRect();
    if (r.top < window.innerHeight + Number.parseInt(margin, 10) && r.bottom > -Number.parseInt(margin, 10)) {
      setSeen(true);
      return;
    }
    const io = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) setSeen(true);
    }, { rootMargin: margin });
    io.observe(el);
    return () => io.disconnect();
  }, [seen, margin]);
  return [ref, seen];
}

/** Points for a chart this wide: about one per device pixel is all a line can show. Rounded, so small resizes do not refetch. */
function pointsFor(el: Element): number {
  const px = el.clientWidth * Math.min(2, window.devicePixelRatio || 1);
  return Math.max(200, Math.min(5000, Math.round(px / 250) * 250));
}

/** The chart's point budget, measured once laid out (undefined before, so nothing is fetched twice). */
function useAutoPoints(ref: React.RefObject<Element | null>): number | undefined {
  const [points, setPoints] = useState<number>();
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    setPoints(pointsFor(el));
    const ro = new ResizeObserver(() => setPoints(pointsFor(el)));
    ro.observe(el);
    return () => ro.disconnect();
  }, [ref]);
  return points;
}

export interface ChartCardProps {
  metricKey: string;
  runs: RunRef[];
  settings: ChartSettings;
  /** Points per series; undefined: the chart's pixel width. */
  maxPoints?: number;
  fullResolution?: boolean;
  /** A running run: ask again every few seconds (the chart takes new points in place, keeping a zoom). */
  live?: boolean;
}

/** How often a running run's charts and run page ask for new points. */
export const LIVE_REFRESH_MS = 5000;

export function MetricChartCard({ metricKey, runs, settings, maxPoints, fullResolution = false, live = false }: ChartCardProps) {
  const client = useClient();
  const [ref, near] = useNearView<HTMLElement>();
  // Its code loads while this card's data is requested (not after the data is in).
  MetricChart.preload();
  const auto = useAutoPoints(ref);
  const points = maxPoints ?? auto ?? 0;
  const xAxis = settings.xMode === "step" ? "step" : "timestamp";
  const runIds = runs.map((r) => r.id);
  const options = {
    queryKey: ["series", runIds, metricKey, xAxis, fullResolution ? "full" : points],
    queryFn: ({ signal }: { signal: AbortSignal }) => client.compareRuns({ runIds, metricKeys: [metricKey], maxPoints: points, xAxis, fullResolution, signal }),
    enabled: near && points > 0,
    staleTime: live ? 0 : 10_000,
    refetchInterval: live ? LIVE_REFRESH_MS : (false as const),
  };
  const q = useQuery(options);
  // Ask as the card is laid out: useQuery would ask from a passive effect, which can wait behind other
  // tasks (the chart's own code evaluating) for tens of ms.
  const qc = useQueryClient();
  const key = JSON.stringify(options.queryKey);
  // biome-ignore lint/correctness/useExhaustiveDependencies: the key names the request; options is new each render
  useLayoutEffect(() => {
    if (options.enabled) void qc.prefetchQuery(options);
  }, [key, options.enabled, qc]);
  const data = q.data;
  // `runs` must keep its identity between renders (the pages memoize it): a new series rebuilds the chart.
  const series = useMemo(() => (data ? toChartSeries(data, runs, settings.xMode) : []), [data, runs, settings.xMode]);

  const total = data?.reduce((n, s) => n + s.total_points, 0) ?? 0;
  const shown = data?.reduce((n, s) => n + s.points.length, 0) ?? 0;
  const downsampled = data?.some((s) => s.downsampled) ?? false;
  const last = data?.length === 1 && data[0].points.length ? metricNumber(data[0].points[data[0].points.length - 1].value) : undefined;
  return (
    <section ref={ref} className="chart-card" aria-label={`Chart: ${metricKey}`} data-metric={metricKey}>
      <header>
        <h3 className="chart-title" title={metricKey}>
          {metricKey}
        </h3>
        {last !== undefined && <span className="mono muted">last {formatNumber(last)}</span>}
      </header>
      {q.isError ? (
        <p role="alert" className="error-text">
          {errorMessage(q.error)}
        </p>
      ) : !data ? (
        <div className="chart-placeholder" aria-busy="true">
          Loading…
        </div>
      ) : (
        <MetricChart
          series={series}
          xMode={settings.xMode}
          log={settings.log}
          smoothing={settings.smoothing}
          description={`${metricKey}: ${runs.length === 1 ? "" : `${runs.length} runs, `}${formatCount(shown)} points shown of ${formatCount(total)}`}
        />
      )}
      {data && settings.log && !series.some((s) => s.y.some((v) => v !== null && v > 0)) && <p className="chart-caption muted">No positive values to draw on a log scale.</p>}
      {data && (
        <p className="chart-caption muted" data-testid="chart-caption">
          {formatCount(shown)} of {formatCount(total)} {total === 1 ? "point" : "points"}
          {downsampled ? ` (downsampled to ${formatCount(points)} per series, LTTB)` : fullResolution ? " (full resolution)" : ""}
        </p>
      )}
    </section>
  );
}

function toChartSeries(data: ComparedSeries[], runs: RunRef[], xMode: XMode): ChartSeries[] {
  const byId = new Map(runs.map((r) => [r.id, r]));
  return data.map((s) => {
    const run = byId.get(s.run_id);
    const t0 = run?.start || s.points[0]?.timestamp || 0;
    const x = s.points.map((p) => (xMode === "step" ? p.step : xMode === "time" ? p.timestamp / 1000 : (p.timestamp - t0) / 1000));
    const y = s.points.map((p) => {
      const v = metricNumber(p.value);
      return Number.isFinite(v) ? v : null;
    });
    return { label: run?.name ?? s.run_id, color: run?.color ?? "#2f6fdf", x, y };
  });
}

/** Distinct, readable on light and dark backgrounds (Tableau 10, then a golden-angle hue walk). */
const PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"];
export function runColor(i: number): string {
  if (i < PALETTE.length) return PALETTE[i];
  const h = (i * 137.508) % 360;
  return hsl(h, 0.55, 0.5);
}

function hsl(h: number, s: number, l: number): string {
  const f = (n: number) => {
    const k = (n + h / 30) % 12;
    const a = s * Math.min(l, 1 - l);
    const c = l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1));
    return Math.round(c * 255)
      .toString(16)
      .padStart(2, "0");
  };
  return `#${f(0)}${f(8)}${f(4)}`;
}

/**
 * A small time-series chart (uPlot) for numbers that arrive every few seconds: built once per set of series
 * and theme, then only fed new data, so polling does not rebuild it or lose the reader's hover.
 */
import { useEffect, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { cssVar, useTheme } from "../lib/theme";

export interface LiveSeries {
  label: string;
  color: string;
  values: (number | null)[];
}

export function LiveChart({ x, series, format, description, height = 180 }: { x: number[]; series: LiveSeries[]; format(v: number): string; description: string; height?: number }) {
  const host = useRef<HTMLDivElement>(null);
  const chart = useRef<uPlot | null>(null);
  const theme = useTheme();
  const shape = series.map((s) => `${s.label}|${s.color}`).join(",");
  const formatRef = useRef(format);
  formatRef.current = format;

  // biome-ignore lint/correctness/useExhaustiveDependencies: rebuilt only when the set of series (`shape`) or the theme changes; data flows in below
  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const fg = cssVar("--fg-muted") || "#666";
    const grid = cssVar("--border") || "#ddd";
    const fmt = (v: number | null | undefined) => (v === null || v === undefined ? "—" : formatRef.current(v));
    const u = new uPlot(
      {
        width: Math.max(100, el.clientWidth),
        height,
        scales: { x: { time: true, range: timeRange }, y: { range: (_u, min, max) => [Math.min(0, min), max > 0 ? max * 1.1 : 1] } },
        axes: [
          { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } },
          { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 }, size: 64, values: (_u, splits) => splits.map((v) => fmt(v)) },
        ],
        series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.color, width: 1.5, spanGaps: false, points: { show: false }, value: (_u: uPlot, v: number | null) => fmt(v) }))],
        legend: { show: true, live: true },
      },
      [[], ...series.map(() => [])] as unknown as uPlot.AlignedData,
      el,
    );
    chart.current = u;
    const ro = new ResizeObserver(() => {
      const w = Math.max(100, el.clientWidth);
      if (w !== u.width) u.setSize({ width: w, height });
    });
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
      chart.current = null;
    };
  }, [shape, theme, height]);

  useEffect(() => {
    chart.current?.setData([x, ...series.map((s) => s.values)] as uPlot.AlignedData);
  });

  return (
    <figure className="chart" role="img" aria-label={description}>
      <div ref={host} className="chart-host live-chart" />
    </figure>
  );
}

/**
 * The last minute while there are fewer than two times: uPlot's own range for no data spans years, and
 * for one time a whole day.
 */
function timeRange(u: uPlot, min: number | null, max: number | null): uPlot.Range.MinMax {
  const xs = u.data[0] ?? [];
  const last = xs.length ? xs[xs.length - 1] : Date.now() / 1000;
  if (xs.length < 2 || min === null || max === null || min === max) return [last - 60, last];
  return [min, max];
}

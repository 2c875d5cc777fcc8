/**
 * Parallel coordinates (SVG): one vertical axis per param that differs between the runs, the chosen metric
 * last; each run a line across them, colored by its metric value (blue low, orange high). Hovering a line
 * names the run and its values.
 */
import { useLayoutEffect, useRef, useState } from "react";
import { formatNumber } from "../lib/format";
import { clip } from "../lib/lineage-layout";
import { buildAxes, type PcRun, position, rampColor } from "../lib/parallel-coords";

const H = 300;
const TOP = 36;
const BOTTOM = 28;
const MIN_GAP = 150;
const MAX_GAP = 320;
const SIDE = 70;
/** Values sit this far inside an axis' ends: a run at the minimum or maximum of both axes would otherwise draw along the ends and read as a frame. */
const INSET = 12;

/** The element's width, followed as it resizes. */
function useWidth<T extends HTMLElement>(): [React.RefObject<T | null>, number] {
  const ref = useRef<T>(null);
  const [width, setWidth] = useState(0);
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    setWidth(el.clientWidth);
    const ro = new ResizeObserver(() => setWidth(el.clientWidth));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  return [ref, width];
}

export function ParallelCoordinates({ runs, params, metric }: { runs: PcRun[]; params: string[]; metric: string | undefined }) {
  const [host, room] = useWidth<HTMLDivElement>();
  const axes = buildAxes(runs, params, metric);
  if (axes.length < 2) {
    return (
      <div className="pc-scroll" ref={host}>
        <p className="muted">Parallel coordinates need at least two axes: runs with params and a metric.</p>
      </div>
    );
  }
  // Axes spread over the card's width, within readable bounds (narrow cards scroll).
  const gap = Math.max(MIN_GAP, Math.min(MAX_GAP, (room - SIDE * 2) / (axes.length - 1)));
  const width = SIDE * 2 + (axes.length - 1) * gap;
  const xOf = (i: number) => SIDE + i * gap;
  const yOf = (p: number) => TOP + INSET + (1 - p) * (H - TOP - BOTTOM - 2 * INSET);
  const metricAxis = axes.find((a) => a.kind === "metric");
  const lines = runs.map((r) => {
    const points = axes.map((a, i) => {
      const p = position(a, r);
      return p === undefined ? undefined : ([xOf(i), yOf(p)] as const);
    });
    // Missing values break the line: one path segment per run of present values.
    let d = "";
    let pen = false;
    for (const pt of points) {
      if (!pt) {
        pen = false;
        continue;
      }
      d += `${pen ? "L" : "M"}${pt[0]},${pt[1]} `;
      pen = true;
    }
    const m = metricAxis ? position(metricAxis, r) : undefined;
    const values = axes.map((a) => `${a.key} = ${a.kind === "metric" ? formatNumber(r.metrics.get(a.key)) || "—" : (r.params.get(a.key) ?? "—")}`).join("\n");
    return { id: r.id, d: d.trim(), color: m === undefined ? "var(--fg-muted)" : rampColor(m), title: `${r.name}\n${values}` };
  });
  return (
    <div className="pc-scroll" ref={host}>
      <svg className="parallel-coords" width={width} height={H} viewBox={`0 0 ${width} ${H}`} role="img" aria-label={`Parallel coordinates of ${runs.length} runs: ${axes.map((a) => a.key).join(", ")}`} data-testid="parallel-coords">
        {lines.map((l) => (
          <path key={l.id} d={l.d} className="pc-line" stroke={l.color} data-run={l.id}>
            <title>{l.title}</title>
          </path>
        ))}
        {axes.map((a, i) => (
          <g key={`${a.kind}:${a.key}`} className={`pc-axis kind-${a.kind}`} data-axis={a.key}>
            <line x1={xOf(i)} x2={xOf(i)} y1={TOP} y2={H - BOTTOM} />
            <text x={xOf(i)} y={TOP - 16} textAnchor="middle" className="pc-title">
              {clip(a.key)}
              {a.log ? " (log)" : ""}
              <title>{`${a.kind === "metric" ? "metric" : "param"} ${a.key}${a.log ? ", logarithmic axis" : ""}`}</title>
            </text>
            {a.numeric ? (
              <>
                <text x={xOf(i) - 6} y={yOf(1) + 4} textAnchor="end" className="pc-tick">
                  {formatNumber(a.max)}
                </text>
                <text x={xOf(i) - 6} y={yOf(0) + 4} textAnchor="end" className="pc-tick">
                  {formatNumber(a.min)}
                </text>
              </>
            ) : (
              a.categories.map((c) => (
                <text key={c} x={xOf(i) - 6} y={yOf(a.categories.length <= 1 ? 0.5 : a.categories.indexOf(c) / (a.categories.length - 1)) + 4} textAnchor="end" className="pc-tick">
                  {clip(c, 14)}
                </text>
              ))
            )}
          </g>
        ))}
      </svg>
    </div>
  );
}

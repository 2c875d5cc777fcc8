/** Rows per executed batch, as bars (SVG): how much the batcher is merging requests. */
import type { HistogramSnapshot } from "@keel/sdk";
import { formatCount } from "../../lib/format";
import { batchBars } from "../../lib/live-stats";

const W = 420;
const H = 184;
const BOTTOM = 52;
const TOP = 16;
const LABEL_PX = 11;
/** About how wide a digit or dash of the labels' 11px font is, in the chart's units. */
const CHAR_W = 6.6;
/** Space each label line takes below the bars. */
const LINE = 16;

const plural = (n: number, one: string, many: string) => (n === 1 ? one : many);

export function BatchHistogram({ histogram }: { histogram: HistogramSnapshot }) {
  const bars = batchBars(histogram);
  if (histogram.count === 0 || bars.length === 0) return <div className="chart-placeholder">No batches yet.</div>;
  const max = Math.max(1, ...bars.map((b) => b.count));
  const slot = W / bars.length;
  const mean = Math.round((histogram.sum / histogram.count) * 10) / 10;
  const rows = Math.round(histogram.sum);
  // Labels wider than a bar's slot ("129–256") would run into their neighbours: every other one drops a line.
  const stagger = Math.max(...bars.map((b) => b.label.length)) * CHAR_W > slot - 4;
  return (
    <figure className="chart" data-testid="batch-histogram">
      <svg className="histogram" viewBox={`0 0 ${W} ${H}`} width="100%" role="img" aria-label={`Batch sizes: ${bars.map((b) => `${b.label}: ${b.count}`).join(", ")}`}>
        {bars.map((b, i) => {
          const h = ((H - BOTTOM - TOP) * b.count) / max;
          const x = i * slot + 3;
          const mid = x + (slot - 6) / 2;
          const labelY = H - BOTTOM + LABEL_PX + 3 + (stagger && i % 2 ? LINE : 0);
          return (
            <g key={b.label}>
              <title>{`${b.label} rows: ${formatCount(b.count)} ${plural(b.count, "batch", "batches")}`}</title>
              <rect x={x} y={H - BOTTOM - h} width={slot - 6} height={Math.max(h, b.count ? 1 : 0)} className="bar" />
              {b.count > 0 && (
                <text x={mid} y={H - BOTTOM - h - 3} textAnchor="middle" className="bar-value">
                  {formatCount(b.count)}
                </text>
              )}
              {stagger && i % 2 === 1 && <line x1={mid} x2={mid} y1={H - BOTTOM + 2} y2={labelY - LABEL_PX} className="bar-tick" />}
              <text x={mid} y={labelY} textAnchor="middle" className="bar-label" data-testid="bar-label">
                {b.label}
              </text>
            </g>
          );
        })}
        <text x={W / 2} y={H - 4} textAnchor="middle" className="bar-axis">
          rows per batch
        </text>
      </svg>
      <figcaption className="chart-caption muted">
        {formatCount(histogram.count)} {plural(histogram.count, "batch", "batches")}, {formatCount(rows)} {plural(rows, "row", "rows")}, mean {mean} {plural(mean, "row", "rows")} per batch
      </figcaption>
    </figure>
  );
}

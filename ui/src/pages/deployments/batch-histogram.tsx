/** Rows per executed batch, as bars (SVG): how much the batcher is merging requests. */
import type { HistogramSnapshot } from "@keel/sdk";
import { formatCount } from "../../lib/format";
import { batchBars } from "../../lib/live-stats";

const W = 420;
const H = 170;
const BOTTOM = 34;
const TOP = 16;

export function BatchHistogram({ histogram }: { histogram: HistogramSnapshot }) {
  const bars = batchBars(histogram);
  if (histogram.count === 0 || bars.length === 0) return <div className="chart-placeholder">No batches yet.</div>;
  const max = Math.max(1, ...bars.map((b) => b.count));
  const slot = W / bars.length;
  const mean = histogram.sum / histogram.count;
  return (
    <figure className="chart" data-testid="batch-histogram">
      <svg className="histogram" viewBox={`0 0 ${W} ${H}`} width="100%" role="img" aria-label={`Batch sizes: ${bars.map((b) => `${b.label}: ${b.count}`).join(", ")}`}>
        {bars.map((b, i) => {
          const h = ((H - BOTTOM - TOP) * b.count) / max;
          const x = i * slot + 3;
          return (
            <g key={b.label}>
              <title>{`${b.label} rows: ${formatCount(b.count)} batches`}</title>
              <rect x={x} y={H - BOTTOM - h} width={slot - 6} height={Math.max(h, b.count ? 1 : 0)} className="bar" />
              {b.count > 0 && (
                <text x={x + (slot - 6) / 2} y={H - BOTTOM - h - 3} textAnchor="middle" className="bar-value">
                  {formatCount(b.count)}
                </text>
              )}
              <text x={x + (slot - 6) / 2} y={H - BOTTOM + 14} textAnchor="middle" className="bar-label">
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
        {formatCount(histogram.count)} batches, {formatCount(Math.round(histogram.sum))} rows, mean {Math.round(mean * 10) / 10} rows per batch
      </figcaption>
    </figure>
  );
}

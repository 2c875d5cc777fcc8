/** The shadow variant's answers against the ones returned, from the prediction log (refreshed every 5 s). */
import { useQuery } from "@tanstack/react-query";
import { ErrorBanner } from "../../components/error-banner";
import { useClient } from "../../lib/api";
import { formatAgo, formatCount, formatNumber, formatTime } from "../../lib/format";
import { shadowRows, summarize } from "../../lib/shadow";

const LOOK_AT = 1000;
const SHOWN = 25;

export function ShadowPanel({ name, shadow, fraction }: { name: string; shadow: string; fraction: number }) {
  const client = useClient();
  const log = useQuery({ queryKey: ["predictions", name], queryFn: ({ signal }) => client.deploymentPredictions(name, { limit: LOOK_AT, signal }), refetchInterval: 5000 });
  const rows = log.data ? shadowRows(log.data) : [];
  const s = summarize(rows);
  return (
    <section aria-labelledby="shadow-h" className="card" data-testid="shadow-panel">
      <h2 id="shadow-h">Shadow comparison</h2>
      <p className="muted">
        Variant <span className="mono">{shadow}</span> gets a copy of {Math.round(fraction * 100)}% of requests; its answers are compared with the ones returned and never
        sent back. From the last {formatCount(LOOK_AT)} logged predictions.
      </p>
      {log.isError && <ErrorBanner error={log.error} what="Cannot read the prediction log" />}
      {log.data && rows.length === 0 && <p className="muted">No mirrored requests logged yet.</p>}
      {rows.length > 0 && (
        <>
          <dl className="tiles">
            <div className="tile">
              <dt>Compared</dt>
              <dd data-testid="shadow-compared">{formatCount(s.compared)}</dd>
            </div>
            <div className="tile">
              <dt>Identical</dt>
              <dd>
                {formatCount(s.identical)} ({Math.round((100 * s.identical) / s.compared)}%)
              </dd>
            </div>
            <div className="tile">
              <dt>Differing</dt>
              <dd>{formatCount(s.differing)}</dd>
            </div>
            <div className="tile">
              <dt>Max |difference|</dt>
              <dd data-testid="shadow-max-diff">{s.maxDiff !== undefined ? formatNumber(s.maxDiff) : "—"}</dd>
            </div>
            <div className="tile">
              <dt>Median / p95 |difference|</dt>
              <dd>{s.medianDiff !== undefined ? `${formatNumber(s.medianDiff)} / ${formatNumber(s.p95Diff)}` : "—"}</dd>
            </div>
            {(s.incomparable > 0 || s.errors > 0) && (
              <div className="tile">
                <dt>Incomparable / failed</dt>
                <dd>
                  {formatCount(s.incomparable)} / {formatCount(s.errors)}
                </dd>
              </div>
            )}
          </dl>
          <table className="table compact">
            <caption className="caption-left">The {Math.min(SHOWN, rows.length)} most recent</caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Request</th>
                <th scope="col">Compared with</th>
                <th scope="col">Shadow version</th>
                <th scope="col" className="num">
                  Max |difference|
                </th>
                <th scope="col" className="num">
                  Shadow latency
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.slice(0, SHOWN).map((r) => (
                <tr key={r.id} className={typeof r.diff === "number" && r.diff > 0 ? "differs" : undefined}>
                  <td title={formatTime(r.time)}>{formatAgo(r.time)}</td>
                  <td className="mono">{r.requestId}</td>
                  <td className="mono">{r.primary}</td>
                  <td>{r.version}</td>
                  <td className="num mono">{r.error ? <span className="error-text">failed: {r.error}</span> : r.diff === undefined ? "—" : typeof r.diff === "number" ? formatNumber(r.diff) : r.diff}</td>
                  <td className="num mono">{formatNumber(Math.round(r.latencyMs * 100) / 100)} ms</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}

/**
 * A deployment's live numbers: the stats endpoint polled every 2 s (cumulative counters of this server
 * process), turned into request rate, error rate and latency percentiles per interval, charted over the
 * time the page has been open, with the batch sizes the batcher ran.
 */
import type { DeploymentStats } from "@keel/sdk";
import { useQuery } from "@tanstack/react-query";
import { useEffect, useId, useMemo, useState } from "react";
import { ErrorBanner } from "../../components/error-banner";
import { LiveChart } from "../../components/live-chart";
import { runColor } from "../../components/metric-panel";
import { useClient } from "../../lib/api";
import { formatCount, formatDuration, formatNumber } from "../../lib/format";
import { histogramDelta, liveSeries, recent, totals } from "../../lib/live-stats";
import { BatchHistogram } from "./batch-histogram";

export const POLL_MS = 2000;
/** Five minutes of reads. */
const KEEP = 150;
const WINDOW_S = 10;

const ms = (v: number) => `${formatNumber(Math.round(v * 100) / 100)} ms`;
const perSecond = (v: number) => `${formatNumber(Math.round(v * 10) / 10)}/s`;
const percent = (v: number) => `${formatNumber(Math.round(v * 1000) / 10)}%`;

/** `variants`: those that answer requests (a shadow's copies are compared, not counted as requests). */
export function LivePanel({ name, variants }: { name: string; variants: string[] }) {
  const client = useClient();
  const id = useId();
  const [samples, setSamples] = useState<DeploymentStats[]>([]);
  const [variant, setVariant] = useState<string>("");
  const [batchScope, setBatchScope] = useState<"window" | "all">("window");
  const stats = useQuery({ queryKey: ["deployment-stats", name], queryFn: ({ signal }) => client.deploymentStats(name, { signal }), refetchInterval: POLL_MS, gcTime: 0 });

  useEffect(() => {
    const s = stats.data;
    if (s) setSamples((prev) => (prev.at(-1)?.time === s.time ? prev : [...prev.slice(-(KEEP - 1)), s]));
  }, [stats.data]);

  const chosen = variant || undefined;
  const points = useMemo(() => liveSeries(samples, chosen), [samples, chosen]);
  const perVariant = useMemo(() => variants.map((v) => ({ name: v, points: liveSeries(samples, v) })), [samples, variants]);
  const now = recent(samples, WINDOW_S, chosen);
  const last = samples.at(-1);
  const lifetime = last ? totals(last, chosen) : undefined;
  const batches = last && lifetime ? (batchScope === "all" || samples.length < 2 ? lifetime.batch : histogramDelta(totals(samples[0], chosen).batch, lifetime.batch)) : undefined;
  const queue = last?.variants.filter((v) => !chosen || v.name === chosen).reduce((n, v) => n + v.queue_depth, 0) ?? 0;
  const x = points.map((p) => p.t);
  // Until a request lands, the charts would be flat zeros or empty axes: say so instead.
  const idle = points.some((p) => p.rate > 0)
    ? undefined
    : lifetime?.requests === 0
      ? "No requests yet. The charts start with the first one."
      : samples.length === 0
        ? "Waiting for numbers…"
        : samples.length < 2
          ? "Waiting for the second reading…"
          : `No requests in the last ${formatDuration(samples[samples.length - 1].time - samples[0].time)}.`;

  return (
    <section aria-labelledby={`${id}-h`} className="card" data-testid="live-panel">
      <h2 id={`${id}-h`}>Live</h2>
      <div className="toolbar">
        <label className="inline">
          Variant
          <select value={variant} onChange={(e) => setVariant(e.target.value)}>
            <option value="">All variants</option>
            {variants.map((v) => (
              <option key={v} value={v}>
                {v}
              </option>
            ))}
          </select>
        </label>
        <span className="muted">
          Updated every {POLL_MS / 1000} s from this server's counters{samples.length < 2 ? "; rates appear after the second reading" : ""}.
        </span>
      </div>
      {stats.isError && <ErrorBanner error={stats.error} what="Cannot read the live numbers" />}
      <dl className="tiles" aria-live="polite" aria-atomic="false">
        <div className="tile">
          <dt>Requests (last {WINDOW_S} s)</dt>
          <dd data-testid="request-rate">{now ? perSecond(now.rate) : "—"}</dd>
        </div>
        <div className="tile">
          <dt>Errors (last {WINDOW_S} s)</dt>
          <dd data-testid="error-rate">{now?.errorRate != null ? percent(now.errorRate) : "—"}</dd>
        </div>
        <div className="tile">
          <dt>Latency p50 / p95 / p99</dt>
          <dd data-testid="latency">{now?.p50 != null ? `${ms(now.p50)} / ${ms(now.p95 ?? 0)} / ${ms(now.p99 ?? 0)}` : "—"}</dd>
        </div>
        <div className="tile">
          <dt>Queue depth</dt>
          <dd>{last ? formatCount(queue) : "—"}</dd>
        </div>
        <div className="tile">
          <dt>Requests since the server started</dt>
          <dd data-testid="request-total">{lifetime ? formatCount(lifetime.requests) : "—"}</dd>
        </div>
        <div className="tile" title="Answered with a 4xx or 429: malformed, refused by the model, or a full queue">
          <dt>Refused (request's fault) / failed</dt>
          <dd data-testid="request-refused">{lifetime ? `${formatCount(lifetime.refused)} / ${formatCount(lifetime.errors)}` : "—"}</dd>
        </div>
      </dl>
      <div className="chart-grid">
        <section className="chart-card" aria-label="Chart: request rate">
          <h3 className="chart-title">Request rate</h3>
          {idle ? (
            <Idle text={idle} />
          ) : (
            <LiveChart
              x={x}
              series={perVariant.filter((v) => !chosen || v.name === chosen).map((v) => ({ label: v.name, color: runColor(variants.indexOf(v.name)), values: v.points.map((p) => p.rate) }))}
              format={perSecond}
              description={`Requests per second${now ? `, now ${perSecond(now.rate)}` : ""}`}
            />
          )}
        </section>
        <section className="chart-card" aria-label="Chart: latency percentiles">
          <h3 className="chart-title">Latency</h3>
          {idle ? (
            <Idle text={idle} />
          ) : (
            <LiveChart
              x={x}
              series={[
                { label: "p50", color: runColor(0), values: points.map((p) => p.p50) },
                { label: "p95", color: runColor(1), values: points.map((p) => p.p95) },
                { label: "p99", color: runColor(2), values: points.map((p) => p.p99) },
              ]}
              format={ms}
              description={`Latency percentiles${now?.p50 != null ? `, now p50 ${ms(now.p50)}, p99 ${ms(now.p99 ?? 0)}` : ""}`}
            />
          )}
        </section>
        <section className="chart-card" aria-label="Chart: error rate">
          <h3 className="chart-title">Error rate</h3>
          {idle ? (
            <Idle text={idle} />
          ) : (
            <LiveChart x={x} series={[{ label: "errors", color: "#e15759", values: points.map((p) => p.errorRate) }]} format={percent} description="Share of requests that failed" />
          )}
        </section>
        <section className="chart-card" aria-label="Chart: batch sizes">
          <header>
            <h3 className="chart-title">Batch sizes</h3>
            <label className="inline">
              <span className="visually-hidden">Batch sizes over</span>
              <select value={batchScope} onChange={(e) => setBatchScope(e.target.value as "window" | "all")}>
                <option value="window">Since this page opened</option>
                <option value="all">Since the server started</option>
              </select>
            </label>
          </header>
          {batches ? <BatchHistogram histogram={batches} /> : <div className="chart-placeholder">Waiting for numbers…</div>}
        </section>
      </div>
    </section>
  );
}

/** In a chart's place while there is no traffic to draw (an empty time axis would show a meaningless range). */
function Idle({ text }: { text: string }) {
  return (
    <div className="chart-placeholder live-idle" data-testid="live-idle">
      {text}
    </div>
  );
}

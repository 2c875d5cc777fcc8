/**
 * One run: overview, metric charts (downsampled server-side), the model versions made from it, its input
 * datasets, params and tags, and its artifacts.
 */
import type { KeyValue, WireRun } from "@keel/sdk";
import { metricNumber } from "@keel/sdk";
import { useQuery } from "@tanstack/react-query";
import { useEffect, useMemo, useState } from "react";
import { ErrorBanner } from "../components/error-banner";
import { ChartControls, type ChartSettings, chartSettingsFrom, chartSettingsTo, LIVE_REFRESH_MS, MetricChartCard, type RunRef, runColor } from "../components/metric-panel";
import { useClient } from "../lib/api";
import { useAfterFirstChart } from "../lib/first-chart";
import { peekEarly, takeEarly } from "../lib/early";
import { formatDuration, formatNumber, formatTime } from "../lib/format";
import { Link, navigate, useLocation } from "../lib/router";
import { paths } from "../lib/routes";
import { ArtifactsBrowser } from "./run/artifacts-browser";
import { RunInputs } from "./run/run-inputs";
import { RunModels } from "./run/run-models";
import { TableHead } from "../components/table-head";

export default function RunPage({ experimentId, runId }: { experimentId?: string; runId: string }) {
  const client = useClient();
  const { pathname, search } = useLocation();
  const settings = useMemo(() => chartSettingsFrom(new URLSearchParams(search)), [search]);
  const setSettings = (change: Partial<ChartSettings>) => {
    const q = new URLSearchParams(search);
    chartSettingsTo(q, { ...settings, ...change });
    const s = q.toString();
    navigate(`${pathname}${s ? `?${s}` : ""}`, { replace: true });
  };
  // A deep link's run was requested before React started (boot.ts): use it, do not ask again.
  const [early] = useState(() => peekEarly<WireRun>(`run:${runId}`));
  const run = useQuery({
    queryKey: ["run", runId],
    queryFn: ({ signal }) => takeEarly<WireRun>(`run:${runId}`) ?? client.getRun(runId, { signal }),
    initialData: early?.value,
    initialDataUpdatedAt: early?.at,
    staleTime: 5_000,
    // A running run's page follows it: new metrics, status, end time.
    refetchInterval: (q) => (q.state.data?.info.status === "RUNNING" ? LIVE_REFRESH_MS : false),
  });
  const expId = run.data?.info.experiment_id ?? experimentId;
  const experiment = useQuery({ queryKey: ["experiment", expId], queryFn: ({ signal }) => client.getExperiment(expId ?? "", { signal }), enabled: expId !== undefined });
  const [chartFilter, setChartFilter] = useState("");
  // The overview and the charts render (and ask for their data) first; the sections below, with their own
  // requests, once the first chart is drawn.
  const below = useAfterFirstChart(run.data ? (run.data.data.metrics?.length ?? 0) > 0 : undefined);

  const info = run.data?.info;
  const tags = useMemo(() => new Map((run.data?.data.tags ?? []).map((t) => [t.key, t.value])), [run.data]);
  const metrics = useMemo(() => [...(run.data?.data.metrics ?? [])].sort((a, b) => a.key.localeCompare(b.key)), [run.data]);
  const refs = useMemo<RunRef[]>(() => (info ? [{ id: info.run_id, name: info.run_name || info.run_id, color: runColor(0), start: info.start_time }] : []), [info]);
  const name = info?.run_name || runId;

  useEffect(() => {
    document.title = `${name} · Keel`;
  }, [name]);
  // Reached by run id alone (/runs/<id>): once the run says its experiment, the address says it too.
  const loadedExp = run.data?.info.experiment_id;
  useEffect(() => {
    if (experimentId === undefined && loadedExp !== undefined) navigate(`${paths.run(loadedExp, runId)}${window.location.search}`, { replace: true });
  }, [experimentId, loadedExp, runId]);

  if (run.isError) {
    return (
      <div className="page">
        <nav aria-label="Breadcrumb" className="breadcrumbs">
          <Link to="/">Experiments</Link>
          {experimentId !== undefined && (
            <>
              {" "}
              <span aria-hidden="true">/</span> <Link to={paths.experiment(experimentId)}>{experiment.data?.name ?? `Experiment ${experimentId}`}</Link>
            </>
          )}
        </nav>
        <h1 tabIndex={-1}>Run {runId}</h1>
        <ErrorBanner error={run.error} what="Cannot load the run" />
      </div>
    );
  }
  if (!info) return <p className="page muted">Loading run…</p>;

  const sourceName = tags.get("mlflow.source.name");
  const sourceType = tags.get("mlflow.source.type");
  const commit = tags.get("mlflow.source.git.commit");
  const parent = tags.get("mlflow.parentRunId");
  const shownMetrics = metrics.filter((m) => m.key.toLowerCase().includes(chartFilter.trim().toLowerCase()));

  return (
    <div className="page run-page">
      <nav aria-label="Breadcrumb" className="breadcrumbs">
        <Link to="/">Experiments</Link> <span aria-hidden="true">/</span>{" "}
        <Link to={paths.experiment(info.experiment_id)}>{experiment.data?.name ?? info.experiment_id}</Link> <span aria-hidden="true">/</span>{" "}
        <span aria-current="page">{name}</span>
      </nav>
      <div className="page-head">
        <h1 tabIndex={-1}>{name}</h1>
        <span className={`badge status-${info.status.toLowerCase()}`}>{info.status}</span>
        {info.lifecycle_stage === "deleted" && <span className="badge warn">deleted</span>}
      </div>

      <section aria-labelledby="overview-h" className="card">
        <h2 id="overview-h">Overview</h2>
        <dl className="overview">
          <dt>Run ID</dt>
          <dd className="mono">{info.run_id}</dd>
          <dt>Status</dt>
          <dd>{info.status}</dd>
          <dt>Started</dt>
          <dd>{formatTime(info.start_time)}</dd>
          <dt>Ended</dt>
          <dd>{info.end_time ? formatTime(info.end_time) : "—"}</dd>
          <dt>Duration</dt>
          <dd>{info.end_time ? formatDuration(info.end_time - info.start_time) : info.status === "RUNNING" ? `running for ${formatDuration(Date.now() - info.start_time)}` : "—"}</dd>
          <dt>User</dt>
          <dd>{info.user_id || "—"}</dd>
          <dt>Source</dt>
          <dd>
            {sourceName ? (
              <>
                <span className="mono">{sourceName}</span>
                {sourceType && <span className="muted"> ({sourceType.toLowerCase()})</span>}
              </>
            ) : (
              "—"
            )}
            {commit && <span className="mono muted"> @ {commit.slice(0, 12)}</span>}
          </dd>
          {parent && (
            <>
              <dt>Parent run</dt>
              <dd>
                <Link to={paths.run(info.experiment_id, parent)} className="mono">
                  {parent}
                </Link>
              </dd>
            </>
          )}
          <dt>Artifacts</dt>
          <dd className="mono">{info.artifact_uri}</dd>
        </dl>
      </section>

      <section aria-labelledby="metrics-h" className="card">
        <h2 id="metrics-h">Metrics ({metrics.length})</h2>
        {metrics.length === 0 ? (
          <p className="muted">This run has no metrics.</p>
        ) : (
          <>
            <ChartControls value={settings} onChange={setSettings} />
            {metrics.length > 4 && (
              <label className="inline">
                <span className="visually-hidden">Filter charts by metric name</span>
                <input type="search" placeholder="Filter charts" value={chartFilter} onChange={(e) => setChartFilter(e.target.value)} />
              </label>
            )}
            <div className="chart-grid">
              {shownMetrics.map((m) => (
                <MetricChartCard key={m.key} metricKey={m.key} runs={refs} settings={settings} live={info.status === "RUNNING"} />
              ))}
            </div>
            <details className="latest">
              <summary>Latest values</summary>
              <table className="table compact">
                <thead>
                  <tr>
                    <th scope="col">Metric</th>
                    <th scope="col" className="num">
                      Value
                    </th>
                    <th scope="col" className="num">
                      Step
                    </th>
                    <th scope="col">Logged</th>
                  </tr>
                </thead>
                <tbody>
                  {metrics.map((m) => (
                    <tr key={m.key}>
                      <td className="mono">{m.key}</td>
                      <td className="num mono">{formatNumber(metricNumber(m.value))}</td>
                      <td className="num mono">{m.step}</td>
                      <td>{formatTime(m.timestamp)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </details>
          </>
        )}
      </section>

      {below && (
        <>
          <RunModels runId={info.run_id} />
          <RunInputs inputs={run.data?.inputs?.dataset_inputs ?? []} />

          <div className="two-col">
            <KeyValueTable title="Parameters" id="params-h" rows={run.data?.data.params ?? []} empty="No parameters." />
            <TagsTable tags={run.data?.data.tags ?? []} />
          </div>

          {run.data && <ArtifactsBrowser run={run.data} />}
        </>
      )}
    </div>
  );
}

function KeyValueTable({ title, id, rows, empty }: { title: string; id: string; rows: KeyValue[]; empty: string }) {
  const [q, setQ] = useState("");
  const needle = q.trim().toLowerCase();
  const shown = rows.filter((r) => !needle || r.key.toLowerCase().includes(needle) || r.value.toLowerCase().includes(needle)).sort((a, b) => a.key.localeCompare(b.key));
  return (
    <section aria-labelledby={id} className="card">
      <h2 id={id}>
        {title} ({rows.length})
      </h2>
      {rows.length > 8 && (
        <label className="inline">
          <span className="visually-hidden">Filter {title.toLowerCase()}</span>
          <input type="search" placeholder={`Filter ${title.toLowerCase()}`} value={q} onChange={(e) => setQ(e.target.value)} />
        </label>
      )}
      {rows.length === 0 ? (
        <p className="muted">{empty}</p>
      ) : (
        <table className="table compact kv">
          <TableHead columns={["Key", "Value"]} />
          <tbody>
            {shown.map((r) => (
              <tr key={r.key}>
                <td className="mono">{r.key}</td>
                <td className="mono wrap">{r.value}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function TagsTable({ tags }: { tags: KeyValue[] }) {
  const user = tags.filter((t) => !t.key.startsWith("mlflow."));
  const system = tags.filter((t) => t.key.startsWith("mlflow."));
  return (
    <div>
      <KeyValueTable title="Tags" id="tags-h" rows={user} empty="No tags." />
      {system.length > 0 && (
        <details className="card">
          <summary>System tags ({system.length})</summary>
          <table className="table compact kv">
            <tbody>
              {system.map((t) => (
                <tr key={t.key}>
                  <td className="mono">{t.key}</td>
                  <td className="mono wrap">{t.value}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </details>
      )}
    </div>
  );
}

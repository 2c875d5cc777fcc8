/**
 * Compare runs: overlaid metric charts (server-side downsampling to the number of points the user picks,
 * or every point in full resolution), parallel coordinates of params → a metric, and a table of params,
 * metrics and tags that marks what differs. The URL holds the runs and every setting.
 */
import type { WireRun } from "@keel/sdk";
import { metricNumber } from "@keel/sdk";
import { useQueries, useQuery } from "@tanstack/react-query";
import { useEffect, useMemo, useState } from "react";
import { ErrorBanner } from "../components/error-banner";
import { ChartControls, type ChartSettings, chartSettingsFrom, chartSettingsTo, MetricChartCard, type RunRef, runColor } from "../components/metric-panel";
import { ParallelCoordinates } from "../components/parallel-coordinates";
import { useClient } from "../lib/api";
import { formatNumber } from "../lib/format";
import { type PcRun, varyingParams } from "../lib/parallel-coords";
import { Link, navigate, useLocation } from "../lib/router";

const NO_RUNS: WireRun[] = [];

const MAX_RUNS = 100;
const DEFAULT_POINTS = 1000;

export default function ComparePage() {
  const client = useClient();
  const { pathname, search } = useLocation();
  const q = useMemo(() => new URLSearchParams(search), [search]);
  const runIds = useMemo(() => [...new Set(q.getAll("run"))].slice(0, MAX_RUNS), [q]);
  const experimentId = q.get("exp");
  const settings = useMemo(() => chartSettingsFrom(q), [q]);
  const full = q.get("full") === "1";
  const pointsParam = Number(q.get("points"));
  const points = Number.isInteger(pointsParam) && pointsParam >= 10 && pointsParam <= 100_000 ? pointsParam : DEFAULT_POINTS;
  const onlyDiff = q.get("diff") === "1";

  const update = (f: (n: URLSearchParams) => void) => {
    const next = new URLSearchParams(search);
    f(next);
    const s = next.toString();
    navigate(`${pathname}${s ? `?${s}` : ""}`, { replace: true });
  };
  /** A switch kept in the URL as `name=1`, absent when off. */
  const setFlag = (name: string, on: boolean) =>
    update((n) => {
      if (on) n.set(name, "1");
      else n.delete(name);
    });
  const setSettings = (change: Partial<ChartSettings>) => update((n) => chartSettingsTo(n, { ...settings, ...change }));

  const experiment = useQuery({
    queryKey: ["experiment", experimentId],
    queryFn: ({ signal }) => client.getExperiment(experimentId ?? "", { signal }),
    enabled: experimentId !== null,
  });
  const results = useQueries({
    queries: runIds.map((id) => ({ queryKey: ["run", id], queryFn: ({ signal }: { signal: AbortSignal }) => client.getRun(id, { signal }) })),
  });
  const loaded = results.map((r) => r.data).filter((r): r is WireRun => r !== undefined);
  const failed = results.find((r) => r.isError);
  const ready = results.every((r) => !r.isPending);
  const loadedKey = loaded.map((r) => r.info.run_id).join(",");
  // Once every run has answered: charts built as each one arrived would ask the server again for each (1 run,
  // then 2, then 3), cancelling the earlier requests. Keyed by the loaded runs' ids, so the refs (and charts)
  // stay put across renders.
  // biome-ignore lint/correctness/useExhaustiveDependencies: loaded is keyed by loadedKey
  const runs = useMemo(() => (ready ? loaded : NO_RUNS), [loadedKey, ready]);
  const refs = useMemo<RunRef[]>(() => runs.map((r, i) => ({ id: r.info.run_id, name: r.info.run_name || r.info.run_id, color: runColor(i), start: r.info.start_time })), [runs]);
  const metricKeys = useMemo(() => [...new Set(runs.flatMap((r) => (r.data.metrics ?? []).map((m) => m.key)))].sort(), [runs]);
  const chosen = q.has("metric") ? q.getAll("metric").filter((m) => metricKeys.includes(m)) : metricKeys.slice(0, 6);

  const [pointsText, setPointsText] = useState(String(points));
  useEffect(() => setPointsText(String(points)), [points]);
  const heading = runIds.length === 0 ? "Compare runs" : `Compare ${runIds.length} run${runIds.length === 1 ? "" : "s"}`;
  useEffect(() => {
    document.title = `${heading} · Keel`;
  }, [heading]);

  const toggleMetric = (key: string, on: boolean) =>
    update((n) => {
      const next = on ? [...chosen, key] : chosen.filter((k) => k !== key);
      n.delete("metric");
      for (const k of next) n.append("metric", k);
      // An explicit empty choice is kept with an empty entry.
      if (next.length === 0) n.append("metric", "");
    });

  return (
    <div className="page compare-page">
      <nav aria-label="Breadcrumb" className="breadcrumbs">
        <Link to="/">Experiments</Link>
        {experimentId && (
          <>
            {" "}
            <span aria-hidden="true">/</span> <Link to={`/experiments/${encodeURIComponent(experimentId)}${selectionQuery(runIds)}`}>{experiment.data?.name ?? `Experiment ${experimentId}`}</Link>
          </>
        )}{" "}
        <span aria-hidden="true">/</span> <span aria-current="page">Compare</span>
      </nav>
      <div className="page-head">
        <h1 tabIndex={-1}>{heading}</h1>
      </div>
      {runIds.length === 0 && (
        <p className="empty" data-testid="compare-hint">
          No runs chosen. Select two or more runs in an experiment's runs table, then choose Compare.
        </p>
      )}
      {runIds.length === 1 && (
        // One run is still worth a look (its charts and values), but say how to add others.
        <p className="muted" data-testid="compare-hint">
          Only one run is selected: there is nothing to compare it with yet.{" "}
          {experimentId ? <Link to={`/experiments/${encodeURIComponent(experimentId)}${selectionQuery(runIds)}`}>Select more runs</Link> : "Select more runs"} in the runs table, then choose
          Compare.
        </p>
      )}
      {q.getAll("run").length > MAX_RUNS && <p className="muted">Showing the first {MAX_RUNS} runs.</p>}
      {failed && <ErrorBanner error={failed.error} what="Cannot load a run" />}
      {!ready && <p className="muted">Loading runs…</p>}

      {runIds.length > 0 && (
        <>
          <section aria-labelledby="runs-h" className="card">
            <h2 id="runs-h">Runs</h2>
            <ul className="legend">
              {refs.map((r) => (
                <li key={r.id}>
                  <span className="swatch" style={{ background: r.color }} aria-hidden="true" />
                  <Link to={`/experiments/${encodeURIComponent(runs.find((x) => x.info.run_id === r.id)?.info.experiment_id ?? "0")}/runs/${encodeURIComponent(r.id)}`}>{r.name}</Link>
                </li>
              ))}
            </ul>
          </section>

          <section aria-labelledby="charts-h" className="card">
            <h2 id="charts-h">Metrics</h2>
            <ChartControls value={settings} onChange={setSettings} />
            <div className="toolbar">
              <form
                className="inline"
                onSubmit={(e) => {
                  e.preventDefault();
                  const n = Math.round(Number(pointsText));
                  if (Number.isFinite(n)) update((p) => p.set("points", String(Math.max(10, Math.min(100_000, n)))));
                }}
              >
                <label className="inline">
                  Points per series{" "}
                  <input
                    type="number"
                    min={10}
                    max={100000}
                    step={10}
                    value={pointsText}
                    disabled={full}
                    onChange={(e) => setPointsText(e.target.value)}
                    onBlur={(e) => e.currentTarget.form?.requestSubmit()}
                  />
                </label>
              </form>
              <label className="check inline">
                <input
                  type="checkbox"
                  checked={full}
                  onChange={(e) => setFlag("full", e.target.checked)}
                />
                Full resolution (every point)
              </label>
            </div>
            {metricKeys.length > 0 && (
              <fieldset className="metric-picker">
                <legend>Charts</legend>
                {metricKeys.map((k) => (
                  <label key={k} className="check">
                    <input type="checkbox" checked={chosen.includes(k)} onChange={(e) => toggleMetric(k, e.target.checked)} />
                    {k}
                  </label>
                ))}
              </fieldset>
            )}
            <div className="chart-grid">
              {refs.length > 0 &&
                chosen.map((k) => <MetricChartCard key={k} metricKey={k} runs={refs} settings={settings} maxPoints={points} fullResolution={full} />)}
            </div>
          </section>

          {runs.length > 1 && (
            <ParallelSection
              runs={runs}
              metricKeys={metricKeys}
              metric={q.get("pc")}
              onMetric={(m) =>
                update((n) => {
                  n.set("pc", m);
                })
              }
            />
          )}

          <section aria-labelledby="diff-h" className="card">
            <h2 id="diff-h">{runIds.length === 1 ? "Values" : "Differences"}</h2>
            {runIds.length > 1 && (
              <label className="check inline">
                <input
                  type="checkbox"
                  checked={onlyDiff}
                  onChange={(e) => setFlag("diff", e.target.checked)}
                />
                Show only rows that differ
              </label>
            )}
            <DiffTable runs={runs} refs={refs} onlyDiff={onlyDiff && runIds.length > 1} />
          </section>
        </>
      )}
    </div>
  );
}

function ParallelSection({ runs, metricKeys, metric, onMetric }: { runs: WireRun[]; metricKeys: string[]; metric: string | null; onMetric(m: string): void }) {
  const pcRuns = useMemo<PcRun[]>(
    () =>
      runs.map((r) => ({
        id: r.info.run_id,
        name: r.info.run_name || r.info.run_id,
        params: new Map((r.data.params ?? []).map((p) => [p.key, p.value])),
        metrics: new Map((r.data.metrics ?? []).map((m) => [m.key, metricNumber(m.value)])),
      })),
    [runs],
  );
  const params = useMemo(() => varyingParams(pcRuns), [pcRuns]);
  const chosen = metric && metricKeys.includes(metric) ? metric : metricKeys[0];
  return (
    <section aria-labelledby="pc-h" className="card">
      <h2 id="pc-h">Parameters → metric</h2>
      <div className="toolbar">
        <label className="inline" htmlFor="pc-metric">
          Metric
        </label>
        <select id="pc-metric" value={chosen ?? ""} onChange={(e) => onMetric(e.target.value)} disabled={!metricKeys.length}>
            {metricKeys.map((k) => (
              <option key={k} value={k}>
                {k}
              </option>
            ))}
        </select>
        <span className="muted">
          {params.length ? `Axes: the params that differ (${params.join(", ")}), then ${chosen ?? "no metric"}; lines colored by the metric, low blue to high orange.` : "These runs have no params."}
        </span>
      </div>
      <ParallelCoordinates runs={pcRuns} params={params} metric={chosen} />
    </section>
  );
}

/** Back to the runs table with the same runs selected. */
function selectionQuery(runIds: string[]): string {
  return runIds.length ? `?${runIds.map((id) => `sel=${encodeURIComponent(id)}`).join("&")}` : "";
}

interface DiffRow {
  section: "Parameters" | "Metrics" | "Tags";
  key: string;
  values: (string | undefined)[];
  differs: boolean;
}

function diffRows(runs: WireRun[]): DiffRow[] {
  const out: DiffRow[] = [];
  const add = (section: DiffRow["section"], get: (r: WireRun) => Map<string, string>) => {
    const maps = runs.map(get);
    const keys = [...new Set(maps.flatMap((m) => [...m.keys()]))].sort();
    for (const key of keys) {
      const values = maps.map((m) => m.get(key));
      out.push({ section, key, values, differs: values.some((v) => v !== values[0]) });
    }
  };
  add("Parameters", (r) => new Map((r.data.params ?? []).map((p) => [p.key, p.value])));
  add("Metrics", (r) => new Map((r.data.metrics ?? []).map((m) => [m.key, formatNumber(metricNumber(m.value))])));
  add("Tags", (r) => new Map((r.data.tags ?? []).filter((t) => !t.key.startsWith("mlflow.")).map((t) => [t.key, t.value])));
  return out;
}

function DiffTable({ runs, refs, onlyDiff }: { runs: WireRun[]; refs: RunRef[]; onlyDiff: boolean }) {
  const rows = useMemo(() => diffRows(runs), [runs]);
  const shown = onlyDiff ? rows.filter((r) => r.differs) : rows;
  const differing = rows.filter((r) => r.differs).length;
  return (
    <div className="diff-wrap">
      <p className="muted">{runs.length === 1 ? `${rows.length} value${rows.length === 1 ? "" : "s"}: the run's params, metrics and tags.` : `${differing} of ${rows.length} values differ between the runs.`}</p>
      <table className="table compact diff-table" data-testid="diff-table">
        <thead>
          <tr>
            <th scope="col">Key</th>
            {refs.map((r) => (
              <th scope="col" key={r.id}>
                <span className="swatch" style={{ background: r.color }} aria-hidden="true" /> {r.name}
              </th>
            ))}
          </tr>
        </thead>
        {(["Parameters", "Metrics", "Tags"] as const).map((section) => {
          const list = shown.filter((r) => r.section === section);
          if (!list.length) return null;
          return (
            <tbody key={section}>
              <tr className="section-row">
                <th scope="rowgroup" colSpan={refs.length + 1}>
                  {section}
                </th>
              </tr>
              {list.map((r) => (
                <tr key={`${section}:${r.key}`} className={r.differs ? "differs" : undefined} data-differs={r.differs ? "true" : "false"}>
                  <th scope="row" className="mono">
                    {r.differs && <span className="visually-hidden">Differs: </span>}
                    {r.key}
                  </th>
                  {r.values.map((v, i) => (
                    <td key={refs[i]?.id ?? i} className="mono">
                      {v ?? <span className="muted">—</span>}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          );
        })}
      </table>
    </div>
  );
}

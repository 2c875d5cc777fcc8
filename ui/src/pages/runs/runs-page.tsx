/**
 * An experiment's runs: server-side filter and sort (MLflow's search language), fetched in pages (the
 * first one small, so rows show at once; the rest in the background), grouped and selected on the client,
 * the whole view kept in the URL.
 */
import type { WireRun } from "@keel/sdk";
import { keepPreviousData, useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { ErrorBanner } from "../../components/error-banner";
import { errorMessage, isNotFound, useClient } from "../../lib/api";
import { formatCount } from "../../lib/format";
import { Link, navigate, useLocation } from "../../lib/router";
import type { KeySets } from "./autocomplete";
import { ColumnChooser } from "./column-chooser";
import { type Column, column, columnId, DEFAULT_ATTRIBUTE_IDS, DEFAULT_SORT, groupValue, NAME_COLUMN_ID, orderByOf, type RunRow, toRow } from "./columns";
import { filterExample } from "./filter-example";
import { FilterInput } from "./filter-input";
import { type GridItem, RunsGrid } from "./runs-grid";
import { parseView, type RunsView, serializeView } from "./view-state";

/** Small first page: its rows paint before the rest of a large experiment has crossed the wire. */
const FIRST_PAGE = 100;
/** Later pages: big enough to load 10,000 runs in a few requests, small enough not to hold the server (or this tab) long. */
const PAGE = 1000;
/** Beyond this, the table asks for a narrower filter instead of holding more in the browser. */
export const MAX_ROWS = 50_000;
const NO_KEYS: KeySets = { metrics: [], params: [], tags: [] };
/** Compare takes up to 100 runs, and the selection lives in the URL: "select all" picks the first 100. */
const MAX_SELECTED = 100;

type RunsPage = { runs?: WireRun[]; next_page_token?: string };
const rowCache = new WeakMap<RunsPage, RunRow[]>();
function rowsOf(page: RunsPage): RunRow[] {
  let rows = rowCache.get(page);
  if (!rows) {
    rows = (page.runs ?? []).map(toRow);
    rowCache.set(page, rows);
  }
  return rows;
}

const keyCache = new WeakMap<RunsPage, KeySets>();
function keysOf(page: RunsPage): KeySets {
  let k = keyCache.get(page);
  if (!k) {
    const m = new Set<string>();
    const p = new Set<string>();
    const t = new Set<string>();
    for (const r of rowsOf(page)) {
      for (const key of r.metrics.keys()) m.add(key);
      for (const key of r.params.keys()) p.add(key);
      for (const key of r.tags.keys()) t.add(key);
    }
    k = { metrics: [...m], params: [...p], tags: [...t] };
    keyCache.set(page, k);
  }
  return k;
}

function union(...lists: string[][]): string[] {
  const s = new Set<string>();
  for (const l of lists) for (const x of l) s.add(x);
  return [...s].sort((a, b) => a.localeCompare(b));
}

export function RunsPage({ experimentId }: { experimentId: string }) {
  const client = useClient();
  const { pathname, search } = useLocation();
  const view = useMemo(() => parseView(search), [search]);
  const viewRef = useRef(view);
  viewRef.current = view;
  const setView = useCallback(
    (change: Partial<RunsView>, opts: { replace?: boolean } = {}) => navigate(pathname + serializeView({ ...viewRef.current, ...change }), opts),
    [pathname],
  );

  const experiment = useQuery({ queryKey: ["experiment", experimentId], queryFn: ({ signal }) => client.getExperiment(experimentId, { signal }) });

  const sortCol = column(view.sort.col) ?? column(DEFAULT_SORT.col)!;
  const orderBy = orderByOf(sortCol, view.sort.desc) ?? "attributes.start_time DESC";
  const runs = useInfiniteQuery({
    queryKey: ["runs", experimentId, view.filter, orderBy],
    queryFn: ({ pageParam, signal }) =>
      client.searchRuns({
        experimentIds: [experimentId],
        filter: view.filter || undefined,
        orderBy: [orderBy],
        maxResults: pageParam ? PAGE : FIRST_PAGE,
        pageToken: pageParam || undefined,
        signal,
      }),
    initialPageParam: "",
    getNextPageParam: (last) => last.next_page_token || undefined,
    placeholderData: keepPreviousData,
    staleTime: 15_000,
    retry: false,
  });

  const runsLoaded = runs.data !== undefined || runs.isError;
  const keysQuery = useQuery({
    queryKey: ["keys", experimentId],
    queryFn: ({ signal }) => client.experimentKeys([experimentId], { signal }),
    staleTime: 30_000,
    // After the first page: nothing competes with the first rows for the server, and until then the page's
    // own keys fill the columns.
    enabled: runsLoaded,
  });

  const pages = runs.data?.pages;
  const rows = useMemo(() => (pages ?? []).flatMap(rowsOf), [pages]);
  const { hasNextPage, isFetchingNextPage, fetchNextPage, isPlaceholderData, isError } = runs;
  useEffect(() => {
    if (hasNextPage && !isFetchingNextPage && !isPlaceholderData && !isError && rows.length < MAX_ROWS) void fetchNextPage();
  }, [hasNextPage, isFetchingNextPage, isPlaceholderData, isError, rows.length, fetchNextPage]);

  // The same keys as before keep the same object, so columns (and every rendered row) stay put as pages arrive.
  const keysRef = useRef<KeySets>(NO_KEYS);
  const keys = useMemo<KeySets>(() => {
    const fromPages = (pages ?? []).map(keysOf);
    const k = keysQuery.data ?? NO_KEYS;
    const next = {
      metrics: union(k.metrics, ...fromPages.map((p) => p.metrics)),
      params: union(k.params, ...fromPages.map((p) => p.params)),
      tags: union(k.tags, ...fromPages.map((p) => p.tags)),
    };
    const prev = keysRef.current;
    const same = (a: string[], b: string[]) => a.length === b.length && a.every((x, i) => x === b[i]);
    if (same(prev.metrics, next.metrics) && same(prev.params, next.params) && same(prev.tags, next.tags)) return prev;
    keysRef.current = next;
    return next;
  }, [pages, keysQuery.data]);

  const defaultCols = useMemo(
    () => [...DEFAULT_ATTRIBUTE_IDS, ...keys.metrics.map((k) => columnId("metric", k)), ...keys.params.map((k) => columnId("param", k))],
    [keys],
  );
  const colIds = view.cols ?? defaultCols;
  const columns = useMemo(() => colIds.map(column).filter((c): c is Column => c !== undefined && c.id !== NAME_COLUMN_ID), [colIds]);
  const nameColumn = column(NAME_COLUMN_ID)!;

  const [collapsed, setCollapsed] = useState<ReadonlySet<string>>(new Set());
  const groupCol = view.group ? column(view.group) : undefined;
  const items = useMemo<GridItem[]>(() => {
    if (!groupCol) return rows.map((row) => ({ kind: "run", row }));
    // Groups in order of their first run, so the sort decides which group comes first.
    const groups = new Map<string, RunRow[]>();
    for (const r of rows) {
      const v = groupValue(r, groupCol) ?? "\u0000";
      const g = groups.get(v);
      if (g) g.push(r);
      else groups.set(v, [r]);
    }
    const out: GridItem[] = [];
    for (const [v, members] of groups) {
      const label = v === "\u0000" ? `${groupCol.label}: (not set)` : `${groupCol.label} = ${v}`;
      const isCollapsed = collapsed.has(v);
      out.push({ kind: "group", id: v, label, count: members.length, collapsed: isCollapsed });
      if (!isCollapsed) for (const row of members) out.push({ kind: "run", row });
    }
    return out;
  }, [rows, groupCol, collapsed]);

  const selected = useMemo(() => new Set(view.selected), [view.selected]);
  const onToggle = useCallback(
    (id: string) => {
      const cur = viewRef.current.selected;
      setView({ selected: cur.includes(id) ? cur.filter((x) => x !== id) : [...cur, id] }, { replace: true });
    },
    [setView],
  );
  const rowsRef = useRef(rows);
  rowsRef.current = rows;
  const onToggleAll = useCallback(
    (on: boolean) => setView({ selected: on ? rowsRef.current.slice(0, MAX_SELECTED).map((r) => r.id) : [] }, { replace: true }),
    [setView],
  );
  const onSort = useCallback(
    (c: Column) => {
      const cur = viewRef.current.sort;
      setView({ sort: { col: c.id, desc: cur.col === c.id ? !cur.desc : true } });
    },
    [setView],
  );
  const onToggleGroup = useCallback((id: string) => {
    setCollapsed((prev) => {
      const next = new Set(prev);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  }, []);

  const filterPlaceholder = useMemo(() => filterExample(keys, rows), [keys, rows]);

  const exp = experiment.data;
  const missing = experiment.isError && isNotFound(experiment.error);
  useEffect(() => {
    document.title = exp ? `${exp.name} · Keel` : missing ? "Experiment not found · Keel" : "Runs · Keel";
  }, [exp, missing]);

  const loading = runs.isPending || (runs.isFetching && !isFetchingNextPage && !hasNextPage && rows.length === 0);
  const complete = !hasNextPage && !runs.isFetching && !isPlaceholderData;
  const compareHref = `/compare?exp=${encodeURIComponent(experimentId)}${view.selected.map((id) => `&run=${encodeURIComponent(id)}`).join("")}`;

  // No such experiment: nothing below (filter, columns, "no runs yet") would mean anything.
  if (missing) {
    return (
      <div className="page" data-testid="experiment-not-found">
        <nav aria-label="Breadcrumb" className="breadcrumbs">
          <Link to="/">Experiments</Link>
        </nav>
        <h1 tabIndex={-1}>Experiment not found</h1>
        <p>
          There is no experiment with ID <code>{experimentId}</code>. It may have been deleted for good, or the address is mistyped.
        </p>
        <p>
          <Link to="/">Back to the experiments</Link>
        </p>
      </div>
    );
  }

  return (
    <div className="page runs-page">
      <nav aria-label="Breadcrumb" className="breadcrumbs">
        <Link to="/">Experiments</Link> <span aria-hidden="true">/</span> <span aria-current="page">{exp?.name ?? experimentId}</span>
      </nav>
      <div className="page-head">
        <h1 tabIndex={-1}>{exp?.name ?? "Experiment"}</h1>
        {exp?.lifecycle_stage === "deleted" && <span className="badge warn">deleted</span>}
        <p className="muted count" aria-live="polite" data-testid="runs-count" data-complete={complete ? "true" : "false"}>
          {runs.isError ? "" : loading ? "Loading runs…" : isPlaceholderData ? "Searching…" : `${formatCount(rows.length)} run${rows.length === 1 ? "" : "s"}${hasNextPage ? (rows.length >= MAX_ROWS ? " (more match: narrow the filter)" : " (loading more…)") : ""}`}
        </p>
      </div>
      {experiment.isError && <ErrorBanner error={experiment.error} />}
      <div className="toolbar">
        <FilterInput value={view.filter} keys={keys} placeholder={filterPlaceholder} onApply={(filter) => setView({ filter })} />
      </div>
      <div className="toolbar">
        <label className="inline">
          Group by{" "}
          <select value={view.group ?? ""} onChange={(e) => setView({ group: e.target.value || undefined })}>
            <option value="">(none)</option>
            <optgroup label="Attributes">
              <option value="attr:status">Status</option>
              <option value="attr:user_id">User</option>
            </optgroup>
            {keys.params.length > 0 && (
              <optgroup label="Parameters">
                {keys.params.map((k) => (
                  <option key={k} value={columnId("param", k)}>
                    {k}
                  </option>
                ))}
              </optgroup>
            )}
            {keys.tags.length > 0 && (
              <optgroup label="Tags">
                {keys.tags.map((k) => (
                  <option key={k} value={columnId("tag", k)}>
                    {k}
                  </option>
                ))}
              </optgroup>
            )}
          </select>
        </label>
        <ColumnChooser keys={keys} shown={colIds} isDefault={view.cols === undefined} onChange={(cols) => setView({ cols })} />
        <span className="grow" />
        <span className="muted" aria-live="polite">
          {view.selected.length ? `${view.selected.length} selected` : ""}
        </span>
        {view.selected.length > 0 && (
          <button type="button" className="secondary" onClick={() => setView({ selected: [] }, { replace: true })}>
            Clear selection
          </button>
        )}
        {view.selected.length >= 2 ? (
          <Link to={compareHref} className="button">
            Compare {view.selected.length} runs
          </Link>
        ) : (
          <button type="button" disabled title="Select two or more runs to compare">
            Compare
          </button>
        )}
      </div>
      {runs.isError ? (
        <div role="alert" className="error-banner" data-testid="runs-error">
          <strong>Cannot search runs:</strong> {errorMessage(runs.error)}
        </div>
      ) : !loading && rows.length === 0 ? (
        // Not before the experiment is known: an id that names none gets the not-found page, not "no runs yet".
        experiment.isPending ? null : (
          <div className="empty">
            {view.filter ? (
              <p>No runs match this filter.</p>
            ) : (
              <p>
                No runs yet. Log one with the MLflow client (<code>MLFLOW_TRACKING_URI={window.location.origin}</code>) or <code>keel runs</code>.
              </p>
            )}
          </div>
        )
      ) : (
        <RunsGrid
          items={items}
          columns={columns}
          nameColumn={nameColumn}
          sort={view.sort}
          onSort={onSort}
          selected={selected}
          onToggle={onToggle}
          onToggleAll={onToggleAll}
          onToggleGroup={onToggleGroup}
          experimentId={experimentId}
          label={`Runs of ${exp?.name ?? `experiment ${experimentId}`}`}
        />
      )}
    </div>
  );
}

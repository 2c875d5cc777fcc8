/** Registered models: search by name (on the server), newest changes first, with each model's latest version and aliases. */
import { filterString } from "@keel/sdk";
import { keepPreviousData, useInfiniteQuery } from "@tanstack/react-query";
import { useEffect, useMemo, useState } from "react";
import { ErrorBanner } from "../../components/error-banner";
import { useClient } from "../../lib/api";
import { formatAgo, formatTime } from "../../lib/format";
import { Link, navigate, useLocation } from "../../lib/router";
import { paths } from "../../lib/routes";
import { useDebounced } from "../../lib/use-debounced";
import { ListFooter } from "../../components/list-footer";
import { TableHead } from "../../components/table-head";

const PAGE = 100;

export default function ModelsPage() {
  const client = useClient();
  const { pathname, search } = useLocation();
  const [q, setQ] = useState(() => new URLSearchParams(search).get("q") ?? "");
  const query = useDebounced(q.trim(), 250);

  useEffect(() => {
    document.title = "Models · Keel";
  }, []);
  useEffect(() => {
    navigate(`${pathname}${query ? `?q=${encodeURIComponent(query)}` : ""}`, { replace: true });
  }, [query, pathname]);

  const list = useInfiniteQuery({
    queryKey: ["models", query],
    queryFn: ({ pageParam, signal }) =>
      client.searchRegisteredModels({
        filter: query ? `name ILIKE ${filterString(`%${query}%`)}` : undefined,
        orderBy: ["last_updated_timestamp DESC"],
        maxResults: PAGE,
        pageToken: pageParam || undefined,
        signal,
      }),
    initialPageParam: "",
    getNextPageParam: (last) => last.next_page_token || undefined,
    placeholderData: keepPreviousData,
  });
  const models = useMemo(() => (list.data?.pages ?? []).flatMap((p) => p.registered_models ?? []), [list.data]);

  return (
    <div className="page">
      <div className="page-head">
        <h1 tabIndex={-1}>Models</h1>
      </div>
      <p className="muted">Models are registered from a run's artifacts: open a run and choose “Register a model from this run”, or use the MLflow client.</p>
      <div className="toolbar">
        <label className="inline">
          <span className="visually-hidden">Search models by name</span>
          <input type="search" className="search-input" placeholder="Search models by name" value={q} onChange={(e) => setQ(e.target.value)} />
        </label>
      </div>
      {list.isError && <ErrorBanner error={list.error} what="Cannot list models" />}
      <div className="table-scroll">
        <table className="table" data-testid="models-table">
          <TableHead columns={["Name", "Latest version", "Aliases", "Description", "Last updated"]} />
          <tbody>
            {models.map((m) => {
              const latest = [...(m.latest_versions ?? [])].sort((a, b) => Number(b.version) - Number(a.version))[0];
              return (
                <tr key={m.name} data-model={m.name}>
                  <td>
                    <Link to={paths.model(m.name)}>{m.name}</Link>
                  </td>
                  <td>{latest ? <Link to={paths.model(m.name, latest.version)}>version {latest.version}</Link> : <span className="muted">none</span>}</td>
                  <td>
                    {(m.aliases ?? []).map((a) => (
                      <Link key={a.alias} to={paths.model(m.name, a.version)} className="badge alias">
                        @{a.alias} → v{a.version}
                      </Link>
                    ))}
                  </td>
                  <td className="wrap">{m.description}</td>
                  <td title={formatTime(m.last_updated_timestamp)}>{formatAgo(m.last_updated_timestamp)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <ListFooter list={list} count={models.length} empty={query ? "No models match." : "No registered models yet."} />
    </div>
  );
}

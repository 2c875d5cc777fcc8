/** Experiments: search by name, create, rename, delete and restore (with a "show deleted" switch). */
import type { Experiment } from "@keel/sdk";
import { filterString } from "@keel/sdk";
import { keepPreviousData, useInfiniteQuery, useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useEffect, useMemo, useState } from "react";
import { ErrorBanner } from "../components/error-banner";
import { useClient } from "../lib/api";
import { formatAgo, formatTime } from "../lib/format";
import { Link, navigate, useLocation } from "../lib/router";
import { useDebounced } from "../lib/use-debounced";
import { ListFooter } from "../components/list-footer";
import { TableHead } from "../components/table-head";

const PAGE = 200;

export function ExperimentsPage() {
  const client = useClient();
  const qc = useQueryClient();
  const { pathname, search } = useLocation();
  const params = useMemo(() => new URLSearchParams(search), [search]);
  const showDeleted = params.get("deleted") === "1";
  const [q, setQ] = useState(params.get("q") ?? "");
  const query = useDebounced(q.trim(), 250);

  useEffect(() => {
    document.title = "Experiments · Keel";
  }, []);
  useEffect(() => {
    const next = new URLSearchParams();
    if (query) next.set("q", query);
    if (showDeleted) next.set("deleted", "1");
    const s = next.toString();
    navigate(`${pathname}${s ? `?${s}` : ""}`, { replace: true });
  }, [query, showDeleted, pathname]);

  const list = useInfiniteQuery({
    queryKey: ["experiments", query, showDeleted],
    queryFn: ({ pageParam, signal }) =>
      client.searchExperiments({
        filter: query ? `name ILIKE ${filterString(`%${query}%`)}` : undefined,
        orderBy: ["last_update_time DESC"],
        viewType: showDeleted ? "ALL" : "ACTIVE_ONLY",
        maxResults: PAGE,
        pageToken: pageParam || undefined,
        signal,
      }),
    initialPageParam: "",
    getNextPageParam: (last) => last.next_page_token || undefined,
    // The old list stays until the new one arrives (no flash of an empty table while typing).
    placeholderData: keepPreviousData,
  });
  const experiments = useMemo(() => (list.data?.pages ?? []).flatMap((p) => p.experiments ?? []), [list.data]);
  const refresh = () => qc.invalidateQueries({ queryKey: ["experiments"] });

  return (
    <div className="page">
      <div className="page-head">
        <h1 tabIndex={-1}>Experiments</h1>
      </div>
      <CreateExperiment onCreated={refresh} />
      <div className="toolbar">
        <label className="inline">
          <span className="visually-hidden">Search experiments by name</span>
          <input type="search" className="search-input" placeholder="Search experiments by name" value={q} onChange={(e) => setQ(e.target.value)} />
        </label>
        <label className="check inline">
          <input
            type="checkbox"
            checked={showDeleted}
            onChange={(e) => {
              const next = new URLSearchParams(search);
              if (e.target.checked) next.set("deleted", "1");
              else next.delete("deleted");
              const s = next.toString();
              navigate(`${pathname}${s ? `?${s}` : ""}`, { replace: true });
            }}
          />
          Show deleted
        </label>
      </div>
      {list.isError && <ErrorBanner error={list.error} what="Cannot list experiments" />}
      <div className="table-scroll">
        <table className="table experiments-table">
          <TableHead columns={["Name", "ID", "Created", "Last updated"]} actions />
          <tbody>
            {experiments.map((e) => (
              <ExperimentRow key={e.experiment_id} experiment={e} onChanged={refresh} />
            ))}
          </tbody>
        </table>
      </div>
      <ListFooter list={list} count={experiments.length} empty={query ? "No experiments match." : "No experiments yet."} />
    </div>
  );
}

function CreateExperiment({ onCreated }: { onCreated(): void }) {
  const client = useClient();
  const [name, setName] = useState("");
  const create = useMutation({
    mutationFn: (n: string) => client.createExperiment(n),
    onSuccess: () => {
      setName("");
      onCreated();
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (name.trim()) create.mutate(name.trim());
  };
  return (
    <form className="toolbar" onSubmit={submit} aria-label="Create experiment">
      <label className="inline">
        <span className="visually-hidden">New experiment name</span>
        <input type="text" placeholder="New experiment name" value={name} onChange={(e) => setName(e.target.value)} />
      </label>
      <button type="submit" disabled={!name.trim() || create.isPending}>
        Create experiment
      </button>
      {create.isError && <ErrorBanner error={create.error} what="Cannot create the experiment" />}
    </form>
  );
}

function ExperimentRow({ experiment: e, onChanged }: { experiment: Experiment; onChanged(): void }) {
  const client = useClient();
  const [mode, setMode] = useState<"view" | "rename" | "confirm-delete">("view");
  const [name, setName] = useState(e.name);
  const deleted = e.lifecycle_stage === "deleted";
  const act = useMutation({
    mutationFn: async (what: "rename" | "delete" | "restore") => {
      if (what === "rename") await client.renameExperiment(e.experiment_id, name.trim());
      else if (what === "delete") await client.deleteExperiment(e.experiment_id);
      else await client.restoreExperiment(e.experiment_id);
    },
    onSuccess: () => {
      setMode("view");
      onChanged();
    },
  });
  return (
    <tr className={deleted ? "deleted" : undefined} data-experiment-id={e.experiment_id}>
      <td>
        {mode === "rename" ? (
          <form
            className="inline-form"
            onSubmit={(ev) => {
              ev.preventDefault();
              if (name.trim() && name.trim() !== e.name) act.mutate("rename");
              else setMode("view");
            }}
          >
            <label>
              <span className="visually-hidden">New name for {e.name}</span>
              <input
                type="text"
                value={name}
                onChange={(ev) => setName(ev.target.value)}
                // biome-ignore lint/a11y/noAutofocus: the user just asked to rename this row
                autoFocus
                onKeyDown={(ev) => {
                  if (ev.key === "Escape") {
                    setName(e.name);
                    setMode("view");
                  }
                }}
              />
            </label>
            <button type="submit" disabled={act.isPending}>
              Save
            </button>
            <button
              type="button"
              className="secondary"
              onClick={() => {
                setName(e.name);
                setMode("view");
              }}
            >
              Cancel
            </button>
          </form>
        ) : deleted ? (
          <span>{e.name}</span>
        ) : (
          <Link to={`/experiments/${encodeURIComponent(e.experiment_id)}`}>{e.name}</Link>
        )}
        {deleted && <span className="badge warn">deleted</span>}
        {act.isError && <ErrorBanner error={act.error} />}
      </td>
      <td className="mono">{e.experiment_id}</td>
      <td>{formatTime(e.creation_time)}</td>
      <td title={formatTime(e.last_update_time)}>{formatAgo(e.last_update_time)}</td>
      <td className="actions">
        {deleted ? (
          <button type="button" className="secondary" onClick={() => act.mutate("restore")} disabled={act.isPending}>
            Restore <span className="visually-hidden">{e.name}</span>
          </button>
        ) : mode === "confirm-delete" ? (
          <>
            <span>Delete “{e.name}” and its runs?</span>{" "}
            <button type="button" className="danger" onClick={() => act.mutate("delete")} disabled={act.isPending}>
              Confirm delete
            </button>{" "}
            <button type="button" className="secondary" onClick={() => setMode("view")}>
              Cancel
            </button>
          </>
        ) : mode === "view" ? (
          <>
            <button type="button" className="secondary" onClick={() => setMode("rename")}>
              Rename <span className="visually-hidden">{e.name}</span>
            </button>{" "}
            <button type="button" className="secondary" onClick={() => setMode("confirm-delete")}>
              Delete <span className="visually-hidden">{e.name}</span>
            </button>
          </>
        ) : null}
      </td>
    </tr>
  );
}

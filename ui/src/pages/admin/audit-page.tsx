/**
 * The audit trail: every change, who made it and when, filtered by actor, action, object and time (the
 * filters live in the address), oldest first as the chain is kept; "Verify chain" re-hashes the whole
 * chain on the server and reports the first broken record.
 */
import type { AuditRecord } from "@keel/sdk";
import { useInfiniteQuery, useMutation } from "@tanstack/react-query";
import { type FormEvent, useEffect, useMemo, useState } from "react";
import { ErrorBanner } from "../../components/error-banner";
import { useClient } from "../../lib/api";
import { formatCount, formatTime } from "../../lib/format";
import { Link, navigate, useLocation } from "../../lib/router";
import { paths } from "../../lib/routes";
import { ListFooter } from "../../components/list-footer";

const PAGE = 200;
const FIELDS = ["actor", "action", "resource", "from", "to"] as const;
type Field = (typeof FIELDS)[number];

/** `<input type="datetime-local">` value (local time) ↔ epoch ms. */
function toMs(local: string): number | undefined {
  if (!local) return undefined;
  const t = new Date(local).getTime();
  return Number.isFinite(t) ? t : undefined;
}

export default function AuditPage() {
  const client = useClient();
  const { pathname, search } = useLocation();
  const q = useMemo(() => new URLSearchParams(search), [search]);
  const applied = Object.fromEntries(FIELDS.map((f) => [f, q.get(f) ?? ""])) as Record<Field, string>;
  const [form, setForm] = useState(applied);
  const appliedKey = JSON.stringify(applied);
  // biome-ignore lint/correctness/useExhaustiveDependencies: the form follows the address (back/forward), keyed by its JSON
  useEffect(() => setForm(applied), [appliedKey]);
  useEffect(() => {
    document.title = "Audit log · Keel";
  }, []);

  const filter = {
    actor: applied.actor || undefined,
    action: applied.action || undefined,
    resource: applied.resource || undefined,
    since: toMs(applied.from),
    until: toMs(applied.to),
  };
  const list = useInfiniteQuery({
    queryKey: ["audit", filter],
    // Newest first: what an admin opens the log for is what just happened.
    queryFn: ({ pageParam, signal }) => client.audit({ ...filter, order: "desc", before: pageParam, limit: PAGE, signal }),
    initialPageParam: undefined as number | undefined,
    getNextPageParam: (last) => last.next_before,
  });
  const records = useMemo(() => (list.data?.pages ?? []).flatMap((p) => p.records), [list.data]);
  const verify = useMutation({ mutationFn: () => client.verifyAudit() });

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const next = new URLSearchParams();
    for (const f of FIELDS) if (form[f].trim()) next.set(f, form[f].trim());
    const s = next.toString();
    navigate(`${pathname}${s ? `?${s}` : ""}`, { replace: true });
  };
  const field = (f: Field, label: string, extra: React.InputHTMLAttributes<HTMLInputElement> = {}) => (
    <label className="inline">
      {label}
      <input type="text" value={form[f]} onChange={(e) => setForm((v) => ({ ...v, [f]: e.target.value }))} {...extra} />
    </label>
  );

  return (
    <div className="page audit-page">
      <nav aria-label="Breadcrumb" className="breadcrumbs">
        <Link to={paths.admin()}>Administration</Link> <span aria-hidden="true">/</span> <span aria-current="page">Audit log</span>
      </nav>
      <div className="page-head">
        <h1 tabIndex={-1}>Audit log</h1>
        <button type="button" className="secondary" onClick={() => verify.mutate()} disabled={verify.isPending}>
          {verify.isPending ? "Verifying…" : "Verify chain"}
        </button>
      </div>
      {verify.data && (
        <p role="status" className={verify.data.ok ? "verify ok" : "verify broken"} data-testid="verify-result">
          {verify.data.ok
            ? `Chain intact: ${formatCount(verify.data.checked)} records checked.`
            : `Chain broken at record #${verify.data.problem?.seq}: ${verify.data.problem?.reason} (${formatCount(verify.data.checked)} records checked).`}
        </p>
      )}
      {verify.isError && <ErrorBanner error={verify.error} what="Cannot verify the chain" />}
      <form className="toolbar" onSubmit={submit} aria-label="Filter the audit log">
        {field("actor", "Actor", { placeholder: "username" })}
        {field("action", "Action", { placeholder: "POST /runs/* or exact" })}
        {field("resource", "Object", { placeholder: "run:<id>, registered_model:*" })}
        {field("from", "From", { type: "datetime-local", step: 1 })}
        {field("to", "To", { type: "datetime-local", step: 1 })}
        <button type="submit">Apply filters</button>
        <button
          type="button"
          className="secondary"
          onClick={() => {
            setForm(Object.fromEntries(FIELDS.map((f) => [f, ""])) as Record<Field, string>);
            navigate(pathname, { replace: true });
          }}
        >
          Clear
        </button>
      </form>
      <p className="muted">A trailing * matches a prefix (action “POST /registered-models/*”, object “run:*”). Oldest first.</p>
      {list.isError && <ErrorBanner error={list.error} what="Cannot read the audit log" />}
      <table className="table compact audit-table" data-testid="audit-table">
        <thead>
          <tr>
            <th scope="col" className="num">
              #
            </th>
            <th scope="col">When</th>
            <th scope="col">Actor</th>
            <th scope="col">Action</th>
            <th scope="col">Object</th>
            <th scope="col">Details</th>
          </tr>
        </thead>
        <tbody>
          {records.map((r) => (
            <AuditRow key={r.seq} r={r} />
          ))}
        </tbody>
      </table>
      <ListFooter list={list} count={records.length} empty="No audit records match." more="Load older" />
    </div>
  );
}

function AuditRow({ r }: { r: AuditRecord }) {
  const summary = r.summary === null || r.summary === undefined ? "" : JSON.stringify(r.summary);
  return (
    <tr data-seq={r.seq}>
      <td className="num mono">{r.seq}</td>
      <td>{formatTime(r.time)}</td>
      <td>{r.actor}</td>
      <td className="mono">{r.action}</td>
      <td className="mono wrap">{r.resource}</td>
      <td className="mono wrap audit-summary" title={r.request_id ? `request ${r.request_id}` : undefined}>
        {summary.length > 160 ? (
          <details>
            <summary>{summary.slice(0, 120)}…</summary>
            <pre className="preview-text">{JSON.stringify(r.summary, null, 2)}</pre>
          </details>
        ) : (
          summary
        )}
      </td>
    </tr>
  );
}

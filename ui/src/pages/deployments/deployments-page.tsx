/** Deployments: what each serves (variants, versions, traffic shares) and whether it is ready. */
import type { Deployment } from "@keel/sdk";
import { useQuery } from "@tanstack/react-query";
import { useEffect } from "react";
import { ErrorBanner } from "../../components/error-banner";
import { useClient } from "../../lib/api";
import { formatAgo, formatTime } from "../../lib/format";
import { Link } from "../../lib/router";
import { paths } from "../../lib/routes";
import { trafficShare } from "./traffic";
import { TableHead } from "../../components/table-head";

export default function DeploymentsPage() {
  const client = useClient();
  const list = useQuery({ queryKey: ["deployments"], queryFn: ({ signal }) => client.listDeployments({ signal }), refetchInterval: 10_000 });
  useEffect(() => {
    document.title = "Deployments · Keel";
  }, []);
  const deployments = [...(list.data ?? [])].sort((a, b) => a.name.localeCompare(b.name));
  return (
    <div className="page">
      <div className="page-head">
        <h1 tabIndex={-1}>Deployments</h1>
      </div>
      <p className="muted">
        A deployment serves registered model versions over the Open Inference Protocol (<code>/v2/models/&lt;name&gt;/infer</code>) and MLflow scoring. Create one with{" "}
        <code>keel deploy</code> or the API.
      </p>
      {list.isError && <ErrorBanner error={list.error} what="Cannot list deployments" />}
      {list.isPending && <p className="muted">Loading…</p>}
      {list.data && deployments.length === 0 && <p className="empty">No deployments yet.</p>}
      {deployments.length > 0 && (
        <div className="table-scroll">
          <table className="table" data-testid="deployments-table">
            <TableHead columns={["Name", "Variants", "Status", "Created by", "Last changed"]} />
            <tbody>
              {deployments.map((d) => (
                <DeploymentRow key={d.name} d={d} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

function DeploymentRow({ d }: { d: Deployment }) {
  const share = trafficShare(d.variants);
  const ready = d.variants.filter((v) => v.ready).length;
  return (
    <tr data-deployment={d.name}>
      <td>
        <Link to={paths.deployment(d.name)}>{d.name}</Link>
      </td>
      <td>
        <ul className="plain">
          {d.variants.map((v) => (
            <li key={v.name} data-variant={v.name}>
              <span className="mono">{v.name}</span>: <Link to={paths.model(v.model, v.version)}>{v.model}</Link>
              {v.alias ? <span className="muted"> @{v.alias}</span> : null}
              {v.version ? <span> v{v.version}</span> : null}
              <span className="muted"> · {v.shadow ? "shadow" : `${Math.round((share.get(v.name) ?? 0) * 100)}% of traffic`}</span>
            </li>
          ))}
        </ul>
      </td>
      <td>
        {ready === d.variants.length ? <span className="badge ok">ready</span> : <span className="badge warn">{ready} of {d.variants.length} variants ready</span>}
      </td>
      <td>{d.created_by}</td>
      <td title={formatTime(d.last_updated_time)}>{formatAgo(d.last_updated_time)}</td>
    </tr>
  );
}

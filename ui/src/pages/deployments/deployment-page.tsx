/** One deployment: its variants and traffic weights (editable), live numbers, and the shadow comparison when it has a shadow. */
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect } from "react";
import { ErrorBanner } from "../../components/error-banner";
import { useClient } from "../../lib/api";
import { formatAgo, formatTime } from "../../lib/format";
import { Link } from "../../lib/router";
import { paths } from "../../lib/routes";
import { LivePanel } from "./live-panel";
import { ShadowPanel } from "./shadow-panel";
import { VariantsCard } from "./variants-card";

export default function DeploymentPage({ name }: { name: string }) {
  const client = useClient();
  const qc = useQueryClient();
  const d = useQuery({ queryKey: ["deployment", name], queryFn: ({ signal }) => client.getDeployment(name, { signal }), refetchInterval: 10_000 });
  useEffect(() => {
    document.title = `${name} · Deployments · Keel`;
  }, [name]);
  const dep = d.data;
  return (
    <div className="page deployment-page">
      <nav aria-label="Breadcrumb" className="breadcrumbs">
        <Link to={paths.deployments()}>Deployments</Link> <span aria-hidden="true">/</span> <span aria-current="page">{name}</span>
      </nav>
      <div className="page-head">
        <h1 tabIndex={-1}>{name}</h1>
        {dep && (
          <span className="muted" title={formatTime(dep.last_updated_time)}>
            created by {dep.created_by}, changed {formatAgo(dep.last_updated_time)}
          </span>
        )}
      </div>
      {d.isError && <ErrorBanner error={d.error} what="Cannot load the deployment" />}
      {dep && (
        <>
          <p className="muted">
            Open Inference Protocol: <code>POST /v2/models/{name}/infer</code> · MLflow scoring: <code>POST /api/keel/v1/deployments/{name}/invocations</code>
          </p>
          <VariantsCard
            deployment={dep}
            onSaved={(next) => {
              qc.setQueryData(["deployment", name], next);
              void qc.invalidateQueries({ queryKey: ["deployments"] });
            }}
          />
          <LivePanel name={name} variants={dep.variants.filter((v) => !v.shadow).map((v) => v.name)} />
          {dep.spec.shadow && <ShadowPanel name={name} shadow={dep.spec.shadow.variant} fraction={dep.spec.shadow.fraction ?? 1} />}
        </>
      )}
    </div>
  );
}

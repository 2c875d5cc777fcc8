/**
 * A registered model: its versions (stage, source run, aliases, where deployed), aliases with edit controls,
 * tags, and the chosen version's details (`?version=N`, the newest by default).
 */
import type { ModelVersion } from "@keel/sdk";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect } from "react";
import { ErrorBanner } from "../../components/error-banner";
import { TagsEditor } from "../../components/tags-editor";
import { useClient } from "../../lib/api";
import { formatAgo, formatTime } from "../../lib/format";
import { Link, useLocation } from "../../lib/router";
import { paths } from "../../lib/routes";
import { servingDeployments } from "../../lib/serving";
import { AliasesCard } from "./aliases-card";
import { VersionDetail } from "./version-detail";
import { TableHead } from "../../components/table-head";

export default function ModelPage({ name }: { name: string }) {
  const client = useClient();
  const qc = useQueryClient();
  const { search } = useLocation();
  const model = useQuery({ queryKey: ["model", name], queryFn: ({ signal }) => client.getRegisteredModel(name, { signal }) });
  const versions = useQuery({ queryKey: ["model-versions", name], queryFn: ({ signal }) => client.modelVersions(name, { signal }) });
  const deployments = useQuery({ queryKey: ["deployments"], queryFn: ({ signal }) => client.listDeployments({ signal }) });
  const refresh = () => {
    for (const key of ["model", "model-versions", "models", "version-lineage", "run-lineage"]) void qc.invalidateQueries({ queryKey: [key] });
  };

  useEffect(() => {
    document.title = `${name} · Models · Keel`;
  }, [name]);

  const list: ModelVersion[] = versions.data ?? [];
  const wanted = new URLSearchParams(search).get("version");
  const chosen = list.find((v) => v.version === wanted) ?? list.at(-1);
  const aliases = model.data?.aliases ?? [];
  const aliasesOf = (version: string) => aliases.filter((a) => a.version === version).map((a) => a.alias);

  return (
    <div className="page model-page">
      <nav aria-label="Breadcrumb" className="breadcrumbs">
        <Link to={paths.models()}>Models</Link> <span aria-hidden="true">/</span> <span aria-current="page">{name}</span>
      </nav>
      <div className="page-head">
        <h1 tabIndex={-1}>{name}</h1>
        {model.data && <span className="muted">updated {formatAgo(model.data.last_updated_timestamp)}</span>}
      </div>
      {model.isError && <ErrorBanner error={model.error} what="Cannot load the model" />}
      {model.data?.description && <p className="wrap">{model.data.description}</p>}

      {!model.isError && (
        <section aria-labelledby="versions-h" className="card">
          <h2 id="versions-h">Versions ({list.length})</h2>
          {versions.isError && <ErrorBanner error={versions.error} what="Cannot list the versions" />}
          {versions.data && list.length === 0 && <p className="muted">No versions yet.</p>}
          {list.length > 0 && (
            <table className="table compact" data-testid="versions-table">
              <TableHead columns={["Version", "Stage", "Status", "Aliases", "Source run", "Deployed in", "Registered"]} />
              <tbody>
                {[...list].reverse().map((v) => (
                  <tr key={v.version} data-version={v.version} className={chosen?.version === v.version ? "current" : undefined}>
                    <td>
                      <Link to={paths.model(name, v.version)} aria-current={chosen?.version === v.version ? "true" : undefined}>
                        Version {v.version}
                      </Link>
                    </td>
                    <td>{v.current_stage}</td>
                    <td>{v.status}</td>
                    <td>
                      {aliasesOf(v.version).map((a) => (
                        <span key={a} className="badge alias">
                          @{a}
                        </span>
                      ))}
                    </td>
                    <td>{v.run_id ? <Link to={paths.runById(v.run_id)} className="mono">{v.run_id.slice(0, 12)}</Link> : <span className="muted">—</span>}</td>
                    <td>
                      {servingDeployments(deployments.data, name, v.version).map((s) => (
                        <Link key={`${s.deployment}/${s.variant}`} to={paths.deployment(s.deployment)} className="chip">
                          {s.deployment}
                          {s.shadow ? " (shadow)" : ""}
                        </Link>
                      ))}
                    </td>
                    <td title={formatTime(v.creation_timestamp)}>{formatAgo(v.creation_timestamp)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      )}

      {model.data && versions.data && <AliasesCard model={name} aliases={aliases} versions={list} onChanged={refresh} />}

      {model.data && (
        <section aria-labelledby="model-tags-h" className="card">
          <h2 id="model-tags-h">Model tags</h2>
          <TagsEditor
            label="Model tags"
            tags={model.data.tags ?? []}
            onSet={async (k, v) => {
              await client.setRegisteredModelTag(name, k, v);
              refresh();
            }}
            onDelete={async (k) => {
              await client.deleteRegisteredModelTag(name, k);
              refresh();
            }}
          />
        </section>
      )}

      {chosen && <VersionDetail key={chosen.version} version={chosen} aliases={aliasesOf(chosen.version)} deployments={deployments.data} onChanged={refresh} />}
    </div>
  );
}

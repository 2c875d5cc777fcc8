/**
 * The registered model versions made from this run (lineage run → versions), with their aliases and the
 * deployments serving them, and a form to register a folder of this run's artifacts as a new version.
 */
import { useMutation, useQueries, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { ErrorBanner } from "../../components/error-banner";
import { useClient } from "../../lib/api";
import { formatTime } from "../../lib/format";
import { Link } from "../../lib/router";
import { paths } from "../../lib/routes";
import { servingDeployments } from "../../lib/serving";
import { TableHead } from "../../components/table-head";

export function RunModels({ runId }: { runId: string }) {
  const client = useClient();
  const lineage = useQuery({ queryKey: ["run-lineage", runId], queryFn: ({ signal }) => client.lineage({ runId, maxResults: 1000, signal }) });
  const versions = lineage.data?.model_versions ?? [];
  const names = [...new Set(versions.map((v) => v.name))];
  const models = useQueries({ queries: names.map((name) => ({ queryKey: ["model", name], queryFn: ({ signal }: { signal: AbortSignal }) => client.getRegisteredModel(name, { signal }) })) });
  const deployments = useQuery({ queryKey: ["deployments"], queryFn: ({ signal }) => client.listDeployments({ signal }), enabled: versions.length > 0 });
  const aliasesOf = (name: string, version: string) =>
    (models[names.indexOf(name)]?.data?.aliases ?? []).filter((a) => a.version === version).map((a) => a.alias);

  return (
    <section aria-labelledby="models-h" className="card">
      <h2 id="models-h">Registered models ({versions.length})</h2>
      {lineage.isError && <ErrorBanner error={lineage.error} what="Cannot read the models made from this run" />}
      {lineage.data && versions.length === 0 && <p className="muted">No model version was registered from this run.</p>}
      {versions.length > 0 && (
        <table className="table compact" data-testid="run-models">
          <TableHead columns={["Model version", "Stage", "Aliases", "Deployed in", "Registered"]} />
          <tbody>
            {versions.map((v) => (
              <tr key={`${v.name}/${v.version}`}>
                <td>
                  <Link to={paths.model(v.name, v.version)}>
                    {v.name} version {v.version}
                  </Link>
                </td>
                <td>{v.current_stage}</td>
                <td>
                  {aliasesOf(v.name, v.version).map((a) => (
                    <span key={a} className="badge alias">
                      @{a}
                    </span>
                  ))}
                </td>
                <td>
                  {servingDeployments(deployments.data, v.name, v.version).map((s) => (
                    <Link key={`${s.deployment}/${s.variant}`} to={paths.deployment(s.deployment)} className="chip">
                      {s.deployment}
                      {s.shadow ? " (shadow)" : ""}
                    </Link>
                  ))}
                </td>
                <td>{formatTime(v.creation_timestamp)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <RegisterModel runId={runId} />
    </section>
  );
}

function RegisterModel({ runId }: { runId: string }) {
  const client = useClient();
  const qc = useQueryClient();
  const [open, setOpen] = useState(false);
  const [name, setName] = useState("");
  const [path, setPath] = useState("model");
  const existing = useQuery({ queryKey: ["models", "", "names"], queryFn: ({ signal }) => client.searchRegisteredModels({ maxResults: 200, signal }), enabled: open });
  const register = useMutation({
    mutationFn: async () => {
      const model = name.trim();
      if (!(await client.findRegisteredModel(model))) await client.createRegisteredModel(model);
      const clean = path.trim().replace(/^\/+|\/+$/g, "");
      return client.createModelVersion({ name: model, source: `runs:/${runId}${clean ? `/${clean}` : ""}`, runId });
    },
    onSuccess: () => {
      for (const key of ["run-lineage", "models", "model", "model-versions"]) void qc.invalidateQueries({ queryKey: [key] });
    },
  });
  if (!open) {
    return (
      <button type="button" className="secondary" onClick={() => setOpen(true)}>
        Register a model from this run
      </button>
    );
  }
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (name.trim()) register.mutate();
  };
  return (
    <form className="toolbar" onSubmit={submit} aria-label="Register model">
      <label className="inline">
        Model name
        <input type="text" list="register-model-names" value={name} onChange={(e) => setName(e.target.value)} required />
      </label>
      <datalist id="register-model-names">
        {(existing.data?.registered_models ?? []).map((m) => (
          <option key={m.name} value={m.name} />
        ))}
      </datalist>
      <label className="inline">
        Artifact folder
        <input type="text" value={path} onChange={(e) => setPath(e.target.value)} />
      </label>
      <button type="submit" disabled={!name.trim() || register.isPending}>
        Register
      </button>
      <button type="button" className="secondary" onClick={() => setOpen(false)}>
        Cancel
      </button>
      {register.data && (
        <span role="status">
          Registered <Link to={paths.model(register.data.name, register.data.version)}>{register.data.name} version {register.data.version}</Link>.
        </span>
      )}
      {register.isError && <ErrorBanner error={register.error} what="Cannot register the model" />}
    </form>
  );
}

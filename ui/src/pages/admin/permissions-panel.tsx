/**
 * Who may access an experiment, a registered model or a deployment, and why (admin, an explicit grant, a
 * group, the server's default); grant or remove a user's or group's permission. A deployment has no grants
 * of its own: it is guarded by the models it serves, so its panel manages those models' grants.
 */
import type { PermissionLevel } from "@keel/sdk";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { ErrorBanner } from "../../components/error-banner";
import { useClient } from "../../lib/api";
import { TableHead } from "../../components/table-head";

type Kind = "experiment" | "registered_model" | "deployment";
const KINDS: [Kind, string][] = [
  ["experiment", "Experiment"],
  ["registered_model", "Registered model"],
  ["deployment", "Deployment"],
];
const LEVELS: PermissionLevel[] = ["READ", "EDIT", "MANAGE", "NO_PERMISSIONS"];

export function PermissionsPanel() {
  const client = useClient();
  const [kind, setKind] = useState<Kind>("experiment");
  const [target, setTarget] = useState("");
  const [shown, setShown] = useState<{ kind: Kind; id: string }>();
  const options = useQuery({
    queryKey: ["permission-targets", kind],
    queryFn: async ({ signal }): Promise<{ id: string; label: string }[]> => {
      if (kind === "experiment") return ((await client.searchExperiments({ maxResults: 1000, signal })).experiments ?? []).map((e) => ({ id: e.experiment_id, label: `${e.name} (${e.experiment_id})` }));
      if (kind === "registered_model") return ((await client.searchRegisteredModels({ maxResults: 1000, signal })).registered_models ?? []).map((m) => ({ id: m.name, label: m.name }));
      return (await client.listDeployments({ signal })).map((d) => ({ id: d.name, label: d.name }));
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const id = target || options.data?.[0]?.id;
    if (id) setShown({ kind, id });
  };
  return (
    <section aria-labelledby="perm-h">
      <h2 id="perm-h">Permissions</h2>
      <form className="toolbar" onSubmit={submit} aria-label="Choose a resource">
        <label className="inline">
          Kind
          <select
            value={kind}
            onChange={(e) => {
              setKind(e.target.value as Kind);
              setTarget("");
            }}
          >
            {KINDS.map(([k, label]) => (
              <option key={k} value={k}>
                {label}
              </option>
            ))}
          </select>
        </label>
        <label className="inline">
          Resource
          <select value={target} onChange={(e) => setTarget(e.target.value)}>
            {(options.data ?? []).map((o) => (
              <option key={o.id} value={o.id}>
                {o.label}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" disabled={!options.data?.length}>
          Show access
        </button>
      </form>
      {options.isError && <ErrorBanner error={options.error} what="Cannot list resources" />}
      {options.data && options.data.length === 0 && <p className="muted">Nothing of this kind yet.</p>}
      {shown?.kind === "deployment" ? <DeploymentAccess name={shown.id} /> : shown && <ResourceAccessCard resource={`${shown.kind}:${shown.id}`} />}
    </section>
  );
}

function DeploymentAccess({ name }: { name: string }) {
  const client = useClient();
  const d = useQuery({ queryKey: ["deployment", name], queryFn: ({ signal }) => client.getDeployment(name, { signal }) });
  const models = [...new Set((d.data?.variants ?? []).map((v) => v.model))];
  return (
    <>
      {d.isError && <ErrorBanner error={d.error} what="Cannot load the deployment" />}
      {d.data && (
        <p className="muted">
          Deployment {name} is guarded by the models it serves: READ on every one of them calls it, EDIT changes it. Its models: {models.join(", ")}.
        </p>
      )}
      {models.map((m) => (
        <ResourceAccessCard key={m} resource={`registered_model:${m}`} />
      ))}
    </>
  );
}

function ResourceAccessCard({ resource }: { resource: string }) {
  const client = useClient();
  const qc = useQueryClient();
  const access = useQuery({ queryKey: ["access", resource], queryFn: () => client.whoCanAccess(resource) });
  const users = useQuery({ queryKey: ["users"], queryFn: () => client.listUsers() });
  const groups = useQuery({ queryKey: ["groups"], queryFn: () => client.listGroups() });
  const [principal, setPrincipal] = useState<"user" | "group">("user");
  const [who, setWho] = useState("");
  const [level, setLevel] = useState<PermissionLevel>("READ");
  const changed = () => void qc.invalidateQueries({ queryKey: ["access", resource] });
  const grant = useMutation({
    mutationFn: () => client.setPermission({ resource, permission: level, ...(principal === "user" ? { username: who.trim() } : { group: who.trim() }) }),
    onSuccess: () => {
      setWho("");
      changed();
    },
  });
  const remove = useMutation({
    mutationFn: (g: { type: string; name: string }) => client.deletePermission({ resource, ...(g.type === "user" ? { username: g.name } : { group: g.name }) }),
    onSuccess: changed,
  });
  const listId = `${resource}-principals`;
  const a = access.data;
  return (
    <article className="card" aria-label={`Access to ${resource}`} data-resource={resource}>
      <h3>
        Access to <span className="mono">{resource}</span>
      </h3>
      {access.isError && <ErrorBanner error={access.error} what="Cannot read who has access" />}
      {a && (
        <>
          <p className="muted">Users without a grant get the server's default: {a.default_permission ?? "READ"}.</p>
          <div className="two-col">
            <table className="table compact" aria-label="Grants">
              <caption className="caption-left">Grants</caption>
              <TableHead columns={["Who", "Permission"]} actions />
              <tbody>
                {a.grants.map((g) => (
                  <tr key={`${g.principal_type}:${g.principal}`}>
                    <td>
                      {g.principal ?? "?"} <span className="muted">({g.principal_type})</span>
                    </td>
                    <td>{g.permission}</td>
                    <td className="actions">
                      {g.principal && (
                        <button type="button" className="secondary" onClick={() => remove.mutate({ type: g.principal_type, name: g.principal as string })} disabled={remove.isPending}>
                          Remove <span className="visually-hidden">grant of {g.principal}</span>
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
                {a.grants.length === 0 && (
                  <tr>
                    <td colSpan={3} className="muted">
                      No grants.
                    </td>
                  </tr>
                )}
              </tbody>
            </table>
            <table className="table compact" aria-label="Effective access">
              <caption className="caption-left">What each user gets</caption>
              <TableHead columns={["User", "Permission", "Because"]} />
              <tbody>
                {a.users.map((u) => (
                  <tr key={u.username} data-user={u.username}>
                    <td>{u.username}</td>
                    <td>{u.permission}</td>
                    <td className="muted">{u.source}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
      <form
        className="toolbar"
        aria-label={`Grant access to ${resource}`}
        onSubmit={(e) => {
          e.preventDefault();
          if (who.trim()) grant.mutate();
        }}
      >
        <label className="inline">
          Grant to
          <select value={principal} onChange={(e) => setPrincipal(e.target.value as "user" | "group")}>
            <option value="user">user</option>
            <option value="group">group</option>
          </select>
        </label>
        <label className="inline">
          <span className="visually-hidden">{principal === "user" ? "Username" : "Group name"}</span>
          <input type="text" list={listId} value={who} onChange={(e) => setWho(e.target.value)} placeholder={principal === "user" ? "username" : "group"} />
        </label>
        <datalist id={listId}>
          {(principal === "user" ? (users.data ?? []).map((u) => u.username) : (groups.data ?? []).map((g) => g.name)).map((n) => (
            <option key={n} value={n} />
          ))}
        </datalist>
        <label className="inline">
          Permission
          <select value={level} onChange={(e) => setLevel(e.target.value as PermissionLevel)}>
            {LEVELS.map((l) => (
              <option key={l} value={l}>
                {l}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" disabled={!who.trim() || grant.isPending}>
          Grant
        </button>
      </form>
      {grant.isError && <ErrorBanner error={grant.error} what="Cannot grant the permission" />}
      {remove.isError && <ErrorBanner error={remove.error} what="Cannot remove the grant" />}
    </article>
  );
}

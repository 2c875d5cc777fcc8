/** A model's aliases: each pointing at a version, set (or moved) with a form, deleted with a confirm. */
import type { ModelAlias, ModelVersion } from "@keel/sdk";
import { useMutation } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { ConfirmButton } from "../../components/confirm-button";
import { ErrorBanner } from "../../components/error-banner";
import { useClient } from "../../lib/api";
import { Link } from "../../lib/router";
import { paths } from "../../lib/routes";
import { TableHead } from "../../components/table-head";

export function AliasesCard({ model, aliases, versions, onChanged }: { model: string; aliases: ModelAlias[]; versions: ModelVersion[]; onChanged(): void }) {
  const client = useClient();
  const newest = versions.at(-1)?.version ?? "";
  const [alias, setAlias] = useState("");
  const [version, setVersion] = useState("");
  const chosenVersion = version || newest;
  const existing = aliases.find((a) => a.alias === alias.trim());
  const set = useMutation({
    mutationFn: () => client.setRegisteredModelAlias(model, alias.trim(), chosenVersion),
    onSuccess: () => {
      setAlias("");
      onChanged();
    },
  });
  const remove = useMutation({ mutationFn: (a: string) => client.deleteRegisteredModelAlias(model, a), onSuccess: onChanged });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (alias.trim() && chosenVersion) set.mutate();
  };
  return (
    <section aria-labelledby="aliases-h" className="card">
      <h2 id="aliases-h">Aliases ({aliases.length})</h2>
      {aliases.length === 0 ? (
        <p className="muted">No aliases. An alias (e.g. “champion”) names a version; deployments and clients can follow it as it moves.</p>
      ) : (
        <table className="table compact" data-testid="aliases-table">
          <TableHead columns={["Alias", "Version"]} actions />
          <tbody>
            {aliases.map((a) => (
              <tr key={a.alias} data-alias={a.alias}>
                <td className="mono">@{a.alias}</td>
                <td>
                  <Link to={paths.model(model, a.version)}>version {a.version}</Link>
                </td>
                <td className="actions">
                  <ConfirmButton question={<>Delete alias @{a.alias}?</>} confirm="Confirm delete" onConfirm={() => remove.mutate(a.alias)} disabled={remove.isPending}>
                    Delete <span className="visually-hidden">alias {a.alias}</span>
                  </ConfirmButton>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <form className="toolbar" onSubmit={submit} aria-label="Set alias">
        <label className="inline">
          Alias
          <input type="text" list="alias-names" value={alias} onChange={(e) => setAlias(e.target.value)} placeholder="e.g. champion" />
        </label>
        <datalist id="alias-names">
          {aliases.map((a) => (
            <option key={a.alias} value={a.alias} />
          ))}
        </datalist>
        <label className="inline">
          Version
          <select value={chosenVersion} onChange={(e) => setVersion(e.target.value)}>
            {[...versions].reverse().map((v) => (
              <option key={v.version} value={v.version}>
                {v.version}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" disabled={!alias.trim() || !chosenVersion || set.isPending}>
          {existing ? `Move alias (now version ${existing.version})` : "Set alias"}
        </button>
      </form>
      {set.isError && <ErrorBanner error={set.error} what="Cannot set the alias" />}
      {remove.isError && <ErrorBanner error={remove.error} what="Cannot delete the alias" />}
    </section>
  );
}

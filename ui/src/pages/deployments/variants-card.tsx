/**
 * A deployment's variants: the model version each serves, readiness, queue depth, and traffic weights the
 * user can change. Saving PUTs the whole spec with the new weights (the server swaps without dropping
 * requests) and shows the server's message when it refuses.
 */
import type { Deployment } from "@keel/sdk";
import { useMutation } from "@tanstack/react-query";
import { type FormEvent, useEffect, useState } from "react";
import { ErrorBanner } from "../../components/error-banner";
import { useClient } from "../../lib/api";
import { Link } from "../../lib/router";
import { paths } from "../../lib/routes";
import { trafficShare } from "./traffic";

export function VariantsCard({ deployment: d, onSaved }: { deployment: Deployment; onSaved(next: Deployment): void }) {
  const client = useClient();
  const current = Object.fromEntries(d.variants.map((v) => [v.name, String(v.weight)]));
  const [weights, setWeights] = useState<Record<string, string>>(current);
  const currentKey = JSON.stringify(current);
  // biome-ignore lint/correctness/useExhaustiveDependencies: reset the form when the server's weights change (keyed by their JSON)
  useEffect(() => setWeights(current), [currentKey]);
  const dirty = d.variants.some((v) => weights[v.name] !== String(v.weight));
  const preview = trafficShare(d.variants.map((v) => ({ ...v, weight: Number(weights[v.name]) || 0 })));
  const save = useMutation({
    mutationFn: () =>
      client.replaceDeployment({
        ...d.spec,
        name: d.name,
        // Sent as typed: a weight the server refuses (negative, not a number) comes back as its 400 message.
        variants: d.spec.variants.map((v) => ({ ...v, weight: weights[v.name ?? ""] === undefined ? v.weight : Number(weights[v.name ?? ""]) })),
      }),
    onSuccess: onSaved,
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate();
  };
  return (
    <section aria-labelledby="variants-h" className="card">
      <h2 id="variants-h">Variants and traffic</h2>
      <form onSubmit={submit} aria-label="Traffic weights">
        <table className="table compact" data-testid="variants-table">
          <thead>
            <tr>
              <th scope="col">Variant</th>
              <th scope="col">Model version</th>
              <th scope="col">Status</th>
              <th scope="col" className="num">
                Queue
              </th>
              <th scope="col">Weight</th>
              <th scope="col" className="num">
                Traffic
              </th>
            </tr>
          </thead>
          <tbody>
            {d.variants.map((v) => (
              <tr key={v.name} data-variant={v.name}>
                <th scope="row" className="mono">
                  {v.name}
                  {v.shadow && <span className="badge">shadow</span>}
                </th>
                <td>
                  <Link to={paths.model(v.model, v.version)}>{v.model}</Link>
                  {v.alias && <span className="muted"> @{v.alias}</span>}
                  {v.version ? <span> version {v.version}</span> : <span className="muted"> (no version loaded)</span>}
                </td>
                <td>
                  {v.ready ? <span className="badge ok">ready</span> : <span className="badge warn">not ready</span>}
                  {v.error && <div className="error-text">{v.error}</div>}
                </td>
                <td className="num mono">{v.queue_depth}</td>
                <td>
                  {v.shadow ? (
                    <span className="muted">mirrors {Math.round((d.spec.shadow?.fraction ?? 1) * 100)}% of requests</span>
                  ) : (
                    <label className="inline">
                      <span className="visually-hidden">Weight of variant {v.name}</span>
                      <input type="number" step="any" value={weights[v.name] ?? ""} onChange={(e) => setWeights((w) => ({ ...w, [v.name]: e.target.value }))} />
                    </label>
                  )}
                </td>
                <td className="num mono" data-testid={`share-${v.name}`}>
                  {v.shadow ? "—" : `${Math.round((preview.get(v.name) ?? 0) * 1000) / 10}%`}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <div className="toolbar">
          <button type="submit" disabled={!dirty || save.isPending}>
            {save.isPending ? "Saving…" : "Save weights"}
          </button>
          <button type="button" className="secondary" disabled={!dirty || save.isPending} onClick={() => setWeights(current)}>
            Reset
          </button>
          {save.isSuccess && !dirty && <span role="status">Saved.</span>}
        </div>
        {save.isError && <ErrorBanner error={save.error} what="Cannot change the weights" />}
      </form>
    </section>
  );
}

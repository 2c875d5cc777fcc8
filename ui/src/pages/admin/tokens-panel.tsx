/** Your API tokens: create one (its secret is shown once), see when each was last used, revoke. */
import type { ApiToken } from "@keel/sdk";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { ConfirmButton } from "../../components/confirm-button";
import { ErrorBanner } from "../../components/error-banner";
import { useAuth, useClient } from "../../lib/api";
import { formatAgo, formatTime } from "../../lib/format";
import { TableHead } from "../../components/table-head";

const EXPIRY = [
  ["7d", "7 days"],
  ["30d", "30 days"],
  ["90d", "90 days"],
  ["365d", "1 year"],
  ["", "Never"],
] as const;

function status(t: ApiToken, now = Date.now()): string {
  if (t.revoked_time) return "revoked";
  if (t.expiry_time && t.expiry_time <= now) return "expired";
  return "active";
}

export function TokensPanel() {
  const client = useClient();
  const { tokenId } = useAuth();
  const qc = useQueryClient();
  const tokens = useQuery({ queryKey: ["tokens"], queryFn: () => client.listTokens() });
  const [name, setName] = useState("");
  const [expires, setExpires] = useState<string>("90d");
  const create = useMutation({
    mutationFn: () => client.createToken({ name: name.trim() || undefined, expiresIn: expires || undefined }),
    onSuccess: () => {
      setName("");
      void qc.invalidateQueries({ queryKey: ["tokens"] });
    },
  });
  const revoke = useMutation({ mutationFn: (id: string) => client.revokeToken(id), onSuccess: () => void qc.invalidateQueries({ queryKey: ["tokens"] }) });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  const list = [...(tokens.data ?? [])].sort((a, b) => b.creation_time - a.creation_time);
  return (
    <section aria-labelledby="tokens-h">
      <h2 id="tokens-h">My API tokens</h2>
      <p className="muted">Scripts and MLflow clients sign in with a token: MLFLOW_TRACKING_TOKEN=… or KEEL_TOKEN=….</p>
      <form className="toolbar" onSubmit={submit} aria-label="Create token">
        <label className="inline">
          Token name
          <input type="text" value={name} onChange={(e) => setName(e.target.value)} placeholder="ci-pipeline" />
        </label>
        <label className="inline">
          Expires in
          <select value={expires} onChange={(e) => setExpires(e.target.value)}>
            {EXPIRY.map(([v, label]) => (
              <option key={v} value={v}>
                {label}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" disabled={create.isPending}>
          Create token
        </button>
      </form>
      {create.isError && <ErrorBanner error={create.error} what="Cannot create the token" />}
      {create.data && <NewSecret token={create.data.token} name={create.data.name} onDismiss={() => create.reset()} />}
      {tokens.isError && <ErrorBanner error={tokens.error} what="Cannot list your tokens" />}
      {revoke.isError && <ErrorBanner error={revoke.error} what="Cannot revoke the token" />}
      {tokens.data && list.length === 0 && <p className="muted">You have no tokens.</p>}
      {list.length > 0 && (
        <table className="table compact" data-testid="tokens-table">
          <TableHead columns={["Name", "Starts with", "Created", "Expires", "Last used", "Status"]} actions />
          <tbody>
            {list.map((t) => (
              <tr key={t.id} data-token={t.name} className={status(t) === "active" ? undefined : "deleted"}>
                <td>
                  {t.name}
                  {t.id === tokenId && <span className="muted"> (this browser's sign-in)</span>}
                </td>
                <td className="mono">{t.prefix}…</td>
                <td>{formatTime(t.creation_time)}</td>
                <td>{t.expiry_time ? formatTime(t.expiry_time) : "never"}</td>
                <td>{t.last_used_time ? formatAgo(t.last_used_time) : "never"}</td>
                <td>{status(t)}</td>
                <td className="actions">
                  {status(t) === "active" && (
                    <ConfirmButton
                      question={t.id === tokenId ? "Revoking it signs this browser out." : undefined}
                      confirm={<>Revoke {t.name}</>}
                      onConfirm={() => revoke.mutate(t.id)}
                      disabled={revoke.isPending}
                    >
                      Revoke <span className="visually-hidden">{t.name}</span>
                    </ConfirmButton>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** A new token's secret: shown this once (the server keeps only its hash). */
function NewSecret({ token, name, onDismiss }: { token: string; name: string; onDismiss(): void }) {
  const [copied, setCopied] = useState<"yes" | "no">();
  return (
    <div className="secret" role="status" data-testid="new-token">
      <p>
        <strong>Token “{name}” created.</strong> Copy it now: it will not be shown again.
      </p>
      <div className="toolbar">
        <code className="secret-value" data-testid="token-secret">
          {token}
        </code>
        <button
          type="button"
          className="secondary"
          onClick={() =>
            navigator.clipboard.writeText(token).then(
              () => setCopied("yes"),
              () => setCopied("no"),
            )
          }
        >
          Copy
        </button>
        <button type="button" className="secondary" onClick={onDismiss}>
          Done
        </button>
        {copied === "yes" && <span>Copied.</span>}
        {copied === "no" && <span>The browser refused the clipboard: select the token and copy it.</span>}
      </div>
    </div>
  );
}

/** Users: create (with a password, or token-only), reset a password, grant or remove admin, delete. */
import type { User } from "@keel/sdk";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { ConfirmButton } from "../../components/confirm-button";
import { ErrorBanner } from "../../components/error-banner";
import { useClient } from "../../lib/api";
import { formatTime } from "../../lib/format";
import { TableHead } from "../../components/table-head";

export function UsersPanel({ me }: { me: string }) {
  const client = useClient();
  const users = useQuery({ queryKey: ["users"], queryFn: () => client.listUsers() });
  return (
    <section aria-labelledby="users-h">
      <h2 id="users-h">Users</h2>
      <CreateUser />
      {users.isError && <ErrorBanner error={users.error} what="Cannot list users" />}
      {users.data && (
        <table className="table compact" data-testid="users-table">
          <TableHead columns={["Username", "Role", "Created"]} actions />
          <tbody>
            {[...users.data]
              .sort((a, b) => a.username.localeCompare(b.username))
              .map((u) => (
                <UserRow key={u.username} user={u} self={u.username === me} />
              ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function CreateUser() {
  const client = useClient();
  const qc = useQueryClient();
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [isAdmin, setIsAdmin] = useState(false);
  const create = useMutation({
    mutationFn: () => client.createUser({ username: username.trim(), password: password || undefined, isAdmin }),
    onSuccess: () => {
      setUsername("");
      setPassword("");
      setIsAdmin(false);
      void qc.invalidateQueries({ queryKey: ["users"] });
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (username.trim()) create.mutate();
  };
  return (
    <form className="toolbar" onSubmit={submit} aria-label="Create user">
      <label className="inline">
        New username
        <input type="text" autoComplete="off" value={username} onChange={(e) => setUsername(e.target.value)} />
      </label>
      <label className="inline">
        Password
        <input type="password" autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} placeholder="empty: token-only" />
      </label>
      <label className="check inline">
        <input type="checkbox" checked={isAdmin} onChange={(e) => setIsAdmin(e.target.checked)} />
        Admin
      </label>
      <button type="submit" disabled={!username.trim() || create.isPending}>
        Create user
      </button>
      {create.isError && <ErrorBanner error={create.error} what="Cannot create the user" />}
    </form>
  );
}

function UserRow({ user: u, self }: { user: User; self: boolean }) {
  const client = useClient();
  const qc = useQueryClient();
  const [resetting, setResetting] = useState(false);
  const [password, setPassword] = useState("");
  const done = () => void qc.invalidateQueries({ queryKey: ["users"] });
  const reset = useMutation({
    mutationFn: () => client.updateUser(u.username, { password }),
    onSuccess: () => {
      setResetting(false);
      setPassword("");
    },
  });
  const admin = useMutation({ mutationFn: (on: boolean) => client.updateUser(u.username, { isAdmin: on }), onSuccess: done });
  const remove = useMutation({ mutationFn: () => client.deleteUser(u.username), onSuccess: done });
  const error = reset.error ?? admin.error ?? remove.error;
  return (
    <tr data-user={u.username}>
      <td>
        {u.username}
        {self && <span className="muted"> (you)</span>}
      </td>
      <td>{u.is_admin ? <span className="badge">admin</span> : "user"}</td>
      <td>{formatTime(u.creation_time)}</td>
      <td className="actions">
        {resetting ? (
          <form
            className="inline-form"
            onSubmit={(e) => {
              e.preventDefault();
              if (password) reset.mutate();
            }}
          >
            <label className="inline">
              <span className="visually-hidden">New password for {u.username}</span>
              <input
                type="password"
                autoComplete="new-password"
                value={password}
                onChange={(e) => setPassword(e.target.value)}
                placeholder="New password"
                // biome-ignore lint/a11y/noAutofocus: the user just asked to reset this password
                autoFocus
              />
            </label>
            <button type="submit" disabled={!password || reset.isPending}>
              Save password
            </button>
            <button type="button" className="secondary" onClick={() => setResetting(false)}>
              Cancel
            </button>
          </form>
        ) : (
          <>
            {reset.isSuccess && <span role="status">Password changed. </span>}
            <button type="button" className="secondary" onClick={() => setResetting(true)}>
              Reset password <span className="visually-hidden">of {u.username}</span>
            </button>{" "}
            {!self && (
              <>
                <button type="button" className="secondary" onClick={() => admin.mutate(!u.is_admin)} disabled={admin.isPending}>
                  {u.is_admin ? "Remove admin" : "Make admin"} <span className="visually-hidden">{u.username}</span>
                </button>{" "}
                <ConfirmButton question={<>Delete {u.username}, their tokens and grants?</>} confirm="Confirm delete" onConfirm={() => remove.mutate()} disabled={remove.isPending}>
                  Delete <span className="visually-hidden">{u.username}</span>
                </ConfirmButton>
              </>
            )}
          </>
        )}
        {error && <ErrorBanner error={error} />}
      </td>
    </tr>
  );
}

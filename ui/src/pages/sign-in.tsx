/**
 * Sign-in, shown when the server asks for credentials: a username and password buy an API token for this
 * browser (revoked at sign-out), or paste a token you already have.
 */
import { useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useEffect, useState } from "react";
import { ErrorBanner } from "../components/error-banner";
import { auth, makeClient } from "../lib/api";

export function SignIn() {
  const qc = useQueryClient();
  const [mode, setMode] = useState<"password" | "token">("password");
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [token, setToken] = useState("");
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    document.title = "Sign in · Keel";
  }, []);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      if (mode === "token") {
        await makeClient({ token: token.trim() }).whoami();
        auth.signIn(token.trim());
      } else {
        const created = await makeClient({ username, password }).createToken({ name: "web-ui", expiresIn: "30d" });
        auth.signIn(created.token, created.id);
      }
      await qc.resetQueries();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="page sign-in">
      <h1 tabIndex={-1}>Sign in to Keel</h1>
      <form onSubmit={submit} className="card form">
        <fieldset className="segmented">
          <legend>Sign in with</legend>
          <label className={mode === "password" ? "on" : undefined}>
            <input type="radio" name="mode" checked={mode === "password"} onChange={() => setMode("password")} />
            Username and password
          </label>
          <label className={mode === "token" ? "on" : undefined}>
            <input type="radio" name="mode" checked={mode === "token"} onChange={() => setMode("token")} />
            API token
          </label>
        </fieldset>
        {mode === "password" ? (
          <>
            <label>
              Username
              <input type="text" autoComplete="username" value={username} onChange={(e) => setUsername(e.target.value)} required />
            </label>
            <label>
              Password
              <input type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} required />
            </label>
          </>
        ) : (
          <label>
            Token
            <input type="password" autoComplete="off" value={token} onChange={(e) => setToken(e.target.value)} required placeholder="keel_…" />
          </label>
        )}
        {error !== undefined && <ErrorBanner error={error} what="Sign-in failed" />}
        <button type="submit" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </div>
  );
}

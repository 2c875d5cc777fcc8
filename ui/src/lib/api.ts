/**
 * The UI's one way to the server: the SDK the CLI uses, pointed at this origin. Holds the sign-in (an API
 * token in localStorage) and tells the app when the server wants credentials.
 */
import { KeelApiError, KeelClient, KeelNetworkError } from "@keel/sdk";
import { useSyncExternalStore } from "react";

const TOKEN_KEY = "keel.token";
const TOKEN_ID_KEY = "keel.token-id";

/** The UI says it is a script, so a 401 does not pop the browser's own Basic-auth dialog over the sign-in form. */
const UI_HEADERS = { "x-requested-with": "XMLHttpRequest" };

export function makeClient(creds: { token?: string; username?: string; password?: string } = {}): KeelClient {
  return new KeelClient({ url: window.location.origin, ...creds, headers: UI_HEADERS });
}

function stored(key: string): string | undefined {
  try {
    return window.localStorage.getItem(key) ?? undefined;
  } catch {
    return undefined;
  }
}

function store(key: string, value: string | undefined): void {
  try {
    if (value === undefined) window.localStorage.removeItem(key);
    else window.localStorage.setItem(key, value);
  } catch {}
}

interface AuthState {
  client: KeelClient;
  /** The server answered 401: show the sign-in form. */
  needsSignIn: boolean;
  /** A token this UI created at sign-in (revoked at sign-out). */
  tokenId?: string;
}

class AuthStore {
  private state: AuthState;
  private readonly listeners = new Set<() => void>();

  constructor() {
    const token = stored(TOKEN_KEY);
    this.state = { client: makeClient(token ? { token } : {}), needsSignIn: false, tokenId: stored(TOKEN_ID_KEY) };
  }

  subscribe = (l: () => void) => {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  };

  get = () => this.state;

  private set(next: AuthState): void {
    this.state = next;
    for (const l of this.listeners) l();
  }

  signIn(token: string, tokenId?: string): void {
    store(TOKEN_KEY, token);
    store(TOKEN_ID_KEY, tokenId);
    this.set({ client: makeClient({ token }), needsSignIn: false, tokenId });
  }

  async signOut(): Promise<void> {
    const { client, tokenId } = this.state;
    if (tokenId) await client.revokeToken(tokenId).catch(() => undefined);
    store(TOKEN_KEY, undefined);
    store(TOKEN_ID_KEY, undefined);
    this.set({ client: makeClient(), needsSignIn: true });
  }

  unauthorized(): void {
    if (!this.state.needsSignIn) this.set({ ...this.state, needsSignIn: true });
  }
}

export const auth = new AuthStore();

export function useAuth(): AuthState {
  return useSyncExternalStore(auth.subscribe, auth.get);
}

export function useClient(): KeelClient {
  return useAuth().client;
}

export function isUnauthenticated(err: unknown): boolean {
  return err instanceof KeelApiError && err.status === 401;
}

/** The server says the thing asked for does not exist (an unknown id, or one that cannot be an id). */
export function isNotFound(err: unknown): boolean {
  return err instanceof KeelApiError && err.status === 404;
}

/** What to tell the user: the server's own message for its errors (a bad filter's 400 says what is wrong). */
export function errorMessage(err: unknown): string {
  if (err instanceof KeelApiError) return err.message;
  if (err instanceof KeelNetworkError) return `Cannot reach the server (${err.url}). Is keel server running?`;
  if (err instanceof Error) return err.message;
  return String(err);
}

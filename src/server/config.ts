import type { Durability } from "../db/database.js";

/** Resolved server settings. Precedence: command-line flag > KEEL_* environment variable > default. */
export interface ServerConfig {
  host: string;
  port: number;
  dataDir: string;
  databaseUrl?: string;
  /** Artifact store URI (see artifacts/open.ts); undefined = <dataDir>/artifacts. */
  artifacts?: string;
  s3Endpoint?: string;
  durability: Durability;
  logLevel: string;
  poolSize: number;
  shutdownTimeoutMs: number;
  insecureNoAuth: boolean;
}

export const LOOPBACK_HOSTS = new Set(["127.0.0.1", "::1", "localhost", "[::1]"]);

export function isLoopback(host: string): boolean {
  return LOOPBACK_HOSTS.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * Auth arrives with the governance capability; until then a server reachable from other machines would
 * accept anyone's writes, so binding beyond loopback needs the user to say so explicitly.
 */
export function checkBindSafety(cfg: Pick<ServerConfig, "host" | "insecureNoAuth">): string | undefined {
  if (isLoopback(cfg.host) || cfg.insecureNoAuth) return undefined;
  return `Refusing to listen on ${cfg.host} without authentication: anyone who can reach this address could read and change your data. Bind to 127.0.0.1, or pass --insecure-no-auth (KEEL_INSECURE_NO_AUTH=1) if a trusted network or proxy guards it.`;
}

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
  /** Require credentials on every route but /health, /version and the API docs. */
  auth: boolean;
  /** What users get on resources nobody granted them anything on (READ unless set). */
  defaultPermission: "READ" | "EDIT" | "MANAGE" | "NO_PERMISSIONS";
  tlsCert?: string;
  tlsKey?: string;
  redisUrl?: string;
  /** Prediction log retention: hours kept, and rows kept at most (defaults: a week, ten million). */
  predictionLogRetentionHours?: number;
  predictionLogMaxRows?: number;
}

export const LOOPBACK_HOSTS = new Set(["127.0.0.1", "::1", "localhost", "[::1]"]);

export function isLoopback(host: string): boolean {
  return LOOPBACK_HOSTS.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * Without auth, a server reachable from other machines would accept anyone's writes, so binding beyond
 * loopback needs --auth, or the user saying explicitly that something else guards it.
 */
export function checkBindSafety(cfg: Pick<ServerConfig, "host" | "insecureNoAuth"> & { auth?: boolean }): string | undefined {
  if (isLoopback(cfg.host) || cfg.insecureNoAuth || cfg.auth) return undefined;
  return `Refusing to listen on ${cfg.host} without authentication: anyone who can reach this address could read and change your data. Turn auth on with --auth (KEEL_AUTH=1), bind to 127.0.0.1, or pass --insecure-no-auth (KEEL_INSECURE_NO_AUTH=1) if a trusted network or proxy guards it.`;
}

/** Boolean switches read from the environment: only 1/true/yes turn them on (commander's .env() would treat "0" as on). */
export function envFlag(value: string | undefined): boolean {
  return /^(1|true|yes|on)$/i.test(value ?? "");
}

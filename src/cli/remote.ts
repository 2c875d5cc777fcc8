import { type Command, InvalidArgumentError, Option } from "commander";
import { credentialsFromEnv, KeelApiError, KeelClient, KeelNetworkError, resolveServerUrl } from "../sdk/index.js";

/**
 * What every command that talks to a running server shares: --server-url and --json, credentials from the
 * environment, one way to print tables and JSON, and one way to fail (the server's message, a non-zero
 * exit, never a stack trace).
 */
export const serverUrlOption = () =>
  new Option("--server-url <url>", "Keel server (else KEEL_SERVER_URL, else MLFLOW_TRACKING_URI, else http://127.0.0.1:5000)").env("KEEL_SERVER_URL");

export const jsonOption = () => new Option("--json", "machine-readable JSON on stdout instead of a table").default(false);

/** Adds --server-url and --json to a command that talks to a server. */
export function remote(cmd: Command): Command {
  return cmd.addOption(serverUrlOption()).addOption(jsonOption());
}

export interface RemoteOptions {
  serverUrl?: string;
  json: boolean;
}

/** A client for --server-url with credentials from KEEL_TOKEN / MLFLOW_TRACKING_TOKEN or MLFLOW_TRACKING_USERNAME/PASSWORD. */
export function clientFor(serverUrl: string | undefined): KeelClient {
  const url = resolveServerUrl(serverUrl);
  checkUrl(url, "--server-url");
  return new KeelClient({ url, ...credentialsFromEnv() });
}

export function checkUrl(url: string, flag: string): void {
  let ok = false;
  try {
    ok = ["http:", "https:"].includes(new URL(url).protocol);
  } catch {}
  if (!ok) throw new UsageError(`${flag}: '${url}' is not an http(s) URL.`);
}

/** A mistake in how the command was called: exit code 2. */
export class UsageError extends Error {}

/** The one line a failure prints. */
export function describeError(err: unknown): string {
  if (err instanceof KeelApiError) {
    const hint =
      err.status === 401
        ? " Set KEEL_TOKEN (or MLFLOW_TRACKING_TOKEN), or MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD."
        : err.status === 403
          ? " Ask an admin for access."
          : "";
    return `${err.message} (HTTP ${err.status} ${err.code})${hint}`;
  }
  if (err instanceof Error) return err.message;
  return String(err);
}

/**
 * Wraps a command's action: the last two commander arguments (options, command) are dropped, the rest are
 * the positional arguments. Failures print `keel <what>: <message>` and exit 1 (2 for usage mistakes).
 */
export function action<O extends RemoteOptions>(what: string, fn: (o: O, ...args: string[]) => Promise<void>) {
  return async (...args: unknown[]): Promise<void> => {
    const cmd = args.at(-1) as Command;
    const positional = args.slice(0, -2).map((a) => (a === undefined ? undefined : String(a))) as string[];
    try {
      await fn(cmd.opts() as O, ...positional);
    } catch (err) {
      process.exitCode = err instanceof UsageError ? 2 : 1;
      console.error(`keel ${what}: ${describeError(err)}`);
      if (!(err instanceof KeelApiError || err instanceof KeelNetworkError || err instanceof UsageError) && process.env.KEEL_DEBUG) console.error(err);
    }
  };
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Columns padded to their widest cell, two spaces apart; `empty` when there are no rows. */
export function printTable(headers: string[], rows: (string | number | undefined)[][], empty = "(none)"): void {
  if (!rows.length) {
    process.stdout.write(`${empty}\n`);
    return;
  }
  const cells = [headers, ...rows.map((r) => r.map((c) => (c === undefined ? "" : String(c))))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  const lines = cells.map((r) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i])))
      .join("  ")
      .trimEnd(),
  );
  process.stdout.write(`${lines.join("\n")}\n`);
}

/** `key: value` lines, keys aligned. */
export function printFields(fields: [string, string | number | undefined][]): void {
  const w = Math.max(...fields.map(([k]) => k.length));
  process.stdout.write(`${fields.map(([k, v]) => `${`${k}:`.padEnd(w + 1)} ${v ?? ""}`.trimEnd()).join("\n")}\n`);
}

export function formatTime(ms: number | undefined): string {
  if (ms === undefined || ms === null || !Number.isFinite(Number(ms)) || Number(ms) <= 0) return "";
  return new Date(Number(ms)).toISOString().replace(/\.\d{3}Z$/, "Z");
}

export function formatDuration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms) || ms < 0) return "";
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

export function formatBytes(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return "";
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}

/** "16MiB", "500MB", "1g", "1048576" → bytes (commander argParser). */
export function bytesArg(name: string) {
  return (value: string): number => {
    const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b?)\s*$/i.exec(value);
    if (!m) throw new InvalidArgumentError(`${name} must be a size like 16MiB, 500MB or 1048576.`);
    const power = { "": 0, k: 1, m: 2, g: 3, t: 4 }[m[2].toLowerCase() as "" | "k" | "m" | "g" | "t"];
    const base = m[3].toLowerCase().startsWith("i") || m[3] === "" ? 1024 : 1000;
    const n = Math.round(Number(m[1]) * base ** power);
    if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be at least 1 byte.`);
    return n;
  };
}

/** --tag k=v, repeatable. */
export function collectTags(value: string, previous: { key: string; value: string }[] = []): { key: string; value: string }[] {
  const at = value.indexOf("=");
  if (at < 1) throw new InvalidArgumentError(`tags are key=value; got '${value}'.`);
  return [...previous, { key: value.slice(0, at), value: value.slice(at + 1) }];
}

/** Repeatable string option. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Items from an async iterator, at most `max`; `more` tells whether any were left. */
export async function take<T>(items: AsyncIterable<T>, max: number): Promise<{ items: T[]; more: boolean }> {
  const out: T[] = [];
  for await (const x of items) {
    if (out.length === max) return { items: out, more: true };
    out.push(x);
  }
  return { items: out, more: false };
}

export const viewOption = () =>
  new Option("--view <view>", "which lifecycle stage to list").choices(["active", "deleted", "all"]).default("active");

export function viewType(v: string): "ACTIVE_ONLY" | "DELETED_ONLY" | "ALL" {
  return v === "deleted" ? "DELETED_ONLY" : v === "all" ? "ALL" : "ACTIVE_ONLY";
}

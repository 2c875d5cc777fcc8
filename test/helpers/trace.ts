/**
 * Replaying the recorded MLflow 2.10 Python client session (against MLflow 2.10.2's own server, see
 * ../../../shared/contracts/mlflow-rest.md) against a real Keel app: each answer must have the recorded
 * status and the recorded shape: same keys at every level, same JSON types, lists compared element by
 * element in any order, and equal values except ids (mapped from the recorded ones to Keel's as they
 * appear) and server-generated times. Client-sent times (start_time, end_time, metric timestamps) must
 * come back exactly as sent.
 */
import { readFileSync } from "node:fs";
import type { client } from "./app.js";

export interface TraceLine {
  method: string;
  path: string;
  params?: Record<string, unknown>;
  json?: unknown;
  status: number;
  response?: unknown;
}

export const TRACE: TraceLine[] = readFileSync(new URL("../fixtures/mlflow-client-trace.jsonl", import.meta.url), "utf8")
  .split("\n")
  .filter((l) => l.trim() !== "")
  .map((l) => JSON.parse(l) as TraceLine);

/** Keys whose values are ids: learned from the first answer that carries them, then substituted everywhere. */
const ID_KEYS = new Set(["experiment_id", "run_id", "run_uuid"]);
/** Times the server makes up: only their type is compared. */
const SERVER_TIME_KEYS = new Set(["creation_time", "last_update_time", "creation_timestamp", "last_updated_timestamp"]);
/** Error messages are prose: only their type is compared (error_code is compared exactly). */
const PROSE_KEYS = new Set(["message"]);
const LOG_MODEL_TAG = "mlflow.log-model.history";

/** Recorded id → Keel id. */
export class IdMap {
  readonly experiments = new Map<string, string>();
  readonly runs = new Map<string, string>();

  learn(key: string, recorded: string, got: unknown): string | undefined {
    const map = key === "experiment_id" ? this.experiments : this.runs;
    if (typeof got !== "string") return `${key}: expected a string id, got ${JSON.stringify(got)}`;
    if (key === "experiment_id" && !/^\d+$/.test(got)) return `experiment_id: expected a numeric string, got ${JSON.stringify(got)}`;
    if (key !== "experiment_id" && !/^[0-9a-f]{32}$/.test(got)) return `${key}: expected a 32-hex run id, got ${JSON.stringify(got)}`;
    const known = map.get(recorded);
    if (known === undefined) map.set(recorded, got);
    else if (known !== got) return `${key}: recorded id ${recorded} maps to ${known} earlier but ${got} here`;
    return undefined;
  }

  /** Rewrites recorded ids to Keel's: run ids anywhere in strings (32 hex: unambiguous), experiment ids where a field holds one. */
  sub(v: unknown, key?: string): unknown {
    if (typeof v === "string") {
      let s = v;
      for (const [rec, got] of this.runs) s = s.replaceAll(rec, got);
      if ((key === "experiment_id" || key === "experiment_ids") && this.experiments.has(s)) return this.experiments.get(s);
      return s.replace(/mlflow-artifacts:\/(\d+)(?=\/|$)/g, (m, id: string) => (this.experiments.has(id) ? `mlflow-artifacts:/${this.experiments.get(id)}` : m));
    }
    if (Array.isArray(v)) return v.map((x) => this.sub(x, key));
    if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, this.sub(x, k)]));
    return v;
  }
}

function jsonType(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  return typeof v;
}

const show = (v: unknown) => {
  const s = JSON.stringify(v);
  return s && s.length > 300 ? `${s.slice(0, 300)}…` : s;
};

/** First pass: learn ids from the places that carry them (objects key by key, lists index by index). */
export function learnIds(exp: unknown, got: unknown, ids: IdMap, out: string[]): void {
  if (Array.isArray(exp) && Array.isArray(got)) {
    for (const [i, e] of exp.entries()) learnIds(e, got[i], ids, out);
  } else if (jsonType(exp) === "object" && jsonType(got) === "object") {
    const e = exp as Record<string, unknown>;
    const g = got as Record<string, unknown>;
    for (const [k, v] of Object.entries(e)) {
      if (ID_KEYS.has(k) && typeof v === "string" && k in g) {
        const alreadyKeel = [...ids.experiments.values(), ...ids.runs.values()].includes(v);
        if (!alreadyKeel) {
          const err = ids.learn(k, v, g[k]);
          if (err) out.push(err);
        }
      } else learnIds(v, g[k], ids, out);
    }
  }
}

/** Second pass: the shape and value comparison. `exp` already has Keel's ids substituted. */
export function diff(exp: unknown, got: unknown, path: string, out: string[], parent?: Record<string, unknown>): void {
  const te = jsonType(exp);
  const tg = jsonType(got);
  if (te !== tg) {
    out.push(`${path}: expected ${te} ${show(exp)}, got ${tg} ${show(got)}`);
    return;
  }
  if (te === "array") {
    const e = exp as unknown[];
    const g = got as unknown[];
    if (e.length !== g.length) {
      out.push(`${path}: expected ${e.length} element(s) ${show(e)}, got ${g.length} ${show(g)}`);
      return;
    }
    // Order-insensitive: pair each expected element with an unused equal one; report the closest otherwise.
    const used = new Set<number>();
    e.forEach((ei, i) => {
      let best: { j: number; d: string[] } | undefined;
      for (let j = 0; j < g.length; j++) {
        if (used.has(j)) continue;
        const d: string[] = [];
        diff(ei, g[j], `${path}[${i}]`, d);
        if (d.length === 0) {
          best = { j, d };
          break;
        }
        if (!best || d.length < best.d.length) best = { j, d };
      }
      if (best) {
        used.add(best.j);
        out.push(...best.d);
      }
    });
    return;
  }
  if (te === "object") {
    const e = exp as Record<string, unknown>;
    const g = got as Record<string, unknown>;
    for (const k of Object.keys(e)) if (!(k in g)) out.push(`${path}.${k}: missing (expected ${show(e[k])})`);
    for (const k of Object.keys(g)) if (!(k in e)) out.push(`${path}.${k}: unexpected key (got ${show(g[k])})`);
    for (const k of Object.keys(e)) {
      if (!(k in g)) continue;
      const p = `${path}.${k}`;
      if (SERVER_TIME_KEYS.has(k)) {
        if (typeof g[k] !== "number" || !Number.isSafeInteger(g[k])) out.push(`${p}: expected epoch ms (integer), got ${show(g[k])}`);
      } else if (PROSE_KEYS.has(k)) {
        if (typeof g[k] !== "string" || g[k] === "") out.push(`${p}: expected a non-empty string, got ${show(g[k])}`);
      } else if (k === "value" && e.key === LOG_MODEL_TAG && typeof e[k] === "string" && typeof g[k] === "string") {
        let parsed: unknown;
        try {
          parsed = JSON.parse(g[k] as string);
        } catch {
          out.push(`${p}: expected JSON, got ${show(g[k])}`);
          continue;
        }
        diff(JSON.parse(e[k] as string), parsed, `${p}(parsed)`, out, e);
      } else diff(e[k], g[k], p, out, e);
    }
    return;
  }
  if (exp !== got) out.push(`${path}: expected ${show(exp)}, got ${show(got)}${parent && "key" in parent ? ` (key ${show(parent.key)})` : ""}`);
}

/** Sends one recorded call (ids rewritten to Keel's) and lists how the answer differs from the recording. */
export async function replayLine(c: ReturnType<typeof client>, ids: IdMap, line: TraceLine): Promise<{ status: number; problems: string[] }> {
  const query = line.params
    ? Object.fromEntries(Object.entries(ids.sub(line.params) as Record<string, unknown>).map(([k, v]) => [k, Array.isArray(v) ? v.map(String) : String(v)]))
    : undefined;
  const body = line.json === undefined ? undefined : ids.sub(line.json);
  const res = await c.call(line.method, line.path, body, query);
  const problems: string[] = [];
  learnIds(line.response, res.body, ids, problems);
  diff(ids.sub(line.response), res.body, "response", problems);
  return { status: res.status, problems };
}

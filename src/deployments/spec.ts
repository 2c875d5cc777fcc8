import { invalidParam } from "../core/errors.js";

/**
 * A deployment, as users write it (`POST /api/keel/v1/deployments`, `keel deploy`): named variants of
 * registered models, each following an alias or pinned to a version, sharing traffic by weight; an
 * optional shadow variant that sees a share of requests but never answers; sticky routing by a header;
 * batching, queue and cache settings. The name is also the model name clients use over OIP.
 */
export interface VariantSpec {
  name: string;
  model: string;
  alias?: string;
  version?: number;
  weight: number;
}

export interface DeploymentSpec {
  name: string;
  variants: VariantSpec[];
  shadow?: { variant: string; fraction: number };
  sticky?: { header: string };
  batching?: { max_batch_size: number; max_queue_delay_ms: number; preferred_batch_sizes?: number[] };
  queue?: { max_size: number; timeout_ms: number };
  cache?: { max_entries: number; ttl_s: number };
  features?: FeatureSpec;
  /** Which predictions go to the prediction log (default: all of them). */
  prediction_log?: { enabled: boolean; sample_rate: number };
  /** Threads onnxruntime may use per variant's session. */
  runtime?: { intra_op_threads?: number; inter_op_threads?: number; worker_thread?: boolean };
}

/** Feature lookup before inference: entity keys from the request → rows of a table in Keel's database → one input tensor. */
export interface FeatureSpec {
  table: string;
  key_column: string;
  columns: string[];
  /** The model input the looked-up features become (FP32, [n, columns.length]). */
  input: string;
}

export const DEFAULTS = {
  batching: { max_batch_size: 64, max_queue_delay_ms: 2 },
  queue: { max_size: 1024, timeout_ms: 10_000 },
} as const;

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
const SQL_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

function obj(v: unknown, what: string): Record<string, unknown> {
  if (v === null || typeof v !== "object" || Array.isArray(v)) throw invalidParam(`${what} must be an object.`);
  return v as Record<string, unknown>;
}

function onlyKeys(o: Record<string, unknown>, allowed: string[], what: string): void {
  const extra = Object.keys(o).filter((k) => !allowed.includes(k));
  if (extra.length) throw invalidParam(`${what} has unknown field(s) ${extra.join(", ")}; allowed: ${allowed.join(", ")}.`);
}

function int(v: unknown, what: string, min: number, max: number): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min || v > max) throw invalidParam(`${what} must be an integer from ${min} to ${max}.`);
  return v;
}

function num(v: unknown, what: string, min: number, max: number): number {
  if (typeof v !== "number" || !Number.isFinite(v) || v < min || v > max) throw invalidParam(`${what} must be a number from ${min} to ${max}.`);
  return v;
}

function name(v: unknown, what: string): string {
  if (typeof v !== "string" || !NAME.test(v)) throw invalidParam(`${what} must be 1-100 characters: letters, digits, '.', '_' and '-', starting with a letter or digit.`);
  return v;
}

/** Checks a whole spec and returns it normalised (defaults are applied where it is used, not stored). */
export function parseDeploymentSpec(raw: unknown, nameFromPath?: string): DeploymentSpec {
  const o = obj(raw, "The deployment");
  onlyKeys(o, ["name", "variants", "shadow", "sticky", "batching", "queue", "cache", "features", "prediction_log", "runtime"], "The deployment");
  const depName = name(o.name ?? nameFromPath, "name");
  if (nameFromPath !== undefined && o.name !== undefined && o.name !== nameFromPath) throw invalidParam(`The body names deployment '${String(o.name)}' but the path '${nameFromPath}'.`);
  if (!Array.isArray(o.variants) || o.variants.length < 1 || o.variants.length > 16) throw invalidParam("variants must list 1 to 16 variants.");
  const variants = o.variants.map((v, i) => {
    const x = obj(v, `variants[${i}]`);
    onlyKeys(x, ["name", "model", "alias", "version", "weight"], `variants[${i}]`);
    if (typeof x.model !== "string" || x.model.length === 0 || x.model.length > 256) throw invalidParam(`variants[${i}].model must name a registered model.`);
    if ((x.alias === undefined) === (x.version === undefined)) throw invalidParam(`variants[${i}] must give exactly one of alias or version.`);
    const out: VariantSpec = {
      name: x.name === undefined ? (typeof x.alias === "string" ? x.alias : `v${String(x.version)}`) : name(x.name, `variants[${i}].name`),
      model: x.model,
      weight: x.weight === undefined ? 1 : num(x.weight, `variants[${i}].weight`, 0, 1_000_000),
    };
    if (x.alias !== undefined) {
      if (typeof x.alias !== "string" || !/^[A-Za-z0-9_-]{1,255}$/.test(x.alias)) throw invalidParam(`variants[${i}].alias must be an alias name.`);
      out.alias = x.alias;
    } else {
      out.version = int(typeof x.version === "string" && /^\d+$/.test(x.version) ? Number(x.version) : x.version, `variants[${i}].version`, 1, 2 ** 31 - 1);
    }
    name(out.name, `variants[${i}].name`);
    return out;
  });
  const names = new Set(variants.map((v) => v.name));
  if (names.size !== variants.length) throw invalidParam("Variant names must be unique within a deployment.");
  const spec: DeploymentSpec = { name: depName, variants };
  if (o.shadow !== undefined) {
    const s = obj(o.shadow, "shadow");
    onlyKeys(s, ["variant", "fraction"], "shadow");
    if (typeof s.variant !== "string" || !names.has(s.variant)) throw invalidParam("shadow.variant must name one of the deployment's variants.");
    spec.shadow = { variant: s.variant, fraction: num(s.fraction ?? 1, "shadow.fraction", 0, 1) };
  }
  const served = variants.filter((v) => v.name !== spec.shadow?.variant);
  if (!served.length || served.every((v) => v.weight === 0)) throw invalidParam("At least one variant other than the shadow must have a weight above 0.");
  if (o.sticky !== undefined) {
    const s = obj(o.sticky, "sticky");
    onlyKeys(s, ["header"], "sticky");
    if (typeof s.header !== "string" || !/^[A-Za-z0-9-]{1,100}$/.test(s.header)) throw invalidParam("sticky.header must be an HTTP header name.");
    spec.sticky = { header: s.header.toLowerCase() };
  }
  if (o.batching !== undefined) {
    const b = obj(o.batching, "batching");
    onlyKeys(b, ["max_batch_size", "max_queue_delay_ms", "preferred_batch_sizes"], "batching");
    const max = int(b.max_batch_size ?? DEFAULTS.batching.max_batch_size, "batching.max_batch_size", 1, 65_536);
    spec.batching = { max_batch_size: max, max_queue_delay_ms: num(b.max_queue_delay_ms ?? DEFAULTS.batching.max_queue_delay_ms, "batching.max_queue_delay_ms", 0, 10_000) };
    if (b.preferred_batch_sizes !== undefined) {
      if (!Array.isArray(b.preferred_batch_sizes) || b.preferred_batch_sizes.length > 32) throw invalidParam("batching.preferred_batch_sizes must be a list of at most 32 sizes.");
      spec.batching.preferred_batch_sizes = b.preferred_batch_sizes.map((n, i) => int(n, `batching.preferred_batch_sizes[${i}]`, 1, max));
    }
  }
  if (o.queue !== undefined) {
    const q = obj(o.queue, "queue");
    onlyKeys(q, ["max_size", "timeout_ms"], "queue");
    spec.queue = {
      max_size: int(q.max_size ?? DEFAULTS.queue.max_size, "queue.max_size", 1, 1_000_000),
      timeout_ms: int(q.timeout_ms ?? DEFAULTS.queue.timeout_ms, "queue.timeout_ms", 1, 600_000),
    };
  }
  if (o.cache !== undefined) {
    const c = obj(o.cache, "cache");
    onlyKeys(c, ["max_entries", "ttl_s"], "cache");
    spec.cache = { max_entries: int(c.max_entries, "cache.max_entries", 1, 10_000_000), ttl_s: num(c.ttl_s, "cache.ttl_s", 0.001, 31_536_000) };
  }
  if (o.features !== undefined) {
    const f = obj(o.features, "features");
    onlyKeys(f, ["table", "key_column", "columns", "input"], "features");
    for (const [k, v] of [
      ["table", f.table],
      ["key_column", f.key_column],
    ] as const) {
      if (typeof v !== "string" || !SQL_NAME.test(v)) throw invalidParam(`features.${k} must be a plain SQL identifier (letters, digits, _).`);
    }
    if (!Array.isArray(f.columns) || f.columns.length < 1 || f.columns.length > 4096 || f.columns.some((c) => typeof c !== "string" || !SQL_NAME.test(c))) {
      throw invalidParam("features.columns must list 1 to 4096 plain SQL identifiers.");
    }
    if (typeof f.input !== "string" || f.input.length === 0) throw invalidParam("features.input must name the model input the features fill.");
    spec.features = { table: f.table as string, key_column: f.key_column as string, columns: f.columns as string[], input: f.input };
  }
  if (o.prediction_log !== undefined) {
    const p = obj(o.prediction_log, "prediction_log");
    onlyKeys(p, ["enabled", "sample_rate"], "prediction_log");
    if (p.enabled !== undefined && typeof p.enabled !== "boolean") throw invalidParam("prediction_log.enabled must be true or false.");
    spec.prediction_log = { enabled: p.enabled !== false, sample_rate: num(p.sample_rate ?? 1, "prediction_log.sample_rate", 0, 1) };
  }
  if (o.runtime !== undefined) {
    const r = obj(o.runtime, "runtime");
    onlyKeys(r, ["intra_op_threads", "inter_op_threads", "worker_thread"], "runtime");
    spec.runtime = {};
    if (r.intra_op_threads !== undefined) spec.runtime.intra_op_threads = int(r.intra_op_threads, "runtime.intra_op_threads", 1, 256);
    if (r.inter_op_threads !== undefined) spec.runtime.inter_op_threads = int(r.inter_op_threads, "runtime.inter_op_threads", 1, 256);
    if (r.worker_thread !== undefined) {
      if (typeof r.worker_thread !== "boolean") throw invalidParam("runtime.worker_thread must be true or false.");
      spec.runtime.worker_thread = r.worker_thread;
    }
  }
  return spec;
}

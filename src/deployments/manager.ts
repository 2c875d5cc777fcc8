import { createHash } from "node:crypto";
import type { ArtifactService } from "../artifacts/service.js";
import { invalidParam, KeelError, notFound } from "../core/errors.js";
import type { Database } from "../db/database.js";
import type { RegistryService } from "../registry/service.js";
import { modelNotFound, toServingError, unavailable } from "../serving/errors.js";
import { ONNX_PLATFORM } from "../serving/local-model.js";
import type { InferOptions, ModelMetadata, ModelRepository, ServedModel } from "../serving/model.js";
import { ModelRuntime } from "../serving/runtime.js";
import type { Tensor } from "../serving/tensor.js";
import { type FeatureLookup, sqlFeatureLookup } from "./features.js";
import type { DeploymentMetrics } from "./metrics.js";
import { type PredictionLog, summarizeTensor } from "./prediction-log.js";
import { type PredictionSink, storeSink } from "./prediction-sink.js";
import { createResponseCache, type ResponseCache } from "./response-cache.js";
import { createRouter, type Router } from "./router.js";
import type { DeploymentSpec, VariantSpec } from "./spec.js";
import type { DeploymentStore } from "./store-sql.js";
import { type LoadedVariant, loadedVariant } from "./variant.js";

export interface ManagerDeps {
  database: Database;
  store: DeploymentStore;
  registry: RegistryService;
  artifacts: ArtifactService;
  predictions: PredictionLog;
  /** Where drained predictions are written; default: the deployment store, on this thread. */
  sink?: PredictionSink;
  metrics?: DeploymentMetrics;
  now: () => number;
  log: { warn(obj: unknown, msg: string): void; info(obj: unknown, msg: string): void };
  /** How often to look for deployment changes made by other processes (ms). */
  pollMs?: number;
  /** How long predictions are kept, and how many at most (the oldest go first); checked every minute. */
  retention?: { maxAgeMs: number; maxRows: number };
}

export interface VariantStatus {
  name: string;
  model: string;
  alias?: string;
  version?: string;
  weight: number;
  shadow: boolean;
  ready: boolean;
  error?: string;
  queue_depth: number;
}

interface Live {
  spec: DeploymentSpec;
  generation: number;
  router: Router;
  variants: Map<string, LoadedVariant>;
  errors: Map<string, string>;
  cache?: ResponseCache<Tensor[]>;
  features?: FeatureLookup;
  served: ServedModel;
}

const MAX_MODEL_BYTES = 2 * 1024 ** 3;
/** The prediction log's sink: rows per write transaction, and how often it drains the buffer. */
const FLUSH_ROWS = 256;
const FLUSH_EVERY_MS = 250;
/** Predictions are kept a week, ten million at most, unless the server is told otherwise. */
export const DEFAULT_RETENTION = { maxAgeMs: 7 * 24 * 3600 * 1000, maxRows: 10_000_000 };
const PRUNE_EVERY_MS = 60_000;
/** Whether this request's prediction goes to the log (the deployment's prediction_log: all by default, none, or a sample). */
function logged(spec: DeploymentSpec): boolean {
  const p = spec.prediction_log;
  return !p || (p.enabled && (p.sample_rate >= 1 || Math.random() < p.sample_rate));
}

function inputDigest(variant: string, inputs: readonly Tensor[], outputs?: string[]): string {
  const h = createHash("sha1").update(variant).update(outputs?.join(",") ?? "*");
  for (const t of inputs) {
    h.update(`${t.name}|${t.datatype}|${t.shape.join(",")}|`);
    const d = t.data;
    if (Array.isArray(d)) for (const v of d) h.update(typeof v === "string" ? v : Buffer.from(v)).update("\u0000");
    else h.update(new Uint8Array((d as Uint8Array).buffer, (d as Uint8Array).byteOffset, (d as Uint8Array).byteLength));
  }
  return h.digest("hex");
}

function maxAbsDiff(a: readonly Tensor[], b: readonly Tensor[]): number {
  let worst = 0;
  for (const x of a) {
    const y = b.find((t) => t.name === x.name);
    if (!y || y.data.length !== x.data.length) return Number.POSITIVE_INFINITY;
    for (let i = 0; i < x.data.length; i++) {
      const u = x.data[i] as unknown;
      const v = y.data[i] as unknown;
      if (typeof u === "number" && typeof v === "number") worst = Math.max(worst, Math.abs(u - v));
      else if (String(u) !== String(v)) return Number.POSITIVE_INFINITY;
    }
  }
  return worst;
}

/**
 * Runs the deployments of this process: loads each variant's model version from the registry into an
 * onnxruntime session behind a batcher, routes requests (weights, sticky key, pinned variant), mirrors a
 * share to the shadow, caches, looks features up, and logs every prediction. Follows aliases: when one
 * moves (a registry event, here or from another process), the new version is loaded and warmed up, then
 * swapped in; the old one finishes its queue and is freed, so no request fails. Changes to deployments
 * made by other processes are picked up by a cheap poll of the table's generation.
 */
export function createDeploymentManager(deps: ManagerDeps) {
  const live = new Map<string, Live>();
  let chain: Promise<unknown> = Promise.resolve();
  let fingerprint = "";
  let lastEventSeq = -1;
  let timer: NodeJS.Timeout | undefined;
  let sinkTimer: NodeJS.Timeout | undefined;
  let pruneTimer: NodeJS.Timeout | undefined;
  let pruning: Promise<number> | undefined;
  const retention = deps.retention ?? DEFAULT_RETENTION;
  let stopped = false;
  let flushing: Promise<void> | undefined;
  const sink = deps.sink ?? storeSink(deps.store, deps.log);

  /** One change at a time (loads are slow; two syncs must not race). */
  function serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = chain.then(fn, fn);
    chain = run.catch(() => {});
    return run;
  }

  async function resolveVersion(v: VariantSpec): Promise<number> {
    if (v.version !== undefined) {
      await deps.registry.getVersion(v.model, v.version);
      return v.version;
    }
    return Number((await deps.registry.versionByAlias(v.model, v.alias as string)).version);
  }

  async function modelBytes(model: string, version: number): Promise<Uint8Array> {
    const sig = await deps.registry.signature(model, version);
    if (sig.source !== "onnx" || sig.file === undefined) {
      throw invalidParam(`Model '${model}' version ${version} has no .onnx file to serve${sig.error ? ` (${sig.error})` : ""}: log the model as ONNX and register it again.`);
    }
    const base = await deps.registry.artifactPath(model, version);
    const path = sig.file === "" ? base : `${base}/${sig.file}`;
    const read = await deps.artifacts.read(path);
    if (read.size > MAX_MODEL_BYTES) throw invalidParam(`Model '${model}' version ${version} is ${read.size} bytes; at most ${MAX_MODEL_BYTES} can be served.`);
    const chunks: Buffer[] = [];
    for await (const c of read.stream) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }

  async function loadVariant(spec: DeploymentSpec, v: VariantSpec, version: number): Promise<LoadedVariant> {
    const runtime = await ModelRuntime.load(
      { bytes: await modelBytes(v.model, version) },
      { intraOpThreads: spec.runtime?.intra_op_threads, interOpThreads: spec.runtime?.inter_op_threads, workerThread: spec.runtime?.worker_thread },
    );
    return loadedVariant(v, String(version), runtime, spec, (b) => {
      deps.metrics?.batchSize.observe({ deployment: spec.name, variant: v.name }, b.rows);
    });
  }

  /** Checks that every variant can be served (model, alias or version, an .onnx file) before a spec is stored. */
  async function check(spec: DeploymentSpec): Promise<void> {
    for (const v of spec.variants) {
      const version = await resolveVersion(v);
      const sig = await deps.registry.signature(v.model, version);
      if (sig.source !== "onnx") throw invalidParam(`Variant '${v.name}': model '${v.model}' version ${version} has no .onnx file to serve${sig.error ? ` (${sig.error})` : ""}.`);
    }
  }

  function servedModel(name: string): ServedModel {
    const current = () => live.get(name) as Live;
    const primary = (l: Live): LoadedVariant | undefined => {
      for (const v of l.spec.variants) if (v.name !== l.spec.shadow?.variant && v.weight > 0 && l.variants.has(v.name)) return l.variants.get(v.name);
      return l.variants.values().next().value;
    };
    return {
      name,
      get versions() {
        return current().spec.variants.map((v) => v.name);
      },
      metadata(): ModelMetadata {
        const l = current();
        const p = primary(l);
        if (!p) throw unavailable(`Deployment '${name}' has no loaded variant yet.`, 1);
        const inputs = p.runtime.inputs.filter((i) => i.name !== l.features?.input);
        return { name, versions: l.spec.variants.map((v) => v.name), platform: ONNX_PLATFORM, inputs, outputs: p.runtime.outputs };
      },
      ready() {
        const l = live.get(name);
        return !!l && l.spec.variants.every((v) => l.variants.has(v.name));
      },
      refused(err: unknown) {
        const status = toServingError(err).status;
        deps.metrics?.refused.inc({ deployment: name, reason: status === 429 ? "overloaded" : status >= 500 ? "unavailable" : "invalid" });
      },
      saturated(version?: string) {
        const l = live.get(name);
        if (!l || l.cache) return false; // a cached answer needs no queue
        if (version !== undefined) return l.variants.get(version)?.saturated() ?? false;
        // Full only when every variant traffic can go to is full: routing picks one after the body is read.
        let any = false;
        for (const v of l.spec.variants) {
          if (v.weight <= 0 || v.name === l.spec.shadow?.variant) continue;
          const loaded = l.variants.get(v.name);
          if (!loaded?.saturated()) return false;
          any = true;
        }
        return any;
      },
      async infer(inputs: Tensor[], opts: InferOptions): Promise<Tensor[]> {
        const l = current();
        const t0 = performance.now();
        let spec: VariantSpec;
        if (opts.version !== undefined) {
          const pinned = l.spec.variants.find((v) => v.name === opts.version);
          if (!pinned) throw modelNotFound(`Deployment '${name}' has no variant '${opts.version}'.`);
          spec = pinned;
        } else {
          const header = l.spec.sticky ? opts.headers[l.spec.sticky.header] : undefined;
          spec = l.router.pick(typeof header === "string" && header !== "" ? header : undefined);
        }
        const variant = l.variants.get(spec.name);
        if (!variant) throw unavailable(`Variant '${spec.name}' of deployment '${name}' is not loaded${l.errors.get(spec.name) ? `: ${l.errors.get(spec.name)}` : ""}.`, 1);
        let feed = inputs;
        if (l.features) {
          const looked = await l.features.lookup(opts.parameters);
          const byName = new Map(inputs.map((t) => [t.name, t]));
          byName.set(looked.name, looked);
          feed = variant.runtime.inputs.map((s) => byName.get(s.name)).filter((t): t is Tensor => t !== undefined);
        }
        const key = l.cache ? inputDigest(spec.name, feed, opts.outputs) : "";
        const cached = l.cache?.get(key);
        if (l.cache) deps.metrics?.cache.inc({ deployment: name, result: cached ? "hit" : "miss" });
        let outputs: Tensor[];
        try {
          outputs = cached ?? (await variant.infer(feed, { outputs: opts.outputs, deadline: opts.deadline }));
        } catch (err) {
          // A 5xx is the variant's fault; a 4xx (a shape the model refuses, a full queue) is the request's.
          const m = deps.metrics?.variant(name, spec.name);
          (toServingError(err).status >= 500 ? m?.error : m?.refused)?.inc();
          throw err;
        }
        if (l.cache && !cached) l.cache.set(key, outputs);
        const latencyMs = performance.now() - t0;
        const m = deps.metrics?.variant(name, spec.name);
        if (m) {
          (cached ? m.cached : m.ok).inc();
          m.latency.observe(latencyMs / 1000);
        }
        if (logged(l.spec)) deps.predictions.push({
          time: deps.now(),
          requestId: opts.requestId,
          deployment: name,
          variant: spec.name,
          modelVersion: variant.modelVersion,
          latencyMs,
          inputs: feed.map(summarizeTensor),
          outputs: outputs.map(summarizeTensor),
        });
        const shadowSpec = opts.version === undefined ? l.router.shadowFor() : undefined;
        const shadow = shadowSpec ? l.variants.get(shadowSpec.name) : undefined;
        if (shadow && shadowSpec) mirror(name, shadow, shadowSpec, spec, feed, outputs, opts, logged(l.spec));
        return outputs;
      },
    };
  }

  /** Sends a copy to the shadow variant; its answer is compared and logged, never returned, and its failures are only counted. */
  function mirror(name: string, shadow: LoadedVariant, shadowSpec: VariantSpec, primary: VariantSpec, feed: Tensor[], answer: Tensor[], opts: InferOptions, log: boolean): void {
    const t0 = performance.now();
    shadow.infer(feed, { outputs: opts.outputs }).then(
      (out) => {
        const diff = maxAbsDiff(answer, out);
        deps.metrics?.shadow.inc({ deployment: name, variant: shadowSpec.name, outcome: diff === 0 ? "same" : "differs" });
        if (log) deps.predictions.push({
          time: deps.now(),
          requestId: opts.requestId,
          deployment: name,
          variant: shadowSpec.name,
          modelVersion: shadow.modelVersion,
          latencyMs: performance.now() - t0,
          inputs: null,
          outputs: { tensors: out.map(summarizeTensor), max_abs_diff: Number.isFinite(diff) ? diff : "incomparable" },
          shadowOf: primary.name,
        });
      },
      (err: Error) => {
        deps.metrics?.shadow.inc({ deployment: name, variant: shadowSpec.name, outcome: "error" });
        if (log) deps.predictions.push({
          time: deps.now(),
          requestId: opts.requestId,
          deployment: name,
          variant: shadowSpec.name,
          modelVersion: shadow.modelVersion,
          latencyMs: performance.now() - t0,
          inputs: null,
          outputs: null,
          shadowOf: primary.name,
          error: err.message,
        });
      },
    );
  }

  /** Brings one deployment to its stored spec: reuses variants whose model version is unchanged, loads the rest, retires the leftovers. */
  async function apply(spec: DeploymentSpec, generation: number): Promise<void> {
    const old = live.get(spec.name);
    const variants = new Map<string, LoadedVariant>();
    const errors = new Map<string, string>();
    const keep = new Set<LoadedVariant>();
    for (const v of spec.variants) {
      try {
        const version = await resolveVersion(v);
        const reuse = old && [...old.variants.values()].find((x) => x.spec.model === v.model && x.modelVersion === String(version) && !keep.has(x));
        if (reuse) {
          reuse.reconfigure(spec);
          keep.add(reuse);
          variants.set(v.name, { ...reuse, spec: v });
        } else {
          variants.set(v.name, await loadVariant(spec, v, version));
        }
      } catch (err) {
        errors.set(v.name, (err as Error).message);
        deps.log.warn({ deployment: spec.name, variant: v.name, err: (err as Error).message }, "deployment variant could not be loaded");
      }
    }
    const entry: Live = {
      spec,
      generation,
      router: createRouter(spec),
      variants,
      errors,
      cache: spec.cache ? createResponseCache<Tensor[]>(spec.cache.max_entries, spec.cache.ttl_s * 1000) : undefined,
      features: spec.features ? sqlFeatureLookup(deps.database, spec.features) : undefined,
      served: old?.served ?? servedModel(spec.name),
    };
    live.set(spec.name, entry);
    if (old) for (const v of old.variants.values()) if (!keep.has(v)) void v.retire();
  }

  async function remove(name: string): Promise<void> {
    const old = live.get(name);
    live.delete(name);
    if (old) await Promise.all([...old.variants.values()].map((v) => v.retire()));
  }

  /** Loads what the table says and this process doesn't have yet (or has older). */
  async function sync(): Promise<void> {
    const rows = await deps.store.list();
    const names = new Set(rows.map((r) => r.name));
    for (const r of rows) {
      const l = live.get(r.name);
      if (!l || l.generation !== r.generation) await apply(r.spec, r.generation);
    }
    for (const name of [...live.keys()]) if (!names.has(name)) await remove(name);
    fingerprint = await deps.store.fingerprint();
  }

  /** Re-resolves every alias; a moved one gets its new version loaded and swapped in. */
  async function followAliases(): Promise<void> {
    for (const l of live.values()) {
      for (const v of l.spec.variants) {
        if (v.alias === undefined) continue;
        let version: number;
        try {
          version = await resolveVersion(v);
        } catch (err) {
          l.errors.set(v.name, (err as Error).message);
          continue;
        }
        const current = l.variants.get(v.name);
        if (current && current.modelVersion === String(version)) continue;
        try {
          const next = await loadVariant(l.spec, v, version);
          l.variants.set(v.name, next);
          l.errors.delete(v.name);
          deps.log.info({ deployment: l.spec.name, variant: v.name, from: current?.modelVersion, to: version }, "alias moved: new version swapped in");
          if (current) void current.retire();
        } catch (err) {
          l.errors.set(v.name, (err as Error).message);
          deps.log.warn({ deployment: l.spec.name, variant: v.name, err: (err as Error).message }, "alias moved but the new version could not be loaded; still serving the old one");
        }
      }
    }
  }

  async function tick(): Promise<void> {
    if (stopped) return;
    try {
      if ((await deps.store.fingerprint()) !== fingerprint) await serial(sync);
      const seq = await deps.registry.lastEventSeq();
      if (seq !== lastEventSeq) {
        lastEventSeq = seq;
        await serial(followAliases);
      }
    } catch (err) {
      deps.log.warn({ err: (err as Error).message }, "deployment poll failed; retrying");
    }
  }

  /**
   * Hands what the prediction log holds to the sink, a few hundred rows at a time with the event loop let
   * go between them (a sink on this thread must not stall requests); resolves once the sink has stored it.
   */
  async function flushPredictions(): Promise<void> {
    if (flushing) return flushing;
    flushing = (async () => {
      for (;;) {
        const batch = deps.predictions.drain(FLUSH_ROWS);
        if (!batch.length) break;
        await sink.write(batch);
        await new Promise<void>((r) => setImmediate(r));
      }
      await sink.flush();
    })().finally(() => {
      flushing = undefined;
    });
    return flushing;
  }

  /** Deletes predictions past the retention (age, then count), a chunk at a time with the event loop let go between. */
  function prunePredictions(): Promise<number> {
    pruning ??= deps.store
      .prunePredictions(deps.now() - retention.maxAgeMs, retention.maxRows, () => new Promise<void>((r) => setImmediate(r)))
      .catch((err: Error) => {
        deps.log.warn({ err: err.message }, "pruning the prediction log failed; retrying in a minute");
        return 0;
      })
      .finally(() => {
        pruning = undefined;
      });
    return pruning;
  }

  const repository: ModelRepository = {
    list: () => [...live.values()].map((l) => l.served),
    get: (name, version) => {
      const l = live.get(name);
      if (!l) return undefined;
      return version === undefined || l.spec.variants.some((v) => v.name === version) ? l.served : undefined;
    },
  };

  return {
    repository,
    async start(): Promise<void> {
      lastEventSeq = await deps.registry.lastEventSeq();
      await serial(sync);
      deps.registry.onChange(() => void tick());
      timer = setInterval(() => void tick(), deps.pollMs ?? 1000);
      timer.unref();
      sinkTimer = setInterval(() => void flushPredictions(), FLUSH_EVERY_MS);
      sinkTimer.unref();
      pruneTimer = setInterval(() => void prunePredictions(), PRUNE_EVERY_MS);
      pruneTimer.unref();
    },
    async stop(): Promise<void> {
      stopped = true;
      clearInterval(timer);
      clearInterval(sinkTimer);
      clearInterval(pruneTimer);
      await pruning;
      await chain;
      for (const name of [...live.keys()]) await remove(name);
      await flushPredictions();
      await sink.close();
    },
    flushPredictions,
    prunePredictions,
    /** Checks, stores and applies a new deployment; the answer comes once this process serves it. */
    async create(spec: DeploymentSpec, by: string) {
      await check(spec);
      const row = await deps.store.create(spec, by, deps.now());
      if (!row) throw new KeelError("RESOURCE_ALREADY_EXISTS", `A deployment named '${spec.name}' already exists.`);
      await serial(sync);
      return this.status(spec.name);
    },
    async replace(spec: DeploymentSpec) {
      await check(spec);
      if (!(await deps.store.replace(spec, deps.now()))) throw notFound(`No deployment named '${spec.name}'.`);
      await serial(sync);
      return this.status(spec.name);
    },
    async remove(name: string) {
      if (!(await deps.store.remove(name))) throw notFound(`No deployment named '${name}'.`);
      await serial(sync);
    },
    async get(name: string) {
      const row = await deps.store.get(name);
      if (!row) throw notFound(`No deployment named '${name}'.`);
      return row;
    },
    /** The spec and, per variant, the version this process serves, readiness, errors and queue depth. */
    async status(name: string) {
      const row = await this.get(name);
      const l = live.get(name);
      const variants: VariantStatus[] = row.spec.variants.map((v) => {
        const loaded = l?.variants.get(v.name);
        const error = l?.errors.get(v.name);
        return {
          name: v.name,
          model: v.model,
          ...(v.alias !== undefined ? { alias: v.alias } : {}),
          ...(loaded ? { version: loaded.modelVersion } : {}),
          weight: v.weight,
          shadow: row.spec.shadow?.variant === v.name,
          ready: !!loaded,
          ...(error ? { error } : {}),
          queue_depth: loaded?.queueDepth() ?? 0,
        };
      });
      return { name, spec: row.spec, created_by: row.created_by, creation_time: row.creation_time, last_updated_time: row.last_updated_time, variants };
    },
    async list() {
      return Promise.all((await deps.store.list()).map((r) => this.status(r.name)));
    },
    /** The models a deployment serves (for access checks); [] when it is unknown here. */
    modelsOf(name: string): string[] {
      return [...new Set((live.get(name)?.spec.variants ?? []).map((v) => v.model))];
    },
    queueDepths() {
      const out: { deployment: string; variant: string; depth: number }[] = [];
      for (const l of live.values()) for (const [variant, v] of l.variants) out.push({ deployment: l.spec.name, variant, depth: v.queueDepth() });
      return out;
    },
    /** Recent predictions, newest first; what this process has buffered is written first, so a reader sees its own requests. */
    async predictions(name: string, limit: number, before?: number) {
      await flushPredictions();
      return deps.store.predictions(name, limit, before);
    },
  };
}

export type DeploymentManager = ReturnType<typeof createDeploymentManager>;

/**
 * What the HTTP layer (OIP v2, MLflow scoring) serves: models behind two small interfaces. A standalone
 * `keel serve` puts one ONNX runtime behind them (local-model.ts); deployments put variants, batching,
 * routing and hooks behind the same ones, and the protocols stay unchanged.
 */
import type { IncomingHttpHeaders } from "node:http";
import type { Datatype, Tensor } from "./tensor.js";

export interface TensorSpec {
  name: string;
  datatype: Datatype;
  /** Dimensions, -1 where dynamic. */
  shape: number[];
  /** The model does not state the rank: any shape is accepted (OIP metadata shows [-1]). */
  anyRank?: boolean;
  /**
   * ONNX's symbolic names of dynamic dims (dim_param, e.g. "batch"), null where fixed or unnamed. Inputs
   * that share a name must agree on its size in a request.
   */
  dimNames?: (string | null)[];
}

export interface ModelMetadata {
  name: string;
  versions: string[];
  /** Triton's platform name: "onnxruntime_onnx". */
  platform: string;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
}

/** Checks applied to a model's inputs beyond its signature. */
export interface InputPolicy {
  /**
   * Accept NaN and ±Infinity in floating-point inputs. Default true: ONNX signatures cannot say whether a
   * model handles them, and some do on purpose (tree ensembles treat NaN as "missing"); set false for
   * models that would silently answer NaN, and such inputs get a 400 naming the input and element.
   */
  allowNonFinite: boolean;
}

export interface InferOptions {
  /** Output names to compute and return, in this order; all of the model's outputs when absent. */
  outputs?: string[];
  requestId: string;
  /** monotonicMs() (src/core/clock.ts) after which the answer is useless (from the Keel-Timeout-Ms header): a queued request is dropped. */
  deadline?: number;
  /** The request's headers (sticky routing, feature lookups, tracing). */
  headers: IncomingHttpHeaders;
  /** The request's `parameters` (OIP) or `params` (MLflow `inputs` format). */
  parameters?: Record<string, unknown>;
  /** The version asked for in the path (/v2/models/{m}/versions/{v}), if any. */
  version?: string;
}

export interface ServedModel {
  readonly name: string;
  readonly versions: readonly string[];
  /** Inputs and outputs as of now (a hot swap may change them): requests are validated against these. */
  metadata(): ModelMetadata;
  ready(): boolean;
  readonly inputPolicy?: InputPolicy;
  /**
   * Runs the model. Inputs arrive validated against metadata() and in its input order. Throw a
   * ServingError (errors.ts) for 4xx/429/503 answers; anything else is a 500.
   */
  infer(inputs: Tensor[], opts: InferOptions): Promise<Tensor[]>;
  /**
   * True when a request (for `version`, if pinned) would find its queue full: it is refused with 429
   * before its body is read, the cheapest answer to overload. Absent or false: read it and try.
   */
  saturated?(version?: string): boolean;
  /**
   * A request for this model was answered with an error before infer() ran (a malformed body, not ready,
   * a full queue): the model's own counts include requests it never saw.
   */
  refused?(err: unknown): void;
}

export interface ModelRepository {
  list(): readonly ServedModel[];
  /** The model answering for `name` (and `version`, when given); undefined when there is none. */
  get(name: string, version?: string): ServedModel | undefined;
}

/** A repository of fixed models, each answering for all of its versions. */
export function staticRepository(models: readonly ServedModel[]): ModelRepository {
  const byName = new Map(models.map((m) => [m.name, m]));
  return {
    list: () => models,
    get: (name, version) => {
      const m = byName.get(name);
      return m && (version === undefined || m.versions.includes(version)) ? m : undefined;
    },
  };
}

/** `err`, counted by `model` as a refusal (a request answered with an error it never saw). */
export function refuse<E>(model: ServedModel, err: E): E {
  model.refused?.(err);
  return err;
}

/**
 * Runs what a route does before `model.infer()` (readiness, decoding): an error it throws is answered as
 * usual and counted by the model as a refusal (`refused`).
 */
export function beforeInfer<T>(model: ServedModel, step: () => T): T {
  try {
    return step();
  } catch (err) {
    throw refuse(model, err);
  }
}

/**
 * One ONNX model in onnxruntime-node: loaded from bytes or a file, on the CPU execution provider, warmed
 * up, described (inputs and outputs with OIP datatypes and -1 for dynamic dims), run, disposed.
 *
 * The signature comes from the file (src/onnx's reader: it keeps ONNX's symbolic dim names and tells an
 * unknown rank from a scalar) and is checked against what onnxruntime reports.
 *
 * onnxruntime-node runs a session on the thread that calls it (its run() is synchronous inside a
 * setImmediate), so on the event loop's thread one run blocks the process for its duration: batching
 * amortizes it, and `workerThread` moves the session to a thread of its own (session.ts).
 */
import { open } from "node:fs/promises";
import type * as Ort from "onnxruntime-node";
import { type ByteSource, type Dim, OnnxFormatError, type OnnxSignature, type OnnxValue, readOnnxSignature, readOnnxSignatureFrom } from "../onnx/index.js";
import { badInput, unavailable } from "./errors.js";
import type { TensorSpec } from "./model.js";
import { loadOrt } from "./ort.js";
import { mainThreadSession, type OrtSession, workerSession } from "./session.js";
import { allocate, isDatatype, type OrtModule, type Tensor, fromOrtTensor, toOrtTensor } from "./tensor.js";

export type ModelSource = { bytes: Uint8Array } | { path: string };

export interface RuntimeOptions {
  /** Threads one run may use (onnxruntime's intra-op pool); 0 or unset: onnxruntime's default, one per core. */
  intraOpThreads?: number;
  /** Threads for running independent graph branches in parallel; 0 or unset: onnxruntime's default. */
  interOpThreads?: number;
  /** Let onnxruntime's pool threads busy-wait between runs (lower latency for back-to-back runs, a core burnt when idle). Default false. */
  allowSpinning?: boolean;
  /**
   * Run the session on a worker thread of its own: the event loop keeps serving HTTP while the model
   * computes (worth it for models that take milliseconds per batch). Default false: on the event loop's thread.
   */
  workerThread?: boolean;
  /** Run once at load with zeros (dynamic dims = 1) so the first request does not pay for lazy initialization. Default true. */
  warmup?: boolean;
}

export interface WarmupResult {
  ok: boolean;
  ms: number;
  /** Why the warm-up run failed: the model still loads (it may need inputs other than zeros of size 1). */
  error?: string;
}

/** The model cannot be served: not ONNX, rejected by onnxruntime, or inputs Keel cannot carry. */
export class ModelLoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ModelLoadError";
  }
}

export class ModelRuntime {
  private inFlight = 0;
  private drained: (() => void) | undefined;
  private disposed = false;
  warmup: WarmupResult | undefined;

  private constructor(
    private readonly ort: OrtModule,
    private readonly session: OrtSession,
    readonly inputs: TensorSpec[],
    readonly outputs: TensorSpec[],
    /** Outputs that are not tensors (e.g. a ZipMap's sequence of maps): never fetched. */
    readonly skippedOutputs: string[],
    /** The session runs on a worker thread of its own. */
    readonly onWorkerThread: boolean,
  ) {}

  static async load(source: ModelSource, opts: RuntimeOptions = {}): Promise<ModelRuntime> {
    const signature = await readSignature(source);
    const ort = await loadOrt();
    const options: Ort.InferenceSession.SessionOptions = {
      executionProviders: ["cpu"],
      graphOptimizationLevel: "all",
      // Only fatal messages on stderr: a failed run is already an exception (a 400 naming the cause), and
      // warnings (unused initializers, …) would be printed at every load.
      logSeverityLevel: 4,
      ...(opts.intraOpThreads ? { intraOpNumThreads: opts.intraOpThreads } : {}),
      // onnxruntime's pool threads otherwise spin after each run waiting for the next one: on a server that
      // interleaves runs with HTTP work they burn a core the event loop needs (the medium MLP bench served
      // 2.6x more requests per CPU-second without spinning).
      ...(opts.allowSpinning ? {} : { extra: { session: { intra_op: { allow_spinning: "0" }, inter_op: { allow_spinning: "0" } } } }),
      ...(opts.interOpThreads ? { interOpNumThreads: opts.interOpThreads, executionMode: "parallel" as const } : {}),
    };
    let session: OrtSession;
    try {
      session = await (opts.workerThread ? workerSession : mainThreadSession)(ort, source, options);
    } catch (err) {
      throw new ModelLoadError(`onnxruntime cannot load the model: ${(err as Error).message}`);
    }
    try {
      const inputs = session.inputNames.map((n) => specOf(n, signature.inputs, "input"));
      const outputs: TensorSpec[] = [];
      const skipped: string[] = [];
      for (const n of session.outputNames) {
        const v = signature.outputs.find((o) => o.name === n);
        if (v && (v.kind !== undefined || !isDatatype(v.datatype))) skipped.push(n);
        else outputs.push(specOf(n, signature.outputs, "output"));
      }
      if (!outputs.length) throw new ModelLoadError(`The model has no tensor outputs Keel can return (outputs: ${session.outputNames.join(", ")}).`);
      const rt = new ModelRuntime(ort, session, inputs, outputs, skipped, opts.workerThread === true);
      if (opts.warmup ?? true) rt.warmup = await rt.runWarmup();
      return rt;
    } catch (err) {
      await session.release().catch(() => undefined);
      throw err;
    }
  }

  /** Runs the model on `inputs` (any order; matched by name) and returns the named outputs (all by default) in that order. */
  async run(inputs: readonly Tensor[], outputNames?: readonly string[]): Promise<Tensor[]> {
    if (this.disposed) throw unavailable("The model was unloaded; retry (a new version is taking over).", 1);
    const feeds: Record<string, Ort.Tensor> = {};
    for (const t of inputs) feeds[t.name] = toOrtTensor(this.ort, t);
    const fetches = outputNames ? [...outputNames] : this.outputs.map((o) => o.name);
    this.inFlight++;
    let result: Record<string, Ort.Tensor>;
    try {
      result = await this.session.run(feeds, fetches);
    } catch (err) {
      // The inputs passed validation against the signature, so this is the model failing on these values
      // (a Reshape that needs another size, an index out of an embedding's range): the caller's to fix.
      throw badInput(`The model could not run on this input: ${firstLine((err as Error).message)}`);
    } finally {
      if (--this.inFlight === 0) this.drained?.();
    }
    return fetches.map((n) => fromOrtTensor(n, result[n] as Ort.Tensor));
  }

  /** Releases the session once the runs in flight have finished; later runs fail with 503. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    if (this.inFlight > 0) await new Promise<void>((resolve) => (this.drained = resolve));
    await this.session.release();
  }

  private async runWarmup(): Promise<WarmupResult> {
    const start = performance.now();
    const unknown = this.inputs.find((i) => i.anyRank);
    if (unknown) return { ok: false, ms: 0, error: `input '${unknown.name}' has no declared rank, so no warm-up input can be built` };
    try {
      const feeds = this.inputs.map((spec): Tensor => {
        const shape = spec.shape.map((d) => (d < 0 ? 1 : d));
        let n = 1;
        for (const d of shape) n *= d;
        return { name: spec.name, datatype: spec.datatype, shape, data: allocate(spec.datatype, n) };
      });
      await this.run(feeds);
      return { ok: true, ms: performance.now() - start };
    } catch (err) {
      return { ok: false, ms: performance.now() - start, error: (err as Error).message };
    }
  }
}

function firstLine(s: string): string {
  const line = s.split("\n")[0];
  return line.length > 500 ? `${line.slice(0, 500)}…` : line;
}

async function readSignature(source: ModelSource): Promise<OnnxSignature> {
  try {
    if ("bytes" in source) return readOnnxSignature(source.bytes);
    const fh = await open(source.path, "r").catch((err: NodeJS.ErrnoException) => {
      throw new ModelLoadError(`Cannot read the model file ${source.path}: ${err.code === "ENOENT" ? "no such file" : err.message}`);
    });
    try {
      const { size } = await fh.stat();
      const file: ByteSource = {
        size,
        read: async (offset, length) => {
          const buf = new Uint8Array(length);
          const { bytesRead } = await fh.read(buf, 0, length, offset);
          return buf.subarray(0, bytesRead);
        },
      };
      return await readOnnxSignatureFrom(file);
    } finally {
      await fh.close();
    }
  } catch (err) {
    if (err instanceof OnnxFormatError) throw new ModelLoadError(err.message);
    throw err;
  }
}

function specOf(name: string, values: readonly OnnxValue[], what: "input" | "output"): TensorSpec {
  const v = values.find((x) => x.name === name);
  if (!v) throw new ModelLoadError(`onnxruntime reports ${what} '${name}', which the model file does not declare.`);
  if (v.kind !== undefined) throw new ModelLoadError(`The model's ${what} '${name}' is a ${v.kind}; Keel serves models whose inputs are tensors.`);
  if (!isDatatype(v.datatype)) throw new ModelLoadError(`The model's ${what} '${name}' has element type ${v.dtype}, which the Open Inference Protocol cannot carry.`);
  if (v.shape === null) return { name, datatype: v.datatype, shape: [-1], anyRank: true };
  return {
    name,
    datatype: v.datatype,
    shape: v.shape.map((d: Dim) => (typeof d === "number" && d >= 0 ? d : -1)),
    dimNames: v.shape.map((d: Dim) => (typeof d === "string" && d !== "" ? d : null)),
  };
}

/**
 * Where a model's onnxruntime session lives: on the event loop's thread (onnxruntime-node's own
 * InferenceSession), or on a worker thread of its own (ort-worker.mjs), so that a slow model's runs
 * overlap with the HTTP work of the requests around them. Both look the same to ModelRuntime.
 */
import { Worker } from "node:worker_threads";
import type * as Ort from "onnxruntime-node";
import type { OrtModule } from "./tensor.js";

export interface OrtSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, Ort.Tensor>, fetches: string[]): Promise<Record<string, Ort.Tensor>>;
  release(): Promise<void>;
}

export type SessionSource = { bytes: Uint8Array } | { path: string };

export async function mainThreadSession(ort: OrtModule, source: SessionSource, options: Ort.InferenceSession.SessionOptions): Promise<OrtSession> {
  const s = "path" in source ? await ort.InferenceSession.create(source.path, options) : await ort.InferenceSession.create(source.bytes, options);
  return {
    inputNames: s.inputNames,
    outputNames: s.outputNames,
    run: async (feeds, fetches) => (await s.run(feeds, fetches)) as Record<string, Ort.Tensor>,
    release: () => s.release(),
  };
}

type Plain = { type: Ort.Tensor.Type; data: Ort.Tensor.DataType; dims: number[] };
type Reply = { op: "loaded"; inputNames: string[]; outputNames: string[] } | { op: "failed"; error: string } | { op: "ran"; id: number; outputs?: Record<string, Plain>; error?: string } | { op: "released" };

/** A session on its own worker thread; the worker's failure fails the runs in flight (the error says so). */
export async function workerSession(ort: OrtModule, source: SessionSource, options: Ort.InferenceSession.SessionOptions): Promise<OrtSession> {
  const worker = new Worker(new URL("./ort-worker.mjs", import.meta.url), { workerData: { resolveFrom: import.meta.url } });
  const pending = new Map<number, { resolve: (o: Record<string, Plain>) => void; reject: (e: Error) => void }>();
  let next = 0;
  let dead: Error | undefined;
  let onLoaded: ((r: Reply) => void) | undefined;
  let onReleased: (() => void) | undefined;
  const fail = (err: Error) => {
    dead ??= err;
    for (const p of pending.values()) p.reject(dead);
    pending.clear();
    onLoaded?.({ op: "failed", error: err.message });
    onReleased?.();
  };
  worker.on("message", (r: Reply) => {
    if (r.op === "ran") {
      const p = pending.get(r.id);
      pending.delete(r.id);
      if (r.error !== undefined) p?.reject(new Error(r.error));
      else p?.resolve(r.outputs as Record<string, Plain>);
    } else if (r.op === "released") onReleased?.();
    else onLoaded?.(r);
  });
  worker.on("error", (err) => fail(new Error(`the model's worker thread failed: ${err.message}`)));
  worker.on("exit", (code) => fail(new Error(`the model's worker thread exited (code ${code})`)));
  const loaded = await new Promise<Reply>((resolve) => {
    onLoaded = resolve;
    const src = "path" in source ? { path: source.path } : { bytes: source.bytes };
    worker.postMessage({ op: "load", source: src, options });
  });
  onLoaded = undefined;
  if (loaded.op !== "loaded") {
    await worker.terminate();
    throw new Error(loaded.op === "failed" ? loaded.error : "the model's worker thread did not load it");
  }
  return {
    inputNames: loaded.inputNames,
    outputNames: loaded.outputNames,
    run(feeds, fetches) {
      if (dead) return Promise.reject(dead);
      const id = next++;
      const plain: Record<string, Plain> = {};
      for (const [name, t] of Object.entries(feeds)) plain[name] = { type: t.type, data: t.data, dims: [...t.dims] };
      return new Promise<Record<string, Plain>>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        // Copied, never transferred: input buffers may be views of request bodies still in use.
        worker.postMessage({ op: "run", id, feeds: plain, fetches });
      }).then((outputs) => {
        const out: Record<string, Ort.Tensor> = {};
        for (const [name, t] of Object.entries(outputs)) out[name] = new ort.Tensor(t.type as "float32", t.data as Float32Array, t.dims);
        return out;
      });
    },
    async release() {
      if (!dead) {
        await new Promise<void>((resolve) => {
          onReleased = resolve;
          worker.postMessage({ op: "release" });
        });
      }
      dead ??= new Error("the model was unloaded");
      await worker.terminate();
    },
  };
}

import { Worker } from "node:worker_threads";
import type { PredictionRecord } from "./prediction-log.js";
import type { DeploymentStore } from "./store-sql.js";

/**
 * Where the prediction log's records go once drained from the buffer. write() hands a batch off (it may
 * return before the batch is stored); flush() resolves once everything handed off so far is stored.
 */
export interface PredictionSink {
  write(records: PredictionRecord[]): Promise<void>;
  flush(): Promise<void>;
  close(): Promise<void>;
}

type Log = { warn(obj: unknown, msg: string): void };

/** Writes through the deployment store on this thread (Postgres: the I/O is asynchronous anyway). */
export function storeSink(store: DeploymentStore, log: Log): PredictionSink {
  return {
    async write(records) {
      try {
        await store.appendPredictions(records);
      } catch (err) {
        log.warn({ err: (err as Error).message, lost: records.length }, "prediction log write failed");
      }
    },
    flush: async () => {},
    close: async () => {},
  };
}

/**
 * Writes to an SQLite file from a worker thread with its own connection, so encoding and inserting
 * predictions never takes the event loop's time. Started on first use.
 */
export function sqliteWorkerSink(file: string, log: Log): PredictionSink {
  let worker: Worker | undefined;
  let nextFlush = 0;
  const waiting = new Map<number, () => void>();
  const start = (): Worker => {
    const w = new Worker(new URL("./prediction-sink-worker.mjs", import.meta.url), { workerData: { file, resolveFrom: import.meta.url } });
    w.unref();
    w.on("message", (m: { flushed?: number; error?: string; lost?: number }) => {
      if (m.flushed !== undefined) {
        waiting.get(m.flushed)?.();
        waiting.delete(m.flushed);
      } else if (m.error) log.warn({ err: m.error, lost: m.lost }, "prediction log write failed");
    });
    w.on("error", (err) => {
      log.warn({ err: err.message }, "prediction log writer stopped; restarting it on the next write");
      worker = undefined;
      for (const done of waiting.values()) done();
      waiting.clear();
    });
    return w;
  };
  return {
    async write(records) {
      worker ??= start();
      worker.postMessage({ rows: records });
    },
    flush() {
      if (!worker) return Promise.resolve();
      const id = nextFlush++;
      const done = new Promise<void>((resolve) => waiting.set(id, resolve));
      worker.postMessage({ flush: id });
      return done;
    },
    async close() {
      if (!worker) return;
      await this.flush();
      await worker.terminate();
      worker = undefined;
    },
  };
}

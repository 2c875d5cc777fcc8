// The prediction log's SQLite writer, on its own thread: turning predictions into JSON and inserting
// them costs ~25 µs each, which on the event loop's thread would cost a small model a third of its
// throughput. It holds its own connection to the same WAL database (writers wait on busy_timeout).
//
// Messages in: {rows: PredictionRecord[]} (written in one transaction), {flush: id} (answered once
// everything before it is written). Out: {flushed: id}, {error: message, lost: n}.
import { createRequire } from "node:module";
import { parentPort, workerData } from "node:worker_threads";
import { INSERT_PREDICTION, predictionValues } from "./prediction-json.mjs";

const require = createRequire(workerData.resolveFrom);
const SQLite = require("better-sqlite3");
const db = new SQLite(workerData.file);
db.pragma("busy_timeout = 10000");
db.pragma("synchronous = NORMAL");
const insert = db.prepare(INSERT_PREDICTION);
const writeAll = db.transaction((rows) => {
  for (const r of rows) insert.run(...predictionValues(r));
});

parentPort.on("message", (msg) => {
  if (msg.rows) {
    try {
      // IMMEDIATE: take the write lock up front (waiting on busy_timeout), never upgrade a read to a write.
      writeAll.immediate(msg.rows);
    } catch (err) {
      parentPort.postMessage({ error: String(err?.message ?? err), lost: msg.rows.length });
    }
  } else if (msg.flush !== undefined) {
    parentPort.postMessage({ flushed: msg.flush });
  } else if (msg.close) {
    db.close();
    parentPort.close();
  }
});

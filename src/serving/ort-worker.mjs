// One onnxruntime session on its own thread (runtime: worker_thread). onnxruntime-node runs a session
// synchronously on the thread that calls it: on the event loop's thread a 10 ms batch stops HTTP for
// 10 ms, here the event loop goes on reading, decoding and answering while the model computes.
//
// Messages in:  {op: "load", source: {path} | {bytes}, options}   → {op: "loaded", inputNames, outputNames} | {op: "failed", error}
//               {op: "run", id, feeds: {name: {type, data, dims}}, fetches: [name]} → {op: "ran", id, outputs | error}
//               {op: "release"}                                   → {op: "released"}
import { createRequire } from "node:module";
import { parentPort, workerData } from "node:worker_threads";

const require = createRequire(workerData.resolveFrom);
const ort = require("onnxruntime-node");
let session;

function plain(t) {
  return { type: t.type, data: t.data, dims: Array.from(t.dims) };
}

parentPort.on("message", async (msg) => {
  if (msg.op === "load") {
    try {
      const src = msg.source.path ?? new Uint8Array(msg.source.bytes);
      session = await ort.InferenceSession.create(src, msg.options);
      parentPort.postMessage({ op: "loaded", inputNames: session.inputNames, outputNames: session.outputNames });
    } catch (err) {
      parentPort.postMessage({ op: "failed", error: String(err?.message ?? err) });
    }
  } else if (msg.op === "run") {
    try {
      const feeds = {};
      for (const [name, t] of Object.entries(msg.feeds)) feeds[name] = new ort.Tensor(t.type, t.data, t.dims);
      const result = await session.run(feeds, msg.fetches);
      const outputs = {};
      for (const name of msg.fetches) outputs[name] = plain(result[name]);
      parentPort.postMessage({ op: "ran", id: msg.id, outputs });
    } catch (err) {
      parentPort.postMessage({ op: "ran", id: msg.id, error: String(err?.message ?? err) });
    }
  } else if (msg.op === "release") {
    await session?.release();
    session = undefined;
    parentPort.postMessage({ op: "released" });
  }
});

/**
 * Serving throughput and latency (issue 5's "Benchmarks"), every figure against a baseline measured in the
 * same run, every server a real process on this machine, the load generator (bench/serving-load.ts: raw
 * keep-alive sockets, pre-serialized requests) in this process:
 *
 *  1. Small MLP (30→8→2), 30-float OIP JSON request, 64 connections: `keel serve mlp_small.onnx`
 *     (standalone, its default batcher 64 / 2 ms) and a `keel server` deployment batching 64 / 1 ms, each vs a bare Fastify
 *     route (bench/serving-bare.ts, its own node process) that parses the same JSON and answers a constant.
 *  2. Medium MLP (~410k params): deployment batching 64 / 1 ms vs the same model with max_batch_size 1.
 *  3. Convnet (≥ 1 ms per item, binary tensors): deployment batching 64 / 1 ms vs onnxruntime-node called
 *     directly in this process with the batch sizes the batcher formed (keel_deployment_batch_size from /metrics).
 *  4. Medium MLP batching 64 / 5 ms at 70% of its measured max throughput, open loop: p50, p99 (p99 ≤ 3×p50),
 *     and p99 queueing delay estimated as latency minus one batch's compute (≤ 5 ms + one batch's compute).
 *  5. 1 MiB FP32 input (262144 values, a tiny ReduceMean model written here with src/onnx): server CPU per
 *     request, OIP JSON vs the binary tensor extension (≥ 5×).
 *  6. Prediction-log hook: the small MLP deployment (64 / 1 ms) with its prediction log on (the default)
 *     vs the same deployment with `prediction_log: {enabled: false}`, alternated twice, best of each.
 *
 * Env: KEEL_BENCH_SERVING_SECONDS (measured seconds per load run, default 4), KEEL_BENCH_SERVING_WARMUP_MS
 * (default 1500), KEEL_BENCH_SERVING_CONNECTIONS (default 64).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { encodeOnnxModel } from "../src/onnx/writer.js";
import {
  call,
  figure,
  fmt,
  freePort,
  KEEL_BIN,
  type KeelServer,
  log,
  main,
  mlflow,
  nowMs,
  percentile,
  procCpuSeconds,
  prng,
  ROOT,
  spawnHttp,
  startKeel,
  tempDir,
} from "./lib.js";
import { closedLoop, type LoadResult, once, openLoop, requestBytes, type Target } from "./serving-load.js";

const SECONDS = Number(process.env.KEEL_BENCH_SERVING_SECONDS ?? 4);
const WARMUP_MS = Number(process.env.KEEL_BENCH_SERVING_WARMUP_MS ?? 1500);
const CONNECTIONS = Number(process.env.KEEL_BENCH_SERVING_CONNECTIONS ?? 64);
const FIXTURES = join(ROOT, "test", "fixtures", "serving");
const BIG_VALUES = 262_144; // 1 MiB of FP32

// ---------------------------------------------------------------------------------------------------
// Request bodies (a few distinct ones per model, rotated)

function floats(rnd: () => number, n: number): number[] {
  return Array.from({ length: n }, () => Math.fround(rnd() * 4 - 2));
}

function jsonInfer(name: string, shape: number[], data: number[]): Buffer {
  return Buffer.from(JSON.stringify({ inputs: [{ name, datatype: "FP32", shape, data }] }));
}

/** OIP binary tensor extension: JSON header, then the raw little-endian bytes. */
function binaryInfer(port: number, path: string, name: string, shape: number[], data: number[]): Buffer {
  const bytes = Buffer.from(new Float32Array(data).buffer);
  const header = Buffer.from(JSON.stringify({ inputs: [{ name, datatype: "FP32", shape, parameters: { binary_data_size: bytes.length } }] }));
  return requestBytes({
    port,
    path,
    body: Buffer.concat([header, bytes]),
    headers: { "content-type": "application/octet-stream", "inference-header-content-length": String(header.length) },
  });
}

function jsonRequests(port: number, path: string, input: string, perRow: number, count: number, seed: number): Buffer[] {
  const rnd = prng(seed);
  return Array.from({ length: count }, () => requestBytes({ port, path, body: jsonInfer(input, [1, perRow], floats(rnd, perRow)) }));
}

/** Checks a request answers 200 before it is used for load (a 4xx at 50k/s would measure error paths). */
async function check(t: Target, what: string): Promise<void> {
  const r = await once(t);
  if (r.status !== 200) throw new Error(`${what}: HTTP ${r.status}: ${r.body.toString("utf8").slice(0, 300)}`);
}

async function checkRaw(port: number, raw: Buffer, what: string): Promise<void> {
  // A pre-serialized request: send it through a one-request closed loop.
  const r = await closedLoop({ port, requests: [raw], connections: 1, warmupMs: 0, durationMs: 1 });
  if (r.errors) throw new Error(`${what}: answered ${JSON.stringify(r.statuses)}`);
}

function describe(r: LoadResult): string {
  const lat = r.latencies;
  return `${fmt(r.rps)} req/s, ${r.ok} ok, ${r.errors} errors${r.errors ? ` ${JSON.stringify(r.statuses)} (first answers ${JSON.stringify(r.firstBodies)})` : ""}, p50 ${fmt(percentile(lat, 50))} ms, p99 ${fmt(percentile(lat, 99))} ms, client ${fmt(r.clientCpu / r.seconds)} cores`;
}

/** A closed-loop run against the server process `pid`; also its CPU per answered request (robust to other load on the machine). */
async function load(what: string, pid: number, port: number, requests: Buffer[], connections = CONNECTIONS): Promise<LoadResult & { perCpuS: number; serverCores: number }> {
  let c0 = Number.NaN;
  let t0 = 0;
  const r = await closedLoop({ port, requests, connections, warmupMs: WARMUP_MS, durationMs: SECONDS * 1000, onMeasure: () => {
      c0 = procCpuSeconds(pid);
      t0 = nowMs();
    },
  });
  const cpu = procCpuSeconds(pid) - c0;
  const serverCores = cpu / ((nowMs() - t0) / 1000);
  const perCpuS = r.ok / cpu;
  log(`${what}: ${describe(r)}; server ${fmt(serverCores)} cores, ${fmt(perCpuS)} req/server-cpu-s`);
  if (r.errors > r.ok * 0.01) throw new Error(`${what}: ${r.errors} failed requests (${JSON.stringify(r.statuses)})`);
  return { ...r, perCpuS, serverCores };
}

// ---------------------------------------------------------------------------------------------------
// Keel server setup through the MLflow/Keel HTTP API

async function registerModel(base: string, model: string, file: string): Promise<number> {
  const api = mlflow(base);
  const { experiment_id } = (await api.post("experiments/create", { name: `bench-serving-${model}` })) as { experiment_id: string };
  const run = (await api.post("runs/create", { experiment_id, run_name: model, start_time: Date.now() })) as { run: { info: { run_id: string } } };
  const runId = run.run.info.run_id;
  const put = await fetch(`${base}/api/2.0/mlflow-artifacts/artifacts/${experiment_id}/${runId}/artifacts/model/model.onnx`, { method: "PUT", body: readFileSync(file) });
  if (put.status !== 200) throw new Error(`artifact PUT for ${model}: HTTP ${put.status}: ${(await put.text()).slice(0, 300)}`);
  await api.post("registered-models/create", { name: model });
  const v = (await api.post("model-versions/create", { name: model, source: `runs:/${runId}/model`, run_id: runId })) as { model_version: { version: string } };
  return Number(v.model_version.version);
}

async function deploy(base: string, name: string, model: string, version: number, batching: { max_batch_size: number; max_queue_delay_ms: number }, extra: object = {}): Promise<void> {
  await call(base, "POST", "/api/keel/v1/deployments", { name, variants: [{ model, version }], batching, ...extra });
}

/** keel_deployment_batch_size_{sum,count} for one deployment, from /metrics. */
async function batchStats(base: string, deployment: string): Promise<{ sum: number; count: number }> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const get = (series: string) => {
    let total = 0;
    for (const line of text.split("\n")) {
      if (line.startsWith(`${series}{`) && line.includes(`deployment="${deployment}"`)) total += Number(line.slice(line.lastIndexOf(" ") + 1));
    }
    return total;
  };
  return { sum: get("keel_deployment_batch_size_sum"), count: get("keel_deployment_batch_size_count") };
}

// ---------------------------------------------------------------------------------------------------
// onnxruntime-node directly (the convnet baseline, and one batch's compute for the queueing estimate)

type Ort = typeof import("onnxruntime-node");
async function loadOrt(): Promise<Ort> {
  const m = (await import("onnxruntime-node")) as unknown as Ort & { default?: Ort };
  return m.default ?? m;
}

/** Items per second running `file` directly with batches of `meanBatch` rows on average (floor/ceil mixed). */
async function directRun(ort: Ort, file: string, input: string, perItem: number[], meanBatch: number, seconds: number): Promise<{ itemsPerS: number; itemsPerCpuS: number; cores: number; msPerBatch: number }> {
  // The session options Keel's runtime uses (src/serving/runtime.ts): cpu, all graph optimizations, default threads.
  const session = await ort.InferenceSession.create(file, { executionProviders: ["cpu"], graphOptimizationLevel: "all", logSeverityLevel: 4 });
  try {
    const lo = Math.max(1, Math.floor(meanBatch));
    const hi = Math.ceil(meanBatch);
    const fracHi = hi === lo ? 0 : meanBatch - lo;
    const perRow = perItem.reduce((a, b) => a * b, 1);
    const rnd = prng(7);
    const feeds = (n: number) => ({ [input]: new ort.Tensor("float32", Float32Array.from(floats(rnd, n * perRow)), [n, ...perItem]) });
    const feedLo = feeds(lo);
    const feedHi = feeds(hi);
    for (let i = 0; i < 3; i++) await session.run(feedHi);
    let items = 0;
    let batches = 0;
    let acc = 0;
    const cpu0 = process.cpuUsage();
    const t0 = nowMs();
    while (nowMs() - t0 < seconds * 1000) {
      acc += fracHi;
      const big = acc >= 1;
      if (big) acc -= 1;
      await session.run(big ? feedHi : feedLo);
      items += big ? hi : lo;
      batches++;
    }
    const ms = nowMs() - t0;
    const cu = process.cpuUsage(cpu0);
    const cpu = (cu.user + cu.system) / 1e6; // includes onnxruntime's intra-op threads: same process
    return { itemsPerS: items / (ms / 1000), itemsPerCpuS: items / cpu, cores: cpu / (ms / 1000), msPerBatch: ms / batches };
  } finally {
    await session.release();
  }
}

/** The 1 MiB-input model: y = ReduceMean(x, axis 1), x FLOAT [n, 262144]. Almost no compute: decoding is the cost. */
function writeBigModel(path: string): void {
  const bytes = encodeOnnxModel({
    producerName: "keel-bench",
    graph: {
      name: "reduce_mean_1mib",
      nodes: [{ opType: "ReduceMean", inputs: ["x"], outputs: ["y"], name: "mean", attributes: { axes: { ints: [1] }, keepdims: { i: 1 } } }],
      inputs: [{ name: "x", dtype: "FLOAT", shape: ["n", BIG_VALUES] }],
      outputs: [{ name: "y", dtype: "FLOAT", shape: ["n", 1] }],
    },
  });
  writeFileSync(path, bytes);
}

// ---------------------------------------------------------------------------------------------------

await main(async () => {
  const dir = tempDir("serving");
  const small = join(FIXTURES, "mlp_small.onnx");
  const medium = join(FIXTURES, "mlp_medium.onnx");
  const convnet = join(FIXTURES, "convnet.onnx");
  const big = join(dir, "big.onnx");
  writeBigModel(big);
  log(`serving: ${SECONDS} s per run after ${WARMUP_MS} ms warm-up, ${CONNECTIONS} connections`);

  // --- Baseline: bare Fastify, parse JSON, constant answer ------------------------------------------
  let bare: Awaited<ReturnType<typeof load>>;
  // Kept running (idle) for the latency figure's same-rate baseline: what this machine's tail looks like with no model at all.
  let bareOpen: (rate: number) => ReturnType<typeof openLoop>;
  {
    const port = await freePort();
    const bareSrv = await spawnHttp(["--import", "tsx", join(ROOT, "bench", "serving-bare.ts"), String(port)], port, { label: "bare fastify" });
    const path = "/v2/models/bare/infer";
    await check({ port, path, body: jsonInfer("input", [1, 30], floats(prng(1), 30)) }, "bare fastify");
    bare = await load("bare fastify constant", bareSrv.pid, port, jsonRequests(port, path, "input", 30, 64, 11));
    bareOpen = (rate) => openLoop({ port, requests: jsonRequests(port, path, "input", 30, 64, 11), rate, connections: CONNECTIONS, warmupMs: WARMUP_MS, durationMs: SECONDS * 1000 });
  }

  // --- keel serve mlp_small.onnx (standalone, no batcher) -------------------------------------------
  let standalone: Awaited<ReturnType<typeof load>>;
  {
    const port = await freePort();
    const srv = await spawnHttp([KEEL_BIN, "serve", small, "--port", String(port), "--log-level", "warn"], port, { label: "keel serve", timeoutMs: 60_000 });
    const path = "/v2/models/mlp_small/infer";
    await check({ port, path, body: jsonInfer("input", [1, 30], floats(prng(1), 30)) }, "keel serve mlp_small");
    standalone = await load("keel serve mlp_small (standalone)", srv.pid, port, jsonRequests(port, path, "input", 30, 64, 11));
    await srv.stop();
  }

  // --- keel server with deployments -----------------------------------------------------------------
  const server: KeelServer = await startKeel({ dataDir: join(dir, "keel-data"), timeoutMs: 60_000 });
  const base = server.url;
  const port = Number(new URL(base).port);
  const versions = {
    small: await registerModel(base, "mlp-small", small),
    medium: await registerModel(base, "mlp-medium", medium),
    convnet: await registerModel(base, "convnet", convnet),
    big: await registerModel(base, "big-input", big),
  };
  const B64 = { max_batch_size: 64, max_queue_delay_ms: 1 };
  const B1 = { max_batch_size: 1, max_queue_delay_ms: 0 };
  await deploy(base, "small-batched", "mlp-small", versions.small, B64);
  await deploy(base, "small-nolog", "mlp-small", versions.small, B64, { prediction_log: { enabled: false } });
  await deploy(base, "medium-batched", "mlp-medium", versions.medium, B64);
  await deploy(base, "medium-unbatched", "mlp-medium", versions.medium, B1);
  await deploy(base, "medium-q5", "mlp-medium", versions.medium, { max_batch_size: 64, max_queue_delay_ms: 5 });
  await deploy(base, "convnet-batched", "convnet", versions.convnet, B64);
  await deploy(base, "convnet-worker", "convnet", versions.convnet, B64, { runtime: { worker_thread: true } });
  await deploy(base, "big-input", "big-input", versions.big, B1);
  log("serving: keel server up, 8 deployments created");

  const depPath = (d: string) => `/v2/models/${d}/infer`;
  const smallReqs = (d: string) => jsonRequests(port, depPath(d), "input", 30, 64, 11);
  for (const d of ["small-batched", "small-nolog", "medium-batched", "medium-unbatched", "medium-q5"]) {
    await check({ port, path: depPath(d), body: jsonInfer("input", [1, 30], floats(prng(1), 30)) }, d);
  }

  const best = (a: Awaited<ReturnType<typeof load>>, b: Awaited<ReturnType<typeof load>>) => (a.rps >= b.rps ? a : b);
  const logOn1 = await load("deployment small-batched (64/1ms, prediction log on)", server.pid, port, smallReqs("small-batched"));
  const logOff1 = await load("deployment small-nolog (64/1ms, prediction log off)", server.pid, port, smallReqs("small-nolog"));
  const logOn2 = await load("deployment small-batched (64/1ms, prediction log on)", server.pid, port, smallReqs("small-batched"));
  const logOff2 = await load("deployment small-nolog (64/1ms, prediction log off)", server.pid, port, smallReqs("small-nolog"));
  const smallBatched = best(logOn1, logOn2);
  const smallNoLog = best(logOff1, logOff2);
  const sb = await batchStats(base, "small-batched");
  log(`small-batched: mean batch ${fmt(sb.sum / sb.count)} rows`);

  const medBatched = await load("deployment medium-batched (64/1ms)", server.pid, port, smallReqs("medium-batched"));
  const medUnbatched = await load("deployment medium-unbatched (max_batch_size 1)", server.pid, port, smallReqs("medium-unbatched"));

  // Convnet, binary tensors ([1,3,64,64] FP32 = 48 KiB per request).
  const convRnd = prng(5);
  const convReqs = Array.from({ length: 16 }, () => binaryInfer(port, depPath("convnet-batched"), "image", [1, 3, 64, 64], floats(convRnd, 3 * 64 * 64)));
  await checkRaw(port, convReqs[0], "convnet-batched");
  const cb0 = await batchStats(base, "convnet-batched");
  const conv = await load("deployment convnet-batched (64/1ms, binary)", server.pid, port, convReqs);
  const cb1 = await batchStats(base, "convnet-batched");
  const convMeanBatch = (cb1.sum - cb0.sum) / (cb1.count - cb0.count);
  log(`convnet-batched: mean batch ${fmt(convMeanBatch)} rows over ${cb1.count - cb0.count} batches`);
  const convWRnd = prng(5);
  const convWReqs = Array.from({ length: 16 }, () => binaryInfer(port, depPath("convnet-worker"), "image", [1, 3, 64, 64], floats(convWRnd, 3 * 64 * 64)));
  await checkRaw(port, convWReqs[0], "convnet-worker");
  const cw0 = await batchStats(base, "convnet-worker");
  const convW = await load("deployment convnet-worker (64/1ms, binary, session on a worker thread)", server.pid, port, convWReqs);
  const cw1 = await batchStats(base, "convnet-worker");
  const convWMeanBatch = (cw1.sum - cw0.sum) / (cw1.count - cw0.count);
  log(`convnet-worker: mean batch ${fmt(convWMeanBatch)} rows over ${cw1.count - cw0.count} batches`);

  // Latency at 70% of max throughput, max_queue_delay_ms = 5.
  const q5Reqs = smallReqs("medium-q5");
  const q5Max = await load("deployment medium-q5 (64/5ms) max", server.pid, port, q5Reqs);
  const rate = 0.7 * q5Max.rps;
  const q0 = await batchStats(base, "medium-q5");
  const open = await openLoop({ port, requests: q5Reqs, rate, connections: CONNECTIONS, warmupMs: WARMUP_MS, durationMs: SECONDS * 1000 });
  const q1 = await batchStats(base, "medium-q5");
  const q5MeanBatch = (q1.sum - q0.sum) / (q1.count - q0.count);
  log(`medium-q5 open loop at ${fmt(rate)} req/s: ${describe(open)}; ${open.late} arrivals sent > 5 ms late; mean batch ${fmt(q5MeanBatch)} rows`);
  if (open.errors > open.ok * 0.01) throw new Error(`open loop: ${open.errors} failed requests`);
  const openBare = await bareOpen(rate);
  log(`bare fastify open loop at ${fmt(rate)} req/s: ${describe(openBare)}; ${openBare.late} arrivals sent > 5 ms late`);

  // 1 MiB input: JSON vs binary, server CPU per request.
  const bigData = floats(prng(9), BIG_VALUES);
  const bigJson = requestBytes({ port, path: depPath("big-input"), body: jsonInfer("x", [1, BIG_VALUES], bigData) });
  const bigBin = binaryInfer(port, depPath("big-input"), "x", [1, BIG_VALUES], bigData);
  await checkRaw(port, bigJson, "big-input JSON");
  await checkRaw(port, bigBin, "big-input binary");
  const cpuPerReq = async (what: string, req: Buffer) => {
    const c0 = procCpuSeconds(server.pid);
    const r = await closedLoop({ port, requests: [req], connections: 2, warmupMs: 0, durationMs: SECONDS * 1000 });
    const cpu = procCpuSeconds(server.pid) - c0;
    // Warm-up 0 so the /proc window and the counted requests are the same ones (in-flight ones at the end excepted).
    log(`big-input ${what} (${fmt(req.length / 1048576)} MiB request): ${describe(r)}; server ${fmt((cpu / r.ok) * 1000)} ms CPU/request`);
    if (r.errors) throw new Error(`big-input ${what}: ${r.errors} failed requests`);
    return { cpuMs: (cpu / r.ok) * 1000, bytes: req.length };
  };
  await closedLoop({ port, requests: [bigJson, bigBin], connections: 2, warmupMs: 0, durationMs: WARMUP_MS }); // JIT warm-up
  const bigJ = await cpuPerReq("JSON", bigJson);
  const bigB = await cpuPerReq("binary", bigBin);

  await server.stop();

  // --- Baselines in this process: onnxruntime-node directly -----------------------------------------
  const ort = await loadOrt();
  const convDirect = await directRun(ort, convnet, "image", [3, 64, 64], convMeanBatch, Math.min(SECONDS, 4));
  log(
    `onnxruntime-node direct convnet, mean batch ${fmt(convMeanBatch)}: ${fmt(convDirect.itemsPerS)} items/s, ${fmt(convDirect.msPerBatch)} ms/batch, ${fmt(convDirect.cores)} cores, ${fmt(convDirect.itemsPerCpuS)} items/cpu-s`,
  );
  const convWDirect = await directRun(ort, convnet, "image", [3, 64, 64], convWMeanBatch, Math.min(SECONDS, 4));
  log(`onnxruntime-node direct convnet, mean batch ${fmt(convWMeanBatch)}: ${fmt(convWDirect.itemsPerS)} items/s, ${fmt(convWDirect.cores)} cores`);
  const medCompute = await directRun(ort, medium, "input", [30], q5MeanBatch, 1);
  log(`onnxruntime-node direct mlp_medium, batch ${fmt(q5MeanBatch)}: ${fmt(medCompute.msPerBatch, 3)} ms/batch`);

  // --- Figures ----------------------------------------------------------------------------------------
  const bareRps = bare.rps;
  const standaloneRps = standalone.rps;
  figure("bare_fastify_constant_rps", bareRps, "req/s", 1, "itself: the baseline, bare Fastify parsing the same JSON, constant answer, own process");
  figure("serving_oip_small_mlp_rps_standalone", standaloneRps, "req/s", standaloneRps / bareRps, `bare_fastify_constant_rps ${fmt(bareRps)}, target >= 0.70x; keel serve, default batching 64/2ms`);
  figure(
    "serving_oip_small_mlp_rps_deployment_batched",
    smallBatched.rps,
    "req/s",
    smallBatched.rps / bareRps,
    `bare_fastify_constant_rps ${fmt(bareRps)}, target >= 0.70x; keel server deployment 64/1ms, mean batch ${fmt(sb.sum / sb.count)}`,
  );
  // Per server CPU-second: what one dedicated core would answer; steadier than req/s when other work shares the machine.
  figure("bare_fastify_constant_per_server_cpu_s", bare.perCpuS, "req/cpu-s", 1, "itself: the baseline");
  figure("serving_oip_small_mlp_standalone_per_server_cpu_s", standalone.perCpuS, "req/cpu-s", standalone.perCpuS / bare.perCpuS, `bare Fastify ${fmt(bare.perCpuS)} req/cpu-s`);
  figure(
    "serving_oip_small_mlp_deployment_batched_per_server_cpu_s",
    smallBatched.perCpuS,
    "req/cpu-s",
    smallBatched.perCpuS / bare.perCpuS,
    `bare Fastify ${fmt(bare.perCpuS)} req/cpu-s`,
  );
  figure(
    "serving_medium_mlp_batched_rps",
    medBatched.rps,
    "req/s",
    medBatched.rps / medUnbatched.rps,
    `max_batch_size 1 ${fmt(medUnbatched.rps)} req/s, target >= 1.80x`,
  );
  figure(
    "serving_medium_mlp_batched_per_server_cpu_s",
    medBatched.perCpuS,
    "req/cpu-s",
    medBatched.perCpuS / medUnbatched.perCpuS,
    `max_batch_size 1 ${fmt(medUnbatched.perCpuS)} req/cpu-s`,
  );
  figure(
    "serving_convnet_batched_items_per_s",
    conv.rps,
    "items/s",
    conv.rps / convDirect.itemsPerS,
    `onnxruntime-node direct ${fmt(convDirect.itemsPerS)} items/s at the batcher's mean batch ${fmt(convMeanBatch)}, target >= 0.90x; binary tensors`,
  );
  figure(
    "serving_convnet_batched_per_server_cpu_s",
    conv.perCpuS,
    "items/cpu-s",
    conv.perCpuS / convDirect.itemsPerCpuS,
    `onnxruntime-node direct ${fmt(convDirect.itemsPerCpuS)} items/cpu-s (same batches)`,
  );
  figure(
    "serving_convnet_worker_thread_items_per_s",
    convW.rps,
    "items/s",
    convW.rps / convWDirect.itemsPerS,
    `onnxruntime-node direct ${fmt(convWDirect.itemsPerS)} items/s at the batcher's mean batch ${fmt(convWMeanBatch)}, target >= 0.90x; runtime.worker_thread, binary tensors`,
  );
  const p50 = percentile(open.latencies, 50);
  const p99 = percentile(open.latencies, 99);
  figure("serving_q5_p50_latency_at_70pct", p50, "ms", 1, `itself; medium MLP 64/5ms, open loop ${fmt(rate)} req/s = 70% of ${fmt(q5Max.rps)} max`);
  figure("serving_q5_p99_latency_at_70pct", p99, "ms", p99 / p50, `p50 ${fmt(p50)} ms, target <= 3.00x`);
  const bp50 = percentile(openBare.latencies, 50);
  const bp99 = percentile(openBare.latencies, 99);
  figure(
    "bare_fastify_p99_latency_at_same_rate",
    bp99,
    "ms",
    bp99 / bp50,
    `p50 ${fmt(bp50)} ms; the machine's own tail: bare Fastify, same open-loop rate and client, no model`,
  );
  const queueP99 = Math.max(0, p99 - medCompute.msPerBatch);
  const bound = 5 + medCompute.msPerBatch;
  figure(
    "serving_q5_p99_queue_delay_est",
    queueP99,
    "ms",
    queueP99 / bound,
    `5 ms + one batch's compute ${fmt(medCompute.msPerBatch, 3)} ms = ${fmt(bound)} ms, target <= 1.00x; estimated as p99 latency - batch compute (no queue-wait metric; includes HTTP+decode, so an upper bound)`,
  );
  figure(
    "serving_1mib_binary_server_cpu_per_request",
    bigB.cpuMs,
    "ms",
    bigJ.cpuMs / bigB.cpuMs,
    `JSON ${fmt(bigJ.cpuMs)} ms (${fmt(bigJ.bytes / 1048576)} MiB body) vs binary (${fmt(bigB.bytes / 1048576)} MiB); ratio is JSON/binary, target >= 5.00x`,
  );
  figure(
    "serving_prediction_log_on_off_rps",
    smallBatched.rps,
    "req/s",
    smallBatched.rps / smallNoLog.rps,
    `prediction log off ${fmt(smallNoLog.rps)} req/s (small MLP deployment 64/1ms, best of 2 alternated runs each), target >= 0.95x`,
  );
  figure(
    "serving_prediction_log_on_off_per_server_cpu_s",
    smallBatched.perCpuS,
    "req/cpu-s",
    smallBatched.perCpuS / smallNoLog.perCpuS,
    `prediction log off ${fmt(smallNoLog.perCpuS)} req/cpu-s`,
  );
});

/**
 * Artifact proxy throughput and memory (issue 4): a 1 GB file PUT to and GET from a real `keel server`
 * (filesystem store under its data dir) through `/api/2.0/mlflow-artifacts/artifacts/<exp>/<run>/artifacts/…`,
 * against a baseline measured in the same run on the same disk: a streaming read-and-write copy of the same
 * file (fs.createReadStream → fs.createWriteStream, then fsync, as the server's durable write does; no
 * copyFile, so no reflink or in-kernel copy). Baseline, upload and download alternate, REPS times, each on a
 * settled disk (the previous phase's deletes committed, then a 1 s pause); the median of each counts: this disk's speed swings
 * by 2x from one second to the next (a best-of would crown the baseline's luckiest burst), and alternating
 * gives both sides the same weather. Every download is verified (size and a SHA-256 computed on
 * the fly) so a broken transfer cannot pass. Then (unless KEEL_BENCH_ARTIFACT_MULTIPART=0) the same file through MLflow's multipart
 * upload (create → PUT each part to its returned URL → complete), the path the MLflow client takes for big
 * files. Last, a fresh server's peak RSS while a 2 GB body streams in (VmHWM, reset once the server is up,
 * so its startup does not count; cross-checked against sampled VmRSS).
 *
 * The client is Node's http module with streaming bodies on both sides: it never holds more than a stream
 * buffer of the file.
 *
 * Env: KEEL_BENCH_ARTIFACT_MB (default 1024), KEEL_BENCH_ARTIFACT_RSS_MB (2048), KEEL_BENCH_ARTIFACT_REPS (5),
 * KEEL_BENCH_ARTIFACT_MULTIPART (1; 0 skips), KEEL_BENCH_ARTIFACT_PART_MB (100, MLflow's default chunk size),
 * KEEL_BENCH_ARTIFACT_PART_CONCURRENCY (4).
 */
import { createHash, randomBytes } from "node:crypto";
import { createReadStream, createWriteStream, statSync, writeFileSync } from "node:fs";
import { mkdir, open, rm } from "node:fs/promises";
import http from "node:http";
import { dirname, join } from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import {
  createExperimentAndRuns,
  figure,
  fmt,
  type KeelServer,
  log,
  main,
  median,
  nowMs,
  procCpuSeconds,
  procStatusMb,
  startKeel,
  tempDir,
} from "./lib.js";

const MB = 1024 * 1024;
const SIZE_MB = Number(process.env.KEEL_BENCH_ARTIFACT_MB ?? 1024);
const RSS_MB = Number(process.env.KEEL_BENCH_ARTIFACT_RSS_MB ?? 2048);
const REPS = Math.max(1, Number(process.env.KEEL_BENCH_ARTIFACT_REPS ?? 5));
const MULTIPART = process.env.KEEL_BENCH_ARTIFACT_MULTIPART !== "0";
const PART_MB = Number(process.env.KEEL_BENCH_ARTIFACT_PART_MB ?? 100);
const PART_CONCURRENCY = Number(process.env.KEEL_BENCH_ARTIFACT_PART_CONCURRENCY ?? 4);
const RSS_TARGET_MB = 150;
const PROXY = "/api/2.0/mlflow-artifacts";

const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

// ---------------------------------------------------------------------------------------------------
// Test data: a 1 MiB random block, every 4 KiB of it stamped with (chunk, offset), so no two 4 KiB blocks of
// the file are equal (nothing below can dedupe or trivially compress it) and generation costs a memcpy.

const BLOCK = randomBytes(MB);

function chunkAt(i: number): Buffer {
  const out = Buffer.allocUnsafe(MB);
  BLOCK.copy(out);
  for (let off = 0; off < MB; off += 4096) out.writeUInt32LE((BLOCK.readUInt32LE(off) ^ (i * 256 + off / 4096)) >>> 0, off);
  return out;
}

function generated(sizeMb: number): Readable {
  return Readable.from(
    (function* () {
      for (let i = 0; i < sizeMb; i++) yield chunkAt(i);
    })(),
  );
}

/**
 * Deletes a file for good: the directory's fsync commits the journal (with it the discard of the freed
 * blocks on a `discard` mount), so that work is not billed to whatever is timed next.
 */
async function remove(path: string): Promise<void> {
  await rm(path, { force: true });
  await fsyncPath(dirname(path));
}

/** Before each timed phase: a moment for the (virtual) disk to drain what the last phase flushed. */
const settle = () => new Promise((r) => setTimeout(r, 1000));

async function fsyncPath(path: string): Promise<void> {
  const fh = await open(path, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Writes the test file (fsynced, so its dirty pages cannot slow the first timed phase); returns its SHA-256. */
async function writeTestFile(path: string, sizeMb: number): Promise<string> {
  const hash = createHash("sha256");
  const fh = await open(path, "w");
  try {
    for (let i = 0; i < sizeMb; i++) {
      const c = chunkAt(i);
      hash.update(c);
      await fh.write(c, 0, c.length);
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
  return hash.digest("hex");
}

// ---------------------------------------------------------------------------------------------------
// Baseline

/** Streaming read-and-write copy plus fsync; milliseconds. */
async function streamCopy(src: string, dst: string): Promise<number> {
  const t = nowMs();
  await pipeline(createReadStream(src), createWriteStream(dst));
  await fsyncPath(dst);
  return nowMs() - t;
}

// ---------------------------------------------------------------------------------------------------
// HTTP client (streaming both ways)

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

async function readText(res: http.IncomingMessage): Promise<string> {
  let s = "";
  res.setEncoding("utf8");
  for await (const c of res) s += c;
  return s;
}

/** PUTs a stream of `size` bytes; resolves with the answer once the server has replied. */
function putStream(url: string, body: Readable, size: number): Promise<Answer> {
  return new Promise<Answer>((resolve, reject) => {
    const req = http.request(url, {
      method: "PUT",
      agent,
      headers: { "content-type": "application/octet-stream", "content-length": String(size) },
    });
    req.on("error", reject);
    req.on("response", (res) => {
      readText(res).then((text) => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }), reject);
    });
    // An early answer (a 4xx before the body is in) ends the upload; the answer is what we report.
    pipeline(body, req).catch((err) => {
      body.destroy();
      setTimeout(() => reject(err), 1000).unref();
    });
  });
}

async function put(url: string, body: Readable, size: number, what: string): Promise<Answer> {
  const a = await putStream(url, body, size);
  if (a.status !== 200) throw new Error(`${what}: HTTP ${a.status}: ${a.text.slice(0, 500)}`);
  return a;
}

/** GETs `url` into `dst` (fsynced); returns bytes and SHA-256 computed as the bytes stream through. */
function download(url: string, dst: string): Promise<{ size: number; sha256: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent }, (res) => {
      if (res.statusCode !== 200) {
        readText(res).then((t) => reject(new Error(`GET ${url}: HTTP ${res.statusCode}: ${t.slice(0, 500)}`)), reject);
        return;
      }
      const hash = createHash("sha256");
      let size = 0;
      const meter = new Transform({
        transform(chunk: Buffer, _enc, done) {
          size += chunk.length;
          hash.update(chunk);
          done(null, chunk);
        },
      });
      pipeline(res, meter, createWriteStream(dst))
        .then(() => fsyncPath(dst))
        .then(() => {
          const declared = Number(res.headers["content-length"]);
          if (declared !== size) throw new Error(`GET ${url}: content-length ${declared}, received ${size} bytes`);
          resolve({ size, sha256: hash.digest("hex") });
        })
        .catch(reject);
    });
    req.on("error", reject);
  });
}

async function postJson(url: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`POST ${url}: HTTP ${res.status}: ${text.slice(0, 500)}`);
  return text ? JSON.parse(text) : {};
}

// ---------------------------------------------------------------------------------------------------
// Phases

const mbps = (bytes: number, ms: number) => bytes / MB / (ms / 1000);

interface Timed {
  ms: number;
  serverCores: number;
  clientCores: number;
}

async function timed(server: KeelServer, fn: () => Promise<void>): Promise<Timed> {
  const cpu0 = procCpuSeconds(server.pid);
  const c0 = process.cpuUsage();
  const t = nowMs();
  await fn();
  const ms = nowMs() - t;
  const cu = process.cpuUsage(c0);
  return { ms, serverCores: (procCpuSeconds(server.pid) - cpu0) / (ms / 1000), clientCores: (cu.user + cu.system) / 1e6 / (ms / 1000) };
}

/** MLflow's multipart upload: create, PUT each part to the URL it was given (PART_CONCURRENCY at a time), complete. */
async function multipartUpload(server: KeelServer, path: string, src: string, size: number): Promise<void> {
  const partSize = PART_MB * MB;
  const numParts = Math.ceil(size / partSize);
  const created = (await postJson(`${server.url}${PROXY}/mpu/create/${path}`, { path, num_parts: numParts })) as {
    upload_id: string;
    credentials: { url: string; part_number: number; headers?: Record<string, string> }[];
  };
  if (created.credentials.length !== numParts) throw new Error(`mpu/create returned ${created.credentials.length} part URLs for ${numParts} parts`);
  const parts: { part_number: number; etag: string }[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(PART_CONCURRENCY, numParts) }, async () => {
      while (next < numParts) {
        const c = created.credentials[next++];
        const start = (c.part_number - 1) * partSize;
        const end = Math.min(size, start + partSize) - 1;
        const a = await put(c.url, createReadStream(src, { start, end }), end - start + 1, `upload-part ${c.part_number}`);
        const etag = a.headers.etag;
        if (!etag) throw new Error(`upload-part ${c.part_number}: no ETag header`);
        parts.push({ part_number: c.part_number, etag });
      }
    }),
  );
  parts.sort((a, b) => a.part_number - b.part_number);
  await postJson(`${server.url}${PROXY}/mpu/complete/${path}`, { path, upload_id: created.upload_id, parts });
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const c of createReadStream(path, { highWaterMark: MB })) hash.update(c as Buffer);
  return hash.digest("hex");
}

/** A fresh server's peak RSS while `sizeMb` of generated bytes stream in as one PUT. */
async function uploadPeakRss(dir: string, sizeMb: number): Promise<{ hwm: number; sampled: number; before: number; mbps: number; reset: boolean }> {
  const dataDir = join(dir, "rss-server");
  const server = await startKeel({ dataDir });
  try {
    const { experimentId, runIds } = await createExperimentAndRuns(server.url, "bench-artifacts-rss", 1);
    const rel = `${experimentId}/${runIds[0]}/artifacts/big/weights-2gb.bin`;
    // Warm the route (first-request allocations belong to the server's baseline, not to the upload).
    await put(`${server.url}${PROXY}/artifacts/${rel}`, generated(1), MB, "warm-up PUT");
    await new Promise((r) => setTimeout(r, 200));
    // Reset the high-water mark to the current RSS (Linux: clear_refs 5), so startup peaks don't count.
    let reset = true;
    try {
      writeFileSync(`/proc/${server.pid}/clear_refs`, "5");
    } catch (err) {
      reset = false;
      log(`artifacts: could not reset VmHWM (${(err as Error).message}); the peak includes startup`);
    }
    const before = procStatusMb(server.pid, "VmRSS");
    let sampled = before;
    const sampler = setInterval(() => {
      sampled = Math.max(sampled, procStatusMb(server.pid, "VmRSS") || 0);
    }, 20);
    const t = nowMs();
    try {
      await put(`${server.url}${PROXY}/artifacts/${rel}`, generated(sizeMb), sizeMb * MB, `PUT ${sizeMb} MB`);
    } finally {
      clearInterval(sampler);
    }
    const ms = nowMs() - t;
    const hwm = procStatusMb(server.pid, "VmHWM");
    const stored = statSync(join(dataDir, "artifacts", ...rel.split("/"))).size;
    if (stored !== sizeMb * MB) throw new Error(`server stored ${stored} bytes of the ${sizeMb * MB}-byte upload`);
    return { hwm: reset ? hwm : Math.max(hwm, sampled), sampled, before, mbps: mbps(sizeMb * MB, ms), reset };
  } finally {
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main(async () => {
  const dir = tempDir("artifacts");
  const size = SIZE_MB * MB;
  const src = join(dir, "source.bin");
  log(`artifacts: writing a ${SIZE_MB} MB test file in ${dir}`);
  const t0 = nowMs();
  const srcSha = await writeTestFile(src, SIZE_MB);
  log(`artifacts: test file written in ${fmt((nowMs() - t0) / 1000)} s`);
  const baseDir = join(dir, "baseline");
  const clientDir = join(dir, "client");
  await mkdir(baseDir);
  await mkdir(clientDir);

  const dataDir = join(dir, "server");
  const server = await startKeel({ dataDir });
  const { experimentId, runIds } = await createExperimentAndRuns(server.url, "bench-artifacts", 1);
  const relOf = (r: number) => `${experimentId}/${runIds[0]}/artifacts/model/weights-${r}.bin`;

  // Warm-up: the route, the JIT and the client's socket, with a small file.
  const warm = join(dir, "warm.bin");
  await writeTestFile(warm, 32);
  await put(`${server.url}${PROXY}/artifacts/${experimentId}/${runIds[0]}/artifacts/warm.bin`, createReadStream(warm), 32 * MB, "warm-up PUT");
  await download(`${server.url}${PROXY}/artifacts/${experimentId}/${runIds[0]}/artifacts/warm.bin`, join(clientDir, "warm.bin"));
  await rm(join(clientDir, "warm.bin"));

  const copies: number[] = [];
  const uploads: Timed[] = [];
  const downloads: Timed[] = [];
  for (let r = 1; r <= REPS; r++) {
    const dst = join(baseDir, "copy.bin");
    await settle();
    const copyMs = await streamCopy(src, dst);
    await remove(dst);
    copies.push(copyMs);

    // A fresh path each time: overwriting would free the previous 1 GB inside the timed upload.
    const rel = relOf(r);
    const artifactUrl = `${server.url}${PROXY}/artifacts/${rel}`;
    const storedPath = join(dataDir, "artifacts", ...rel.split("/"));
    await settle();
    const up = await timed(server, async () => {
      await put(artifactUrl, createReadStream(src), size, `PUT ${SIZE_MB} MB`);
    });
    const stored = statSync(storedPath).size;
    if (stored !== size) throw new Error(`server stored ${stored} bytes of the ${size}-byte upload`);
    uploads.push(up);

    const got = join(clientDir, "download.bin");
    let check: { size: number; sha256: string } | undefined;
    await settle();
    const down = await timed(server, async () => {
      check = await download(artifactUrl, got);
    });
    if (check!.size !== size || check!.sha256 !== srcSha) {
      throw new Error(`download ${r}: ${check!.size} bytes, sha256 ${check!.sha256}; expected ${size} bytes, sha256 ${srcSha}`);
    }
    downloads.push(down);
    await remove(got);
    // The server fsyncs the directory after a delete.
    const del = await fetch(artifactUrl, { method: "DELETE" });
    await del.arrayBuffer();
    if (del.status !== 200) throw new Error(`DELETE ${rel}: HTTP ${del.status}`);
    log(
      `artifacts: rep ${r}/${REPS}: copy ${fmt(mbps(size, copyMs))} MB/s; upload ${fmt(mbps(size, up.ms))} MB/s ` +
        `(server ${fmt(up.serverCores)} cores, client ${fmt(up.clientCores)}); download ${fmt(mbps(size, down.ms))} MB/s ` +
        `(server ${fmt(down.serverCores)} cores, client ${fmt(down.clientCores)}); verified sha256`,
    );
  }

  let multipart: { rate: number; all: number[]; serverCores: number } | undefined;
  if (MULTIPART) {
    const rates: number[] = [];
    let serverCores = 0;
    for (let r = 1; r <= Math.min(REPS, 3); r++) {
      const mpRel = `${experimentId}/${runIds[0]}/artifacts/model/weights-multipart.bin`;
      await settle();
      const mp = await timed(server, () => multipartUpload(server, mpRel, src, size));
      const mpPath = join(dataDir, "artifacts", ...mpRel.split("/"));
      const stored = statSync(mpPath).size;
      if (stored !== size) throw new Error(`multipart: server stored ${stored} bytes of ${size}`);
      if ((await sha256File(mpPath)) !== srcSha) throw new Error("multipart: the assembled artifact's sha256 differs from the source's");
      await remove(mpPath);
      rates.push(mbps(size, mp.ms));
      serverCores += mp.serverCores;
      log(
        `artifacts: multipart rep ${r}: ${fmt(mbps(size, mp.ms))} MB/s (${Math.ceil(SIZE_MB / PART_MB)} parts of ${PART_MB} MB, ${PART_CONCURRENCY} at a time; server ${fmt(mp.serverCores)} cores); verified sha256`,
      );
    }
    multipart = { rate: median(rates), all: rates, serverCores: serverCores / rates.length };
  }
  await server.stop();
  await rm(dataDir, { recursive: true, force: true });
  await rm(src);

  log(`artifacts: fresh server, ${RSS_MB} MB upload for peak RSS`);
  const rss = await uploadPeakRss(dir, RSS_MB);
  log(
    `artifacts: ${RSS_MB} MB upload at ${fmt(rss.mbps)} MB/s; RSS before ${fmt(rss.before)} MB, sampled max ${fmt(rss.sampled)} MB, VmHWM ${fmt(rss.hwm)} MB${rss.reset ? " (reset after startup)" : ""}`,
  );

  const copyRates = copies.map((ms) => mbps(size, ms));
  const upRates = uploads.map((u) => mbps(size, u.ms));
  const downRates = downloads.map((d) => mbps(size, d.ms));
  const copyRate = median(copyRates);
  const upRate = median(upRates);
  const downRate = median(downRates);
  const list = (xs: number[]) => xs.map((x) => fmt(x)).join(", ");
  log(`artifacts: MB/s per rep: copy ${list(copyRates)}; upload ${list(upRates)}; download ${list(downRates)}`);
  log(
    `artifacts: best: copy ${fmt(Math.max(...copyRates))}, upload ${fmt(Math.max(...upRates))} (${fmt(Math.max(...upRates) / Math.max(...copyRates))}x), ` +
      `download ${fmt(Math.max(...downRates))} (${fmt(Math.max(...downRates) / Math.max(...copyRates))}x) MB/s; ` +
      `server cores: upload ${fmt(median(uploads.map((u) => u.serverCores)))}, download ${fmt(median(downloads.map((d) => d.serverCores)))} (median)`,
  );
  const of = `median of ${REPS}`;
  figure(
    "artifact_copy_stream_baseline",
    copyRate,
    "MB/s",
    1,
    `itself: the baseline, createReadStream -> createWriteStream + fsync of the ${SIZE_MB} MB file on the same disk, ${of}`,
  );
  figure("artifact_upload_1gb_proxy", upRate, "MB/s", upRate / copyRate, `stream copy ${fmt(copyRate)} MB/s, target >= 0.50x; PUT + fsync, ${of}`);
  figure(
    "artifact_download_1gb_proxy",
    downRate,
    "MB/s",
    downRate / copyRate,
    `stream copy ${fmt(copyRate)} MB/s, target >= 0.50x; client writes to disk + fsync, sha256 verified; ${of}`,
  );
  if (multipart) {
    figure(
      "artifact_upload_1gb_multipart",
      multipart.rate,
      "MB/s",
      multipart.rate / copyRate,
      `stream copy ${fmt(copyRate)} MB/s; ${PART_MB} MB parts, ${PART_CONCURRENCY} concurrent, create+parts+complete; median of ${multipart.all.length}`,
    );
  }
  figure(
    "artifact_upload_2gb_server_peak_rss",
    rss.hwm,
    "MB",
    rss.hwm / RSS_TARGET_MB,
    `target < ${RSS_TARGET_MB} MB; fresh server, VmHWM during a ${RSS_MB} MB PUT`,
  );
});

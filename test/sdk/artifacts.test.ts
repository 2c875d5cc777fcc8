/**
 * The SDK's artifact transfers against a real app: streamed uploads and downloads with byte progress,
 * Range resume, and multipart uploads resumed after an interruption.
 */
import { createHash, randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KeelApiError, KeelClient, proxiedArtifactPath, type TransferProgress } from "../../src/sdk/index.js";
import { startTestApp, type TestApp } from "../helpers/app.js";

let t: TestApp;
let k: KeelClient;
let root: string;

beforeAll(async () => {
  t = await startTestApp();
  k = new KeelClient({ url: t.url });
  const exp = await k.createExperiment("artifacts");
  root = await k.runArtifactRoot((await k.createRun(exp)).info.run_id);
});
afterAll(async () => t?.close());

async function bytesOf(stream: ReadableStream<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

/** A stream that hands out `data` in uneven chunks. */
function streamOf(data: Uint8Array): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    pull(ctl) {
      if (at >= data.length) return ctl.close();
      const n = 1 + ((at * 7919) % 100_000);
      ctl.enqueue(data.subarray(at, at + n));
      at += n;
    },
  });
}

describe("artifact transfers", () => {
  it("round-trips bytes, streams and blobs with progress, and lists and walks directories", async () => {
    const big = randomBytes(1_500_000);
    const seen: TransferProgress[] = [];
    await k.uploadArtifact(`${root}/data/big.bin`, streamOf(big), { size: big.length, onProgress: (p) => seen.push(p) });
    expect(seen[0]).toEqual({ loaded: 0, total: big.length });
    expect(seen.at(-1)).toEqual({ loaded: big.length, total: big.length });
    expect(seen.map((p) => p.loaded)).toEqual([...seen.map((p) => p.loaded)].sort((a, b) => a - b));
    await k.uploadArtifact(`${root}/data/deep/er/note.txt`, "hello");
    await k.uploadArtifact(`${root}/blob.json`, new Blob(['{"a":1}']));
    await k.uploadArtifact(`${root}/empty`, new Uint8Array(0));

    expect(await k.listArtifacts(root)).toEqual([
      { path: `${root}/blob.json`, name: "blob.json", is_dir: false, file_size: 7 },
      { path: `${root}/data`, name: "data", is_dir: true },
      { path: `${root}/empty`, name: "empty", is_dir: false, file_size: 0 },
    ]);
    const files = [];
    for await (const f of k.walkArtifacts(root)) files.push([f.path.slice(root.length + 1), f.file_size]);
    expect(files).toEqual([
      ["blob.json", 7],
      ["data/big.bin", big.length],
      ["data/deep/er/note.txt", 5],
      ["empty", 0],
    ]);

    const down: TransferProgress[] = [];
    const dl = await k.downloadArtifact(`${root}/data/big.bin`, { onProgress: (p) => down.push(p) });
    expect(dl.start).toBe(0);
    expect(dl.size).toBe(big.length);
    expect(sha(await bytesOf(dl.stream))).toBe(sha(big));
    expect(down.at(-1)).toEqual({ loaded: big.length, total: big.length });
    expect((await bytesOf((await k.downloadArtifact(`${root}/data/deep/er/note.txt`)).stream)).toString()).toBe("hello");
    expect((await bytesOf((await k.downloadArtifact(`${root}/empty`)).stream)).length).toBe(0);
  });

  it("resumes a download with a Range request", async () => {
    const data = randomBytes(800_000);
    await k.uploadArtifact(`${root}/resume.bin`, data);
    const progress: TransferProgress[] = [];
    const rest = await k.downloadArtifact(`${root}/resume.bin`, { start: 300_000, onProgress: (p) => progress.push(p) });
    expect(rest).toMatchObject({ start: 300_000, size: 800_000 });
    const tail = await bytesOf(rest.stream);
    expect(tail.length).toBe(500_000);
    expect(sha(Buffer.concat([data.subarray(0, 300_000), tail]))).toBe(sha(data));
    // Progress counts the bytes already there.
    expect(progress[0]).toEqual({ loaded: 300_000, total: 800_000 });
    expect(progress.at(-1)).toEqual({ loaded: 800_000, total: 800_000 });

    const done = await k.downloadArtifact(`${root}/resume.bin`, { start: 800_000 });
    expect(done).toMatchObject({ start: 800_000, size: 800_000 });
    expect((await bytesOf(done.stream)).length).toBe(0);
    const err = (await k.downloadArtifact(`${root}/resume.bin`, { start: 900_000 }).catch((e: unknown) => e)) as KeelApiError;
    expect(err).toBeInstanceOf(KeelApiError);
    expect(err.status).toBe(416);
  });

  it("resumes an interrupted multipart upload, sending only the missing parts", async () => {
    const data = randomBytes(1_300_000);
    const partSize = 200_000; // 7 parts, the last one short
    const path = `${root}/model/weights.bin`;
    const abort = new AbortController();
    let uploadId: string | undefined;
    const first = await k
      .uploadArtifactMultipart(path, {
        size: data.length,
        partSize,
        concurrency: 1,
        readPart: (s, e) => data.subarray(s, e),
        onUploadId: (id) => {
          uploadId = id;
        },
        onPartDone: (n) => {
          if (n === 3) abort.abort();
        },
        signal: abort.signal,
      })
      .catch((e: unknown) => e);
    expect(first).toBeInstanceOf(Error);
    expect(uploadId).toBeDefined();
    expect((await k.listMultipartParts(path, uploadId!)).map((p) => p.part_number)).toEqual([1, 2, 3]);
    // Nothing visible until the upload completes.
    expect((await k.downloadArtifact(path).catch((e: unknown) => e)) as KeelApiError).toMatchObject({ status: 404 });

    const sent: number[] = [];
    const progress: TransferProgress[] = [];
    const r = await k.uploadArtifactMultipart(path, {
      size: data.length,
      partSize,
      uploadId,
      readPart: (s, e) => {
        sent.push(s / partSize + 1);
        return streamOf(data.subarray(s, e));
      },
      onProgress: (p) => progress.push(p),
    });
    expect(r.uploadId).toBe(uploadId);
    expect(r.reused).toBe(3);
    expect(sent.sort()).toEqual([4, 5, 6, 7]);
    expect(progress[0]).toEqual({ loaded: 3 * partSize, total: data.length });
    expect(progress.at(-1)).toEqual({ loaded: data.length, total: data.length });
    expect(sha(await bytesOf((await k.downloadArtifact(path)).stream))).toBe(sha(data));
  });

  it("starts over when the upload id is no longer known, and aborts uploads", async () => {
    const data = randomBytes(250_000);
    const path = `${root}/again.bin`;
    const created = await k.createMultipartUpload(path, 1);
    await k.abortMultipartUpload(path, created.upload_id);
    const r = await k.uploadArtifactMultipart(path, { size: data.length, partSize: 100_000, uploadId: created.upload_id, readPart: (s, e) => new Blob([data.subarray(s, e)]) });
    expect(r.uploadId).not.toBe(created.upload_id);
    expect(r.reused).toBe(0);
    expect(sha(await bytesOf((await k.downloadArtifact(path)).stream))).toBe(sha(data));
  });

  it("deletes artifacts, and names what it could not find", async () => {
    await k.uploadArtifact(`${root}/doomed/a.txt`, "a");
    await k.deleteArtifact(`${root}/doomed`);
    expect(await k.listArtifacts(`${root}/doomed`)).toEqual([]);
    const err = (await k.deleteArtifact(`${root}/doomed`).catch((e: unknown) => e)) as KeelApiError;
    expect(err).toMatchObject({ status: 404, code: "RESOURCE_DOES_NOT_EXIST" });
  });

  it("maps mlflow-artifacts URIs to proxy paths", () => {
    expect(proxiedArtifactPath("mlflow-artifacts:/1/abc/artifacts")).toBe("1/abc/artifacts");
    expect(proxiedArtifactPath("mlflow-artifacts://host:5000/1/abc/artifacts/")).toBe("1/abc/artifacts");
    expect(proxiedArtifactPath("mlflow-artifacts:/1/a%20b")).toBe("1/a b");
    expect(proxiedArtifactPath("s3://bucket/1/abc/artifacts")).toBeUndefined();
  });
});

import { randomBytes } from "node:crypto";
import { createServer, type Socket } from "node:net";
import { PassThrough, Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { ListObjectsV2Command, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createS3ArtifactStore, type S3StoreOptions } from "../../src/artifacts/store-s3.js";
import { KeelError } from "../../src/core/errors.js";
import { type LocalS3, startLocalS3 } from "../helpers/s3.js";
import { describeArtifactStore } from "./store-conformance.js";

// One server for the file; each conformance test gets an empty tree of its own under a fresh prefix.
let shared: LocalS3 | undefined;
afterAll(async () => {
  await shared?.close();
});
describeArtifactStore("s3", async () => {
  shared ??= await startLocalS3();
  const store = createS3ArtifactStore({ ...opts(shared), prefix: `conformance/${randomBytes(6).toString("hex")}/artifacts` });
  return {
    store,
    cleanup: async () => {
      await store.delete("");
    },
  };
});

function opts(s3: LocalS3): S3StoreOptions {
  return { bucket: s3.bucket, prefix: "", endpoint: s3.endpoint, credentials: s3.credentials, region: "us-east-1" };
}

const body = (b: Buffer) => Readable.from([b], { objectMode: false });

describe("S3 artifact store specifics", () => {
  let s3: LocalS3;
  let raw: S3Client;
  beforeAll(async () => {
    s3 = await startLocalS3("keel-specific");
    raw = new S3Client({ endpoint: s3.endpoint, region: "us-east-1", forcePathStyle: true, credentials: s3.credentials });
  });
  afterAll(async () => {
    raw.destroy();
    await s3.close();
  });
  const keys = async (Prefix = "") => ((await raw.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix }))).Contents ?? []).map((o) => o.Key);

  it("keeps keys under the prefix (slashes at its ends ignored) and stays inside it", async () => {
    const store = createS3ArtifactStore({ ...opts(s3), prefix: "/team/keel/" });
    expect(store.describe()).toBe(`s3://${s3.bucket}/team/keel`);
    await store.put("a/b.txt", body(Buffer.from("hi")));
    const id = await store.createUpload("a/c.bin");
    await store.uploadPart("a/c.bin", id, 1, body(Buffer.from("part")));
    await store.completeUpload("a/c.bin", id, []);
    expect(await keys("team/")).toEqual(["team/keel/a/b.txt", "team/keel/a/c.bin"]);
    // Neighbours that share the prefix's letters are another tree.
    for (const Key of ["team/keel-other/x", "team/keelx", "team/k"]) await raw.send(new PutObjectCommand({ Bucket: s3.bucket, Key, Body: "x" }));
    expect((await store.list("")).map((e) => e.path)).toEqual(["a"]);
    expect(await store.delete("a")).toBe(2);
    expect(await keys("team/")).toEqual(["team/k", "team/keel-other/x", "team/keelx"]);
  });

  it("works at the bucket root with an empty prefix", async () => {
    const store = createS3ArtifactStore({ ...opts(s3), bucket: s3.bucket });
    expect(store.describe()).toBe(`s3://${s3.bucket}`);
    await store.put("root-file", body(Buffer.from("r")));
    expect(await keys("root-")).toEqual(["root-file"]);
    expect(await store.list("")).toContainEqual({ path: "root-file", is_dir: false, file_size: 1 });
    expect(await store.delete("root-file")).toBe(1);
  });

  it("follows every page of listings and parts", async () => {
    const store = createS3ArtifactStore({ ...opts(s3), prefix: "paged", pageSize: 2 });
    const files = ["p/1", "p/2", "p/3", "p/4", "p/5", "p/d1/x", "p/d2/x", "p/d2/y", "p/d3/z/w"];
    for (const f of files) await store.put(f, body(Buffer.from(f)));
    expect((await store.list("p")).map((e) => e.path)).toEqual(["p/1", "p/2", "p/3", "p/4", "p/5", "p/d1", "p/d2", "p/d3"]);
    const id = await store.createUpload("p/mp");
    for (const n of [3, 1, 2]) await store.uploadPart("p/mp", id, n, body(Buffer.from(String(n))));
    expect((await store.listParts("p/mp", id)).map((x) => x.partNumber)).toEqual([1, 2, 3]);
    await store.abortUpload("p/mp", id);
    expect(await store.delete("p")).toBe(files.length);
    expect(await keys("paged/")).toEqual([]);
  });

  it("streams a part of declared length, and refuses a body that breaks the promise", async () => {
    const store = createS3ArtifactStore({ ...opts(s3), prefix: "sized", idleTimeoutMs: 2_000 });
    const id = await store.createUpload("f");
    const data = randomBytes(70_000);
    expect(await store.uploadPart("f", id, 1, body(data), data.length)).toMatchObject({ partNumber: 1, size: 70_000 });
    const err = await store.uploadPart("f", id, 2, body(data), data.length + 1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KeelError);
    expect((err as KeelError).code).toBe("INVALID_PARAMETER_VALUE");
    expect((await store.listParts("f", id)).map((x) => x.partNumber)).toEqual([1]);
    await store.completeUpload("f", id, []);
    expect((await buffer((await store.get("f")).stream)).equals(data)).toBe(true);
  });

  it("keeps memory bounded while streaming a large put", async () => {
    const store = createS3ArtifactStore({ ...opts(s3), prefix: "big", partSize: 5 * 1024 * 1024, queueSize: 2 });
    const total = 256 * 1024 * 1024;
    const chunk = randomBytes(1024 * 1024);
    const base = process.memoryUsage().arrayBuffers;
    let peak = 0;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().arrayBuffers - base);
    }, 5);
    try {
      const src = Readable.from(
        (function* () {
          for (let i = 0; i < total; i += chunk.length) yield chunk;
        })(),
        { objectMode: false },
      );
      expect(await store.put("huge.bin", src)).toEqual({ size: total });
    } finally {
      clearInterval(sampler);
    }
    expect((await store.stat("huge.bin"))?.size).toBe(total);
    // Buffering the body would hold ≥ 256 MiB. Streaming measures ~80 MiB here: parts in flight, copies
    // not yet collected, and the in-process server's own buffers; half the body leaves room for GC timing.
    expect(peak).toBeLessThan(128 * 1024 * 1024);
    await store.delete("huge.bin");
  });

  describe("an unreachable S3 answers TEMPORARILY_UNAVAILABLE quickly", () => {
    const expectUnavailable = async (p: Promise<unknown>) => {
      const started = Date.now();
      const err = await p.catch((e: unknown) => e);
      expect(err).toBeInstanceOf(KeelError);
      expect((err as KeelError).code).toBe("TEMPORARILY_UNAVAILABLE");
      expect(Date.now() - started).toBeLessThan(5_000);
    };

    it("when nothing listens on the port", async () => {
      const port = await new Promise<number>((resolve) => {
        const srv = createServer().listen(0, "127.0.0.1", () => {
          const a = srv.address();
          srv.close(() => resolve(typeof a === "object" && a ? a.port : 0));
        });
      });
      const store = createS3ArtifactStore({ ...opts(s3), endpoint: `http://127.0.0.1:${port}`, maxAttempts: 1, connectTimeoutMs: 500 });
      await expectUnavailable(store.stat("x"));
      await expectUnavailable(store.get("x"));
      await expectUnavailable(store.list(""));
      await expectUnavailable(store.put("x", body(Buffer.from("x"))));
      await expectUnavailable(store.createUpload("x"));
    });

    it("without destroying a caller's unfinished body, which must live to carry the error response", async () => {
      const port = await new Promise<number>((resolve) => {
        const srv = createServer().listen(0, "127.0.0.1", () => {
          const a = srv.address();
          srv.close(() => resolve(typeof a === "object" && a ? a.port : 0));
        });
      });
      const store = createS3ArtifactStore({ ...opts(s3), endpoint: `http://127.0.0.1:${port}`, maxAttempts: 1, partSize: 5 * 1024 * 1024 });
      // More than a part, so S3 is asked before the body ends.
      const big = new PassThrough();
      big.write(randomBytes(6 * 1024 * 1024));
      await expectUnavailable(store.put("x", big));
      expect(big.destroyed).toBe(false);
      const part = new PassThrough();
      part.write(Buffer.from("ten bytes!"));
      await expectUnavailable(store.uploadPart("x", "id", 1, part, 100));
      expect(part.destroyed).toBe(false);
    });

    it("when the server accepts connections and never answers", async () => {
      const sockets = new Set<Socket>();
      const silent = createServer((s) => sockets.add(s));
      await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
      const a = silent.address();
      const port = typeof a === "object" && a ? a.port : 0;
      try {
        const store = createS3ArtifactStore({ ...opts(s3), endpoint: `http://127.0.0.1:${port}`, maxAttempts: 1, idleTimeoutMs: 300 });
        await expectUnavailable(store.get("x"));
        await expectUnavailable(store.list(""));
        await expectUnavailable(store.put("x", body(Buffer.from("x"))));
      } finally {
        for (const s of sockets) s.destroy();
        await new Promise((resolve) => silent.close(resolve));
      }
    });
  });
});

import { createHash, randomBytes } from "node:crypto";
import { PassThrough, Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type ErrorCode, KeelError } from "../../src/core/errors.js";
import { checkArtifactPath } from "../../src/artifacts/safe-path.js";
import type { ArtifactEntry, ArtifactStore } from "../../src/artifacts/store.js";

/**
 * The ArtifactStore contract, for any implementation: each test gets a fresh, empty store from
 * `makeStore` and hands it back through `cleanup`. Nothing here knows how a store keeps its bytes.
 * Multipart parts other than the last are 5 MiB, S3's minimum, so the suite is valid against real S3.
 */
export interface StoreUnderTest {
  store: ArtifactStore;
  cleanup(): Promise<void>;
}

const MiB = 1024 * 1024;
const PART = 5 * MiB;

/** A body as HTTP delivers it: byte chunks of an awkward size, not one buffer. */
function body(data: Buffer, chunk = 64 * 1024 + 1): Readable {
  return Readable.from(
    (function* () {
      for (let i = 0; i < data.length; i += chunk) yield data.subarray(i, i + chunk);
    })(),
    { objectMode: false },
  );
}

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const text = (s: string) => Buffer.from(s, "utf8");

/** The rejection of `p` must be a KeelError with `code`. */
async function expectCode(p: Promise<unknown>, code: ErrorCode): Promise<void> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `expected a ${code} rejection`).toBeInstanceOf(KeelError);
  expect((err as KeelError).code).toBe(code);
}

export function describeArtifactStore(name: string, makeStore: () => Promise<StoreUnderTest>): void {
  describe(`ArtifactStore contract: ${name}`, () => {
    let t: StoreUnderTest;
    let store: ArtifactStore;
    beforeEach(async () => {
      t = await makeStore();
      store = t.store;
    });
    afterEach(async () => {
      await t.cleanup();
    });

    // Only paths the real callers could hand a store (safe-path.ts) are used.
    const p = (path: string) => checkArtifactPath(path);
    const read = async (path: string) => buffer((await store.get(p(path))).stream);
    const put = (path: string, data: Buffer) => store.put(p(path), body(data));
    const putAll = async (files: Record<string, number>) => {
      for (const [path, size] of Object.entries(files)) await put(path, randomBytes(size));
    };

    it("describes itself", () => {
      expect(store.describe()).toMatch(/^[a-z][a-z0-9+.-]*:\/\/\S+/);
    });

    it.each([0, 1, 1000, 64 * 1024 + 7, 8 * MiB + 1234])("round-trips %i random bytes", async (size) => {
      const data = randomBytes(size);
      expect(await put("r/blob.bin", data)).toEqual({ size });
      const got = await store.get(p("r/blob.bin"));
      expect(got.size).toBe(size);
      const bytes = await buffer(got.stream);
      expect(bytes.length).toBe(size);
      expect(sha(bytes)).toBe(sha(data));
      expect((await store.stat(p("r/blob.bin")))?.size).toBe(size);
    });

    it("replaces an object, longer by shorter", async () => {
      await put("x.txt", text("a much longer first version"));
      expect(await put("x.txt", text("v2"))).toEqual({ size: 2 });
      expect((await read("x.txt")).toString()).toBe("v2");
      expect((await store.stat(p("x.txt")))?.size).toBe(2);
    });

    it("serves inclusive byte ranges and still reports the whole size", async () => {
      const data = randomBytes(1000);
      await put("range.bin", data);
      for (const [start, end] of [
        [0, 0],
        [999, 999],
        [100, 199],
        [0, 999],
      ]) {
        const got = await store.get(p("range.bin"), { start, end });
        expect(got.size, `size with range ${start}-${end}`).toBe(1000);
        expect((await buffer(got.stream)).equals(data.subarray(start, end + 1)), `bytes ${start}-${end}`).toBe(true);
      }
    });

    it("says RESOURCE_DOES_NOT_EXIST for a missing object or a directory, and stat says undefined", async () => {
      await put("d/f.txt", text("x"));
      await expectCode(store.get(p("missing.txt")), "RESOURCE_DOES_NOT_EXIST");
      await expectCode(store.get(p("d/missing.txt")), "RESOURCE_DOES_NOT_EXIST");
      await expectCode(store.get(p("d")), "RESOURCE_DOES_NOT_EXIST");
      expect(await store.stat(p("missing.txt"))).toBeUndefined();
      expect(await store.stat(p("d"))).toBeUndefined();
    });

    it("stats size and a current modification time in epoch ms", async () => {
      await put("s.bin", randomBytes(4321));
      const st = await store.stat(p("s.bin"));
      expect(st?.size).toBe(4321);
      // Seconds instead of ms, or 0, would be far off; storage clocks and S3's 1 s granularity are not.
      expect(Math.abs((st?.modified ?? 0) - Date.now())).toBeLessThan(60_000);
    });

    it("lists immediate children: dirs and files, sizes, sorted by path; [] for missing dirs and files", async () => {
      // "d/only" holds nothing but a directory, as `<exp>/<run>/artifacts/model/…` trees do.
      await putAll({ "top.txt": 3, "d/a.txt": 1, "d/b.bin": 2, "d/sub/c.txt": 5, "d/sub/deeper/e": 1, "d/z/y": 1, "d2/x": 1, "d/only/deeper/f": 1 });
      expect(await store.list("")).toEqual<ArtifactEntry[]>([
        { path: "d", is_dir: true },
        { path: "d2", is_dir: true },
        { path: "top.txt", is_dir: false, file_size: 3 },
      ]);
      expect(await store.list(p("d"))).toEqual<ArtifactEntry[]>([
        { path: "d/a.txt", is_dir: false, file_size: 1 },
        { path: "d/b.bin", is_dir: false, file_size: 2 },
        { path: "d/only", is_dir: true },
        { path: "d/sub", is_dir: true },
        { path: "d/z", is_dir: true },
      ]);
      expect(await store.list(p("d/sub"))).toEqual<ArtifactEntry[]>([
        { path: "d/sub/c.txt", is_dir: false, file_size: 5 },
        { path: "d/sub/deeper", is_dir: true },
      ]);
      expect(await store.list(p("d/only"))).toEqual([{ path: "d/only/deeper", is_dir: true }]);
      expect(await store.list(p("nope"))).toEqual([]);
      expect(await store.list(p("d/nope/deeper"))).toEqual([]);
      expect(await store.list(p("d/a.txt"))).toEqual([]);
    });

    it("sorts by code unit, dirs among files ('A' < 'a' < 'a-1' < 'a.txt' < 'b')", async () => {
      // Key order in S3 puts the dir "s/a/" after "s/a.txt" ('/' > '.'); the contract does not.
      await putAll({ "s/b": 1, "s/a.txt": 1, "s/a/x": 1, "s/A": 1, "s/a-1": 1 });
      expect((await store.list(p("s"))).map((e) => e.path)).toEqual(["s/A", "s/a", "s/a-1", "s/a.txt", "s/b"]);
    });

    it("deletes a file, leaving its siblings", async () => {
      await putAll({ "k/one": 1, "k/two": 2 });
      expect(await store.delete(p("k/one"))).toBe(1);
      await expectCode(store.get(p("k/one")), "RESOURCE_DOES_NOT_EXIST");
      expect(await store.list(p("k"))).toEqual([{ path: "k/two", is_dir: false, file_size: 2 }]);
      expect(await store.delete(p("k/one"))).toBe(0);
      expect(await store.delete(p("never/was"))).toBe(0);
    });

    it("deletes a directory tree, counting objects, sparing names that merely share its prefix", async () => {
      await putAll({ "t/b/1": 1, "t/b/2": 1, "t/b/c/3": 1, "t/bc": 4, "t/bc2/x": 1, "t/b.txt": 2, "t/a": 1 });
      expect(await store.delete(p("t/b"))).toBe(3);
      expect(await store.list(p("t/b"))).toEqual([]);
      await expectCode(store.get(p("t/b/c/3")), "RESOURCE_DOES_NOT_EXIST");
      expect(await store.list(p("t"))).toEqual<ArtifactEntry[]>([
        { path: "t/a", is_dir: false, file_size: 1 },
        { path: "t/b.txt", is_dir: false, file_size: 2 },
        { path: "t/bc", is_dir: false, file_size: 4 },
        { path: "t/bc2", is_dir: true },
      ]);
      expect((await read("t/bc2/x")).length).toBe(1);
    });

    it("keeps the old object whole while a replacement is still arriving", async () => {
      const old = randomBytes(3000);
      await put("atomic.bin", old);
      const next = randomBytes(5000);
      const slow = new PassThrough();
      const putting = store.put(p("atomic.bin"), slow);
      slow.write(next.subarray(0, 2500));
      await new Promise((r) => setTimeout(r, 100));
      expect(sha(await read("atomic.bin")), "a reader mid-put sees the old object").toBe(sha(old));
      slow.end(next.subarray(2500));
      expect(await putting).toEqual({ size: 5000 });
      expect(sha(await read("atomic.bin"))).toBe(sha(next));
    });

    it("leaves the old object (and no new one) when the body fails mid-way", async () => {
      const old = randomBytes(100);
      await put("fail.bin", old);
      const failing = () =>
        Readable.from(
          (async function* () {
            yield randomBytes(1000);
            throw new Error("client went away");
          })(),
          { objectMode: false },
        );
      await expect(store.put(p("fail.bin"), failing())).rejects.toThrow();
      expect(sha(await read("fail.bin"))).toBe(sha(old));
      await expect(store.put(p("fresh.bin"), failing())).rejects.toThrow();
      expect(await store.stat(p("fresh.bin"))).toBeUndefined();
      expect((await store.list("")).map((e) => e.path)).toEqual(["fail.bin"]);
    });

    it("assembles a multipart upload: parts out of order, one re-sent, listed, then concatenated", async () => {
      const path = p("mp/model.onnx");
      await put("mp/model.onnx", text("previous version"));
      const id = await store.createUpload(path);
      expect(id).toMatch(/\S/);
      expect(await store.createUpload(path)).not.toBe(id);
      const [p1, p2, p3, p1b] = [randomBytes(PART), randomBytes(PART), randomBytes(1234), randomBytes(PART)];
      const u3 = await store.uploadPart(path, id, 3, body(p3));
      const u1 = await store.uploadPart(path, id, 1, body(p1));
      const u2 = await store.uploadPart(path, id, 2, body(p2));
      const u1b = await store.uploadPart(path, id, 1, body(p1b));
      expect(u3).toMatchObject({ partNumber: 3, size: 1234 });
      expect(u1b).toMatchObject({ partNumber: 1, size: PART });
      for (const u of [u1, u2, u3, u1b]) expect(u.etag).toMatch(/\S/);
      expect(u1b.etag, "a part with other bytes has another etag").not.toBe(u1.etag);
      expect(await store.listParts(path, id)).toEqual([
        { partNumber: 1, size: PART, etag: u1b.etag },
        { partNumber: 2, size: PART, etag: u2.etag },
        { partNumber: 3, size: 1234, etag: u3.etag },
      ]);

      // Until completed, the upload is invisible: the old object stays, nothing new is listed.
      expect((await read("mp/model.onnx")).toString()).toBe("previous version");
      expect((await store.list(p("mp"))).map((e) => e.path)).toEqual(["mp/model.onnx"]);

      const done = await store.completeUpload(path, id, [
        { partNumber: 3, etag: u3.etag },
        { partNumber: 1 },
        { partNumber: 2, etag: u2.etag },
      ]);
      expect(done).toEqual({ size: 2 * PART + 1234 });
      const got = await store.get(path);
      expect(got.size).toBe(2 * PART + 1234);
      expect(sha(await buffer(got.stream))).toBe(sha(Buffer.concat([p1b, p2, p3])));
      await expectCode(store.listParts(path, id), "RESOURCE_DOES_NOT_EXIST");
    });

    it("completes with every uploaded part when no part list is given", async () => {
      const path = p("all/parts.bin");
      const id = await store.createUpload(path);
      const [a, b] = [randomBytes(PART), randomBytes(10)];
      await store.uploadPart(path, id, 2, body(b));
      await store.uploadPart(path, id, 1, body(a));
      expect(await store.completeUpload(path, id, [])).toEqual({ size: PART + 10 });
      expect(sha(await read("all/parts.bin"))).toBe(sha(Buffer.concat([a, b])));
    });

    it("refuses to complete with a part never uploaded or a wrong etag, keeping the upload", async () => {
      const path = p("bad/parts.bin");
      const id = await store.createUpload(path);
      const u1 = await store.uploadPart(path, id, 1, body(text("only part")));
      await expectCode(store.completeUpload(path, id, [{ partNumber: 1 }, { partNumber: 2 }]), "INVALID_PARAMETER_VALUE");
      await expectCode(store.completeUpload(path, id, [{ partNumber: 1, etag: "0123456789abcdef0123456789abcdef" }]), "INVALID_PARAMETER_VALUE");
      expect(await store.stat(path)).toBeUndefined();
      expect(await store.listParts(path, id)).toEqual([u1]);
      expect(await store.completeUpload(path, id, [{ partNumber: 1, etag: u1.etag }])).toEqual({ size: 9 });
    });

    it("aborts an upload: its parts go and it can no longer be used", async () => {
      const path = p("ab/x.bin");
      const id = await store.createUpload(path);
      await store.uploadPart(path, id, 1, body(randomBytes(100)));
      await store.abortUpload(path, id);
      await expectCode(store.listParts(path, id), "RESOURCE_DOES_NOT_EXIST");
      await expectCode(store.completeUpload(path, id, [{ partNumber: 1 }]), "RESOURCE_DOES_NOT_EXIST");
      await expectCode(store.uploadPart(path, id, 2, body(randomBytes(10))), "RESOURCE_DOES_NOT_EXIST");
      expect(await store.stat(path)).toBeUndefined();
      expect(await store.list("")).toEqual([]);
    });

    it("says RESOURCE_DOES_NOT_EXIST for an upload id it never gave out", async () => {
      const path = p("u/x.bin");
      const unknown = randomBytes(16).toString("hex");
      await expectCode(store.completeUpload(path, unknown, [{ partNumber: 1, etag: "abc" }]), "RESOURCE_DOES_NOT_EXIST");
      await expectCode(store.listParts(path, unknown), "RESOURCE_DOES_NOT_EXIST");
      await expectCode(store.uploadPart(path, unknown, 1, body(text("x"))), "RESOURCE_DOES_NOT_EXIST");
    });

    it("handles unicode, spaces and URL-special characters in names", async () => {
      const names = ["ü/naïve file.txt", "日本語/データ 1.bin", "emoji 🎉/a b.txt", "q/a+b=c&d;e,f.txt", "q/100% sure (final) [v2].txt"];
      for (const [i, n] of names.entries()) await put(n, text(`content ${i}`));
      for (const [i, n] of names.entries()) {
        expect((await read(n)).toString(), n).toBe(`content ${i}`);
        expect((await store.stat(p(n)))?.size, n).toBe(`content ${i}`.length);
      }
      expect(await store.list(p("ü"))).toEqual([{ path: "ü/naïve file.txt", is_dir: false, file_size: 9 }]);
      expect((await store.list(p("q"))).map((e) => e.path)).toEqual(["q/100% sure (final) [v2].txt", "q/a+b=c&d;e,f.txt"]);
      expect((await store.list("")).map((e) => e.path)).toEqual(["emoji 🎉", "q", "ü", "日本語"]);

      const path = p("emoji 🎉/multi part ü.bin");
      const id = await store.createUpload(path);
      await store.uploadPart(path, id, 1, body(text("héllo")));
      expect((await store.listParts(path, id)).map((x) => x.partNumber)).toEqual([1]);
      await store.completeUpload(path, id, []);
      expect((await read("emoji 🎉/multi part ü.bin")).toString()).toBe("héllo");

      expect(await store.delete(p("emoji 🎉"))).toBe(2);
      expect(await store.delete(p("q/a+b=c&d;e,f.txt"))).toBe(1);
      expect((await store.list(p("q"))).map((e) => e.path)).toEqual(["q/100% sure (final) [v2].txt"]);
    });
  });
}

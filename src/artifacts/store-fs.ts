import { createHash, randomBytes } from "node:crypto";
import { constants, createReadStream, createWriteStream, readlinkSync } from "node:fs";
import { lstat, mkdir, open, readdir, readFile, realpath, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { invalidParam, KeelError, notFound } from "../core/errors.js";
import type { ArtifactEntry, ArtifactRead, ArtifactStat, ArtifactStore, ByteRange, UploadPart } from "./store.js";

/**
 * Bytes per file read, and how much a file write stream buffers before it pushes back: fewer, larger
 * system calls (queued chunks go out as one writev) than Node's 64 KiB reads and 16 KiB write buffer, at a
 * bounded cost of memory per transfer.
 */
const IO_CHUNK = 1024 * 1024;
/** A read stream's buffer for `length` bytes: Node's 64 KiB for small files (each read allocates it), up to IO_CHUNK. */
const readChunk = (length: number) => Math.min(IO_CHUNK, Math.max(64 * 1024, length));

/**
 * Artifacts as files under one root directory. Paths arrive already checked (safe-path.ts); this layer
 * adds what only the filesystem can check: no path may cross a symbolic link (a link planted inside the
 * root could point anywhere), files are opened with O_NOFOLLOW and the opened handle's real path is
 * verified, and writes go to a temporary file that is fsynced and renamed into place (readers never see
 * a torn object; a 2xx means the bytes are on disk).
 */
export async function createFsArtifactStore(opts: { root: string; uploadsDir: string }): Promise<ArtifactStore> {
  await mkdir(opts.root, { recursive: true });
  await mkdir(join(opts.uploadsDir, "tmp"), { recursive: true });
  const root = await realpath(opts.root);
  const uploads = await realpath(opts.uploadsDir);
  const abs = (rel: string) => (rel ? join(root, ...rel.split("/")) : root);

  /** Refuses a path any of whose existing components is a symbolic link; says how far it exists. */
  async function walk(rel: string): Promise<{ exists: boolean; isDir: boolean }> {
    let cur = root;
    const parts = rel ? rel.split("/") : [];
    for (let i = 0; i < parts.length; i++) {
      cur = join(cur, parts[i]);
      let st: Awaited<ReturnType<typeof lstat>>;
      try {
        st = await lstat(cur);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT" || (e as NodeJS.ErrnoException).code === "ENOTDIR") return { exists: false, isDir: false };
        throw e;
      }
      if (st.isSymbolicLink()) throw symlinkRefused(rel);
      if (i < parts.length - 1 && !st.isDirectory()) return { exists: false, isDir: false };
      if (i === parts.length - 1) return { exists: true, isDir: st.isDirectory() };
    }
    return { exists: true, isDir: true };
  }

  /** Creates the parent directories of `rel`, refusing links on the way. */
  async function ensureParent(rel: string): Promise<void> {
    const parts = rel.split("/").slice(0, -1);
    let cur = root;
    for (const p of parts) {
      cur = join(cur, p);
      try {
        await mkdir(cur);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      }
      const st = await lstat(cur);
      if (st.isSymbolicLink()) throw symlinkRefused(rel);
      if (!st.isDirectory()) throw invalidParam(`Cannot write '${rel}': '${p}' is a file, not a directory.`);
    }
  }

  /**
   * Writes a stream to a fresh temporary file, fsynced; returns its path, size and (asked for multipart
   * parts' etags only: it costs a core-second per 700 MB) MD5.
   */
  async function writeTemp(body: Readable, opts: { md5?: boolean } = {}): Promise<{ tmp: string; size: number; md5: string }> {
    const tmp = join(uploads, "tmp", randomBytes(16).toString("hex"));
    const hash = opts.md5 ? createHash("md5") : undefined;
    let size = 0;
    // Counted inside the pipeline, so only bytes that reach the file are counted.
    const meter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        size += chunk.length;
        hash?.update(chunk);
        done(null, chunk);
      },
    });
    try {
      await pipeline(body, meter, createWriteStream(tmp, { flags: "wx", mode: 0o644, highWaterMark: IO_CHUNK }));
      const fh = await open(tmp, constants.O_RDONLY);
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
    return { tmp, size, md5: hash?.digest("hex") ?? "" };
  }

  async function commitTemp(tmp: string, rel: string): Promise<void> {
    try {
      await ensureParent(rel);
      const existing = await walk(rel);
      if (existing.isDir) throw invalidParam(`Cannot write '${rel}': a directory of that name exists.`);
      await rename(tmp, abs(rel));
      await fsyncDir(dirname(abs(rel)));
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
  }

  function uploadDir(uploadId: string): string {
    if (!/^[0-9a-f]{32}$/.test(uploadId)) throw notFound(`No multipart upload with id '${uploadId.slice(0, 80)}'.`);
    return join(uploads, uploadId);
  }

  async function uploadFor(rel: string, uploadId: string): Promise<string> {
    const dir = uploadDir(uploadId);
    let meta: { path?: string };
    try {
      meta = JSON.parse(await readFile(join(dir, "upload.json"), "utf8"));
    } catch {
      throw notFound(`No multipart upload with id '${uploadId}' (completed, aborted, or never created).`);
    }
    if (meta.path !== rel) throw invalidParam(`Multipart upload '${uploadId}' is for '${meta.path}', not '${rel}'.`);
    return dir;
  }

  async function parts(dir: string): Promise<UploadPart[]> {
    const names = (await readdir(join(dir, "parts")).catch(() => [] as string[])).filter((n) => /^\d+\.json$/.test(n));
    const out: UploadPart[] = [];
    for (const n of names) out.push(JSON.parse(await readFile(join(dir, "parts", n), "utf8")) as UploadPart);
    return out.sort((a, b) => a.partNumber - b.partNumber);
  }

  return {
    describe: () => `file://${root}`,

    async put(rel, body) {
      await walk(rel);
      const { tmp, size } = await writeTemp(body);
      await commitTemp(tmp, rel);
      return { size };
    },

    async stat(rel): Promise<ArtifactStat | undefined> {
      const w = await walk(rel);
      if (!w.exists || w.isDir) return undefined;
      const st = await lstat(abs(rel));
      return { size: st.size, modified: st.mtimeMs };
    },

    async get(rel, range?: ByteRange): Promise<ArtifactRead> {
      const w = await walk(rel);
      if (!w.exists || w.isDir) throw notFound(`No artifact at '${rel}'.`);
      let fh: Awaited<ReturnType<typeof open>>;
      try {
        fh = await open(abs(rel), constants.O_RDONLY | constants.O_NOFOLLOW);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === "ENOENT") throw notFound(`No artifact at '${rel}'.`);
        if (code === "ELOOP") throw symlinkRefused(rel);
        throw e;
      }
      try {
        const st = await fh.stat();
        if (!st.isFile()) throw notFound(`No artifact at '${rel}'.`);
        // The handle, not the name: a directory swapped for a link after the walk is caught here.
        const real = openedPath(fh.fd);
        if (real && real !== abs(rel)) throw symlinkRefused(rel);
        // The stream owns the handle from here and closes it.
        const length = range ? range.end - range.start + 1 : st.size;
        const stream = fh.createReadStream({ start: range?.start, end: range?.end, highWaterMark: readChunk(length) });
        return { stream, size: st.size };
      } catch (e) {
        await fh.close();
        throw e;
      }
    },

    async list(dir): Promise<ArtifactEntry[]> {
      const w = await walk(dir);
      if (!w.exists || !w.isDir) return [];
      const out: ArtifactEntry[] = [];
      for (const e of await readdir(abs(dir), { withFileTypes: true })) {
        const path = dir ? `${dir}/${e.name}` : e.name;
        // Links are never followed or shown: they were not written through this store.
        if (e.isDirectory()) out.push({ path, is_dir: true });
        else if (e.isFile()) out.push({ path, is_dir: false, file_size: (await lstat(join(abs(dir), e.name))).size });
      }
      return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    },

    async delete(rel): Promise<number> {
      const w = await walk(rel);
      if (!w.exists) return 0;
      const count = w.isDir ? await countFiles(abs(rel)) : 1;
      // rm removes links themselves and never follows them.
      await rm(abs(rel), { recursive: true, force: true });
      await fsyncDir(dirname(abs(rel)));
      return count;
    },

    async createUpload(rel) {
      await walk(rel);
      const id = randomBytes(16).toString("hex");
      await mkdir(join(uploads, id, "parts"), { recursive: true });
      await writeFile(join(uploads, id, "upload.json"), JSON.stringify({ path: rel, created: Date.now() }));
      return id;
    },

    async uploadPart(rel, uploadId, partNumber, body): Promise<UploadPart> {
      const dir = await uploadFor(rel, uploadId);
      if (!Number.isSafeInteger(partNumber) || partNumber < 1 || partNumber > 10_000) {
        throw invalidParam(`part_number must be an integer from 1 to 10000; got ${partNumber}.`);
      }
      const { tmp, size, md5 } = await writeTemp(body, { md5: true });
      const part: UploadPart = { partNumber, size, etag: md5 };
      // Data first, then the record that names it: a crash in between leaves no record of a half part.
      await rename(tmp, join(dir, "parts", String(partNumber)));
      await writeFile(join(dir, "parts", `${partNumber}.json`), JSON.stringify(part));
      await fsyncDir(join(dir, "parts"));
      return part;
    },

    async listParts(rel, uploadId) {
      return parts(await uploadFor(rel, uploadId));
    },

    async completeUpload(rel, uploadId, wanted) {
      const dir = await uploadFor(rel, uploadId);
      const have = new Map((await parts(dir)).map((p) => [p.partNumber, p]));
      const order = (wanted.length ? [...wanted] : [...have.values()]).sort((a, b) => a.partNumber - b.partNumber);
      if (!order.length) throw invalidParam(`Multipart upload '${uploadId}' has no parts to complete.`);
      for (const p of order) {
        const got = have.get(p.partNumber);
        if (!got) throw invalidParam(`Part ${p.partNumber} of upload '${uploadId}' was never uploaded.`);
        if (p.etag && p.etag.replace(/"/g, "") !== got.etag) throw invalidParam(`Part ${p.partNumber}'s etag does not match the uploaded part; re-upload it.`);
      }
      async function* concat() {
        for (const p of order) {
          const from = join(dir, "parts", String(p.partNumber));
          for await (const chunk of createReadStream(from, { highWaterMark: readChunk(have.get(p.partNumber)!.size) })) yield chunk as Buffer;
        }
      }
      const { tmp, size } = await writeTemp(Readable.from(concat()));
      await commitTemp(tmp, rel);
      await rm(dir, { recursive: true, force: true });
      return { size };
    },

    async abortUpload(rel, uploadId) {
      const dir = await uploadFor(rel, uploadId);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function symlinkRefused(rel: string): KeelError {
  return new KeelError("PERMISSION_DENIED", `Artifact path '${rel}' crosses a symbolic link; links inside the artifact root are not followed.`);
}

/** The real path of an open descriptor (Linux); undefined where /proc is not available. */
function openedPath(fd: number): string | undefined {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return undefined;
  }
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function countFiles(dir: string): Promise<number> {
  let n = 0;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (e.isDirectory()) n += await countFiles(join(dir, e.name));
    else n++;
  }
  return n;
}


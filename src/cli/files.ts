import { createHash } from "node:crypto";
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, writeFileSync } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";

/** Local-file helpers for the SDK's web-stream transfers (the SDK itself stays free of Node modules). */

const CHUNK = 1024 * 1024;

/** Bytes [start, end) of a file as a web stream, read as the consumer pulls (end: the file's end when omitted). */
export function fileStream(path: string, start = 0, end = Number.POSITIVE_INFINITY): ReadableStream<Uint8Array> {
  let fh: FileHandle | undefined;
  let pos = start;
  const close = async () => {
    const h = fh;
    fh = undefined;
    await h?.close();
  };
  return new ReadableStream<Uint8Array>(
    {
      async pull(ctl) {
        try {
          fh ??= await open(path, "r");
          const want = Math.min(CHUNK, end - pos);
          if (want <= 0) {
            await close();
            ctl.close();
            return;
          }
          const buf = new Uint8Array(want);
          const { bytesRead } = await fh.read(buf, 0, want, pos);
          if (bytesRead === 0) {
            await close();
            ctl.close();
            return;
          }
          pos += bytesRead;
          ctl.enqueue(bytesRead === want ? buf : buf.subarray(0, bytesRead));
        } catch (err) {
          await close().catch(() => {});
          ctl.error(err);
        }
      },
      async cancel() {
        await close();
      },
    },
    { highWaterMark: 0 },
  );
}

/** Writes a web stream to a file (appending, or from scratch), fsynced before it resolves; returns the bytes written. */
export async function writeStreamToFile(stream: ReadableStream<Uint8Array>, path: string, append: boolean): Promise<number> {
  const fh = await open(path, append ? "a" : "w");
  let written = 0;
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      let off = 0;
      while (off < value.byteLength) {
        const { bytesWritten } = await fh.write(value, off, value.byteLength - off);
        off += bytesWritten;
      }
      written += value.byteLength;
    }
    await fh.sync();
  } catch (err) {
    await reader.cancel().catch(() => {});
    throw err;
  } finally {
    await fh.close();
  }
  return written;
}

/** Replaces `path` with `text` atomically (temp file, fsync, rename). */
export function writeFileAtomic(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  const fd = openSync(tmp, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/** Where resumable transfers keep their notes: $XDG_STATE_HOME/keel, else ~/.local/state/keel. */
export function stateDir(...sub: string[]): string {
  const base = process.env.XDG_STATE_HOME || join(homedir(), ".local", "state");
  return join(base, "keel", ...sub);
}

export function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

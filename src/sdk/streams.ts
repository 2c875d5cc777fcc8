/** Web-stream helpers for transfers (browser-safe: only WHATWG streams, no Node modules). */
import type { ProgressCallback, UploadBody } from "./types.js";

const SLICE = 256 * 1024;

/** Bytes of a body when known up front (streams: unknown). */
export function bodySize(body: UploadBody): number | undefined {
  if (typeof body === "string") return new TextEncoder().encode(body).byteLength;
  if (body instanceof Uint8Array || body instanceof ArrayBuffer) return body.byteLength;
  if (typeof Blob !== "undefined" && body instanceof Blob) return body.size;
  return undefined;
}

/** Any upload body as a stream of bytes (bytes are sliced so progress moves smoothly). */
export function toStream(body: UploadBody): ReadableStream<Uint8Array> {
  if (body instanceof ReadableStream) return body;
  let bytes: Uint8Array;
  if (typeof body === "string") bytes = new TextEncoder().encode(body);
  else if (body instanceof ArrayBuffer) bytes = new Uint8Array(body);
  else if (body instanceof Uint8Array) bytes = body;
  else return body.stream() as ReadableStream<Uint8Array>;
  let at = 0;
  return new ReadableStream<Uint8Array>({
    pull(ctl) {
      if (at >= bytes.byteLength) {
        ctl.close();
        return;
      }
      ctl.enqueue(bytes.subarray(at, at + SLICE));
      at += SLICE;
    },
  });
}

/**
 * Passes bytes through, reporting the running count (starting at `start`) to `onProgress` at most every
 * `everyMs` (and always at the end).
 */
export function counted(stream: ReadableStream<Uint8Array>, start: number, total: number | undefined, onProgress?: ProgressCallback, everyMs = 100): ReadableStream<Uint8Array> {
  if (!onProgress) return stream;
  let loaded = start;
  let last = 0;
  onProgress({ loaded, total });
  return stream.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, ctl) {
        loaded += chunk.byteLength;
        ctl.enqueue(chunk);
        const now = Date.now();
        if (now - last >= everyMs) {
          last = now;
          onProgress({ loaded, total });
        }
      },
      flush() {
        onProgress({ loaded, total });
      },
    }),
  );
}

export function emptyStream(): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(ctl) {
      ctl.close();
    },
  });
}

/** Base64 of a UTF-8 string (for Basic credentials), in Node and browsers alike. */
export function base64Utf8(s: string): string {
  let bin = "";
  for (const b of new TextEncoder().encode(s)) bin += String.fromCharCode(b);
  return btoa(bin);
}

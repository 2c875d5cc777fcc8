/**
 * How the artifacts browser shows a file: by its name, then (for names that say nothing) by its bytes.
 * Each kind has a size up to which it is previewed; past it the browser offers a download instead.
 */
export type PreviewKind = "image" | "json" | "csv" | "text";

const MB = 1024 * 1024;
export const PREVIEW_LIMIT: Record<PreviewKind, number> = { image: 10 * MB, json: 2 * MB, csv: 2 * MB, text: 1 * MB };

const IMAGES: Record<string, string> = {
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
  bmp: "image/bmp",
  svg: "image/svg+xml",
  ico: "image/x-icon",
};

/** Formats known to be binary: never sniffed, always downloaded. */
const BINARY = new Set(["onnx", "pkl", "pickle", "pt", "pth", "bin", "npy", "npz", "parquet", "arrow", "feather", "zip", "gz", "tgz", "tar", "whl", "h5", "hdf5", "pb", "so", "dll", "exe", "safetensors", "joblib"]);

function extension(name: string): string {
  const base = name.slice(name.lastIndexOf("/") + 1);
  const dot = base.lastIndexOf(".");
  return dot > 0 ? base.slice(dot + 1).toLowerCase() : "";
}

/** The preview a file gets by its name; undefined: a binary format (download only). Unknown names try text. */
export function previewKind(name: string): PreviewKind | undefined {
  const ext = extension(name);
  if (ext in IMAGES) return "image";
  if (ext === "json" || ext === "geojson" || ext === "ipynb") return "json";
  if (ext === "csv" || ext === "tsv") return "csv";
  if (BINARY.has(ext)) return undefined;
  return "text";
}

export function imageType(name: string): string {
  return IMAGES[extension(name)] ?? "application/octet-stream";
}

/** Bytes that are not text: a NUL early on, or not UTF-8. */
export function looksBinary(bytes: Uint8Array): boolean {
  const head = bytes.subarray(0, 8000);
  if (head.includes(0)) return true;
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(head.length < bytes.length ? trimPartialUtf8(head) : head);
    return false;
  } catch {
    return true;
  }
}

/** A prefix cut mid-character would fail strict decoding: drop a trailing partial sequence. */
function trimPartialUtf8(b: Uint8Array): Uint8Array {
  let end = b.length;
  for (let k = 1; k <= 3 && end - k >= 0; k++) {
    const c = b[end - k];
    if ((c & 0xc0) === 0x80) continue;
    const need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
    if (need > k) end -= k;
    break;
  }
  return b.subarray(0, end);
}

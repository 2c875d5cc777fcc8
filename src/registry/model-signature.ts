/**
 * Capturing a model version's signature when it is registered: what goes in and what comes out, read
 * from the model's own files through the artifact service (never the filesystem; every path through
 * safe-path.ts). An .onnx file is authoritative (names, element types and shapes from the graph itself);
 * without one, the MLmodel's `signature:` block; else nothing. Capture never fails a registration: what
 * went wrong is recorded in `error` and the version is READY all the same.
 */
import { basename } from "node:path";
import { checkArtifactPath } from "../artifacts/safe-path.js";
import type { ArtifactService } from "../artifacts/service.js";
import { isKeelError } from "../core/errors.js";
import { type ByteSource, ONNX_LIMITS, OnnxFormatError, type OnnxSignature, readOnnxSignatureFrom } from "../onnx/index.js";
import { MlmodelError, parseMlmodelSignature, type SignatureValue } from "./mlmodel.js";

export type { SignatureValue } from "./mlmodel.js";

export type SignatureSource = "onnx" | "mlmodel" | "none";

export interface ModelSignature {
  /** Where the signature came from: the model's .onnx file, its MLmodel, or neither. */
  source: SignatureSource;
  /** The file it was read from, relative to the version's source ("" when the source is that file). */
  file?: string;
  /** Why no signature could be read, when something went wrong (the version registered regardless). */
  error?: string;
  inputs: SignatureValue[];
  outputs: SignatureValue[];
  /** MLflow inference params, as the MLmodel lists them. */
  params?: unknown[];
  /** What the .onnx file says about itself. */
  onnx?: Pick<OnnxSignature, "ir_version" | "opset" | "opset_imports" | "producer">;
}

/** The reads capture needs: ArtifactService's listing and (ranged) reads of checked store paths. */
export type ModelFiles = Pick<ArtifactService, "list" | "read">;

export const SIGNATURE_LIMITS = {
  /** An MLmodel is a few kB; past this it is not one worth parsing. */
  mlmodelBytes: 1024 * 1024,
  /** Bytes of an .onnx file read in all: its graph's metadata, never its weights (see ONNX_LIMITS). */
  onnxBytesRead: ONNX_LIMITS.maxBytesRead,
  /** A registration waits at most this long for its capture (a slow or stuck artifact store). */
  timeoutMs: 30_000,
  /** A signature larger than this as JSON (thousands of inputs) is not stored; its error says so. */
  storedBytes: 4 * 1024 * 1024,
} as const;

const none = (error?: string): ModelSignature => ({ source: "none", ...(error ? { error } : {}), inputs: [], outputs: [] });

/** The signature of the model whose files are at `storagePath` (a checked artifact-store path). Never throws. */
export async function captureSignature(files: ModelFiles | undefined, storagePath: string, timeoutMs: number = SIGNATURE_LIMITS.timeoutMs): Promise<ModelSignature> {
  if (!files) return none("This server was started without access to model files, so no signature was read.");
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<ModelSignature>((resolve) => {
    timer = setTimeout(() => resolve(none(`Reading the model's files took longer than ${timeoutMs / 1000} s; no signature was recorded.`)), timeoutMs);
  });
  try {
    const sig = await Promise.race([capture(files, storagePath), timeout]);
    const size = JSON.stringify(sig).length;
    if (size <= SIGNATURE_LIMITS.storedBytes) return sig;
    const { source, file } = sig;
    return {
      source,
      ...(file !== undefined ? { file } : {}),
      error: `The signature (${sig.inputs.length} inputs, ${sig.outputs.length} outputs) is ${size} bytes as JSON, past the ${SIGNATURE_LIMITS.storedBytes}-byte limit; it was not stored.`,
      inputs: [],
      outputs: [],
    };
  } catch (err) {
    return none(describe(err, "the model's files"));
  } finally {
    clearTimeout(timer);
  }
}

async function capture(files: ModelFiles, dir: string): Promise<ModelSignature> {
  const listed = await files.list(dir);
  // The source may name the .onnx file itself (a file lists as nothing).
  if (!listed.length && /\.onnx$/i.test(dir)) return fromOnnx(files, dir, "");
  const entries = listed.filter((e) => !e.is_dir);
  if (!entries.length) return none("Found no model files at the version's source: upload the model's files before registering it.");
  const names = entries.map((e) => basename(e.path));
  const onnx = names.includes("model.onnx") ? "model.onnx" : names.filter((n) => /\.onnx$/i.test(n)).sort()[0];
  if (onnx) return fromOnnx(files, checkArtifactPath(`${dir}/${onnx}`), onnx);
  if (names.includes("MLmodel")) return fromMlmodel(files, checkArtifactPath(`${dir}/MLmodel`));
  return none();
}

async function fromOnnx(files: ModelFiles, path: string, file: string): Promise<ModelSignature> {
  const shown = file || basename(path);
  try {
    const first = await readRange(files, path, 0, ONNX_LIMITS.wholeFileBytes);
    const source: ByteSource = {
      size: first.size,
      read: async (offset, length) => {
        if (offset + length <= first.bytes.length) return first.bytes.subarray(offset, offset + length);
        return (await readRange(files, path, offset, length)).bytes;
      },
    };
    const sig = await readOnnxSignatureFrom(source, { maxBytesRead: SIGNATURE_LIMITS.onnxBytesRead });
    const { inputs, outputs, ...onnx } = sig;
    return { source: "onnx", file, inputs, outputs, onnx };
  } catch (err) {
    return { source: "onnx", file, error: describe(err, shown), inputs: [], outputs: [] };
  }
}

async function fromMlmodel(files: ModelFiles, path: string): Promise<ModelSignature> {
  try {
    const { bytes, size } = await readRange(files, path, 0, SIGNATURE_LIMITS.mlmodelBytes + 1);
    if (size > SIGNATURE_LIMITS.mlmodelBytes) {
      return { ...none(`MLmodel is ${size} bytes, past the ${SIGNATURE_LIMITS.mlmodelBytes}-byte limit; its signature was not read.`), file: "MLmodel" };
    }
    const sig = parseMlmodelSignature(new TextDecoder().decode(bytes));
    if (!sig) return none();
    return { source: "mlmodel", file: "MLmodel", ...sig };
  } catch (err) {
    return { source: "mlmodel", file: "MLmodel", error: describe(err, "MLmodel"), inputs: [], outputs: [] };
  }
}

/** `length` bytes from `start` (fewer at the end of the file) and the file's size, holding no more than asked for. */
async function readRange(files: ModelFiles, path: string, start: number, length: number): Promise<{ bytes: Uint8Array; size: number }> {
  let size = 0;
  let past = false;
  const read = await files.read(path, (s) => {
    size = s;
    if (s === 0) return undefined;
    // A file that shrank since its size was learnt: read one byte, hand back none.
    past = start >= s;
    return past ? { start: 0, end: 0 } : { start, end: Math.min(s, start + length) - 1 };
  });
  const chunks: Buffer[] = [];
  let got = 0;
  try {
    for await (const chunk of read.stream) {
      const b = chunk as Buffer;
      chunks.push(b);
      got += b.length;
      if (got >= length) break;
    }
  } finally {
    read.stream.destroy();
  }
  const all = Buffer.concat(chunks);
  return { bytes: past ? new Uint8Array(0) : all.subarray(0, Math.min(length, all.length)), size };
}

/** A message safe to show API users: format errors and 4xx say what they say; anything else names only the file. */
function describe(err: unknown, file: string): string {
  if (err instanceof OnnxFormatError || err instanceof MlmodelError) return `${file}: ${err.message}`;
  if (isKeelError(err)) return `${file}: ${err.message}`;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return `Could not read ${file} from the artifact store${code ? ` (${code})` : ""}.`;
}

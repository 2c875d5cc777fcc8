import { readFileSync } from "node:fs";
import { join } from "node:path";
import { deflateSync } from "node:zlib";
import { CliProcess, ROOT } from "./cli.js";

/**
 * A test model (test/fixtures/serving, made by generate.py) and the first reference input. Read here, not
 * through helpers/serving.ts, which is Node-typed and does not compile under the browser tests' DOM types.
 */
export function servingFixture(name: "mlp_small" | "mlp_medium"): { onnx: Buffer; input: { name: string; datatype: string; shape: number[]; data: number[] } } {
  const dir = join(ROOT, "test", "fixtures", "serving");
  const cases = JSON.parse(readFileSync(join(dir, `${name}.json`), "utf8")).cases;
  return { onnx: readFileSync(join(dir, `${name}.onnx`)), input: cases[0].inputs[0] };
}

/** `keel server` (the built CLI) on a free port; answers the process and its base URL. */
export async function startKeel(args: string[], env: Record<string, string> = {}): Promise<{ p: CliProcess; url: string }> {
  const p = new CliProcess(["server", "--port", "0", ...args], env);
  const line = await p.waitForLine((l) => typeof l.address === "string", "the listening line");
  return { p, url: `http://127.0.0.1:${new URL(line.address).port}` };
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** A real PNG (8-bit RGB) of `width` × `height` pixels whose colors come from `pixel(x, y)`. */
export function png(width: number, height: number, pixel: (x: number, y: number) => [number, number, number]): Buffer {
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1);
    for (let x = 0; x < width; x++) raw.set(pixel(x, y), row + 1 + x * 3);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk("IHDR", ihdr), chunk("IDAT", deflateSync(raw)), chunk("IEND", Buffer.alloc(0))]);
}

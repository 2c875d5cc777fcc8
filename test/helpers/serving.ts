import { readFileSync } from "node:fs";
import { join } from "node:path";
import Fastify, { type FastifyInstance } from "fastify";
import { expect } from "vitest";
import { frameworkErrors, installErrorHandling } from "../../src/server/error-handler.js";
import { localModel } from "../../src/serving/local-model.js";
import { mlflowScoringRoutes } from "../../src/serving/mlflow-routes.js";
import { type InputPolicy, type ServedModel, staticRepository } from "../../src/serving/model.js";
import { findModel, oipRoutes } from "../../src/serving/oip-routes.js";
import { ModelRuntime } from "../../src/serving/runtime.js";
import { ROOT } from "./cli.js";

/** Models exported by test/fixtures/serving/generate.py, with reference outputs computed in numpy. */
export const FIXTURES = join(ROOT, "test", "fixtures", "serving");
export type FixtureName = "mlp_small" | "mlp_medium" | "convnet" | "embedding" | "two_inputs" | "text";

export interface RefTensor {
  name: string;
  datatype: string;
  shape: number[];
  data: (number | boolean | string)[];
}
export interface RefCase {
  inputs: RefTensor[];
  outputs: RefTensor[];
}

export const fixturePath = (name: FixtureName) => join(FIXTURES, `${name}.onnx`);
export function fixtureCases(name: FixtureName): RefCase[] {
  return JSON.parse(readFileSync(join(FIXTURES, `${name}.json`), "utf8")).cases;
}

/** Served values equal the reference: exactly for integers, booleans and strings; floats within float32 rounding. */
export function expectTensorClose(got: { name: string; shape: number[]; data: unknown[] }, want: RefTensor): void {
  expect(got.name).toBe(want.name);
  expect(got.shape).toEqual(want.shape);
  expect(got.data).toHaveLength(want.data.length);
  want.data.forEach((w, i) => {
    const g = got.data[i];
    if (typeof w === "number" && want.datatype.startsWith("FP")) {
      if (Math.abs((g as number) - w) > 1e-5 + 1e-5 * Math.abs(w)) expect.fail(`${want.name}[${i}]: got ${g}, want ${w}`);
    } else expect(g, `${want.name}[${i}]`).toEqual(w);
  });
}

/** Row-major flat data nested by `shape` (as a client builds nested JSON). */
export function nest(data: unknown[], shape: number[]): unknown {
  if (shape.length <= 1) return data.slice();
  const rows = shape[0];
  const size = data.length / rows;
  return Array.from({ length: rows }, (_, i) => nest(data.slice(i * size, (i + 1) * size), shape.slice(1)));
}

/** Reference data as the binary extension lays it out (little-endian; BYTES length-prefixed). */
export function toBinary(t: RefTensor): Buffer {
  switch (t.datatype) {
    case "FP32":
      return Buffer.from(Float32Array.from(t.data as number[]).buffer);
    case "FP64":
      return Buffer.from(Float64Array.from(t.data as number[]).buffer);
    case "INT64":
      return Buffer.from(BigInt64Array.from((t.data as number[]).map((v) => BigInt(v))).buffer);
    case "INT32":
      return Buffer.from(Int32Array.from(t.data as number[]).buffer);
    case "BOOL":
      return Buffer.from((t.data as boolean[]).map((b) => (b ? 1 : 0)));
    case "BYTES":
      return Buffer.concat(
        (t.data as string[]).flatMap((s) => {
          const b = Buffer.from(s, "utf8");
          const len = Buffer.alloc(4);
          len.writeUInt32LE(b.length);
          return [len, b];
        }),
      );
    default:
      throw new Error(`toBinary: ${t.datatype}`);
  }
}

/** Binary output bytes back to plain values (other datatypes: the raw bytes). */
export function fromBinary(datatype: string, bytes: Buffer): unknown[] {
  const copy = new Uint8Array(bytes).buffer;
  switch (datatype) {
    case "FP32":
      return Array.from(new Float32Array(copy));
    case "INT64":
      return Array.from(new BigInt64Array(copy), Number);
    case "BOOL":
      return Array.from(bytes, (b) => b !== 0);
    case "BYTES": {
      const out: string[] = [];
      for (let p = 0; p < bytes.length; ) {
        const n = bytes.readUInt32LE(p);
        out.push(bytes.subarray(p + 4, p + 4 + n).toString("utf8"));
        p += 4 + n;
      }
      return out;
    }
    default:
      return Array.from(bytes);
  }
}

/** An OIP binary request: the JSON header, then each part; returns the body and its header length. */
export function binaryBody(header: unknown, parts: Buffer[]): { body: Buffer; headers: Record<string, string> } {
  const json = Buffer.from(JSON.stringify(header));
  return { body: Buffer.concat([json, ...parts]), headers: { "inference-header-content-length": String(json.length), "content-type": "application/octet-stream" } };
}

/** Splits a binary OIP answer into its JSON header and the outputs' data (by binary_data_size, in order). */
export function parseBinaryAnswer(body: Buffer, headerLength: number) {
  // biome-ignore lint/suspicious/noExplicitAny: answers are asserted field by field
  const head = JSON.parse(body.subarray(0, headerLength).toString("utf8")) as any;
  let pos = headerLength;
  // biome-ignore lint/suspicious/noExplicitAny: as above
  const outputs = head.outputs.map((o: any) => {
    const size = o.parameters?.binary_data_size;
    if (size === undefined) return o;
    const data = fromBinary(o.datatype, body.subarray(pos, pos + size));
    pos += size;
    return { ...o, data };
  });
  expect(pos).toBe(body.length);
  return { ...head, outputs };
}

export interface ServingTestApp {
  app: FastifyInstance;
  url: string;
  models: Map<string, ServedModel>;
  runtimes: ModelRuntime[];
  close(): Promise<void>;
}

/**
 * A server with several fixture models: OIP at /v2 and MLflow scoring at /models/<name>/ (the prefix a
 * caller chooses, as deployments will). `strict` models refuse non-finite inputs.
 */
export async function startServingApp(
  specs: { name: string; fixture: FixtureName; policy?: InputPolicy }[],
  opts: { maxBodyBytes?: number } = {},
): Promise<ServingTestApp> {
  const runtimes: ModelRuntime[] = [];
  const models: ServedModel[] = [];
  for (const s of specs) {
    const rt = await ModelRuntime.load({ path: fixturePath(s.fixture) }, { intraOpThreads: 1 });
    runtimes.push(rt);
    models.push(localModel(rt, { name: s.name, inputPolicy: s.policy }));
  }
  const repository = staticRepository(models);
  const app = Fastify({ frameworkErrors });
  installErrorHandling(app);
  await app.register(oipRoutes({ repository, maxBodyBytes: opts.maxBodyBytes }));
  await app.register(
    mlflowScoringRoutes({ resolve: (req) => findModel(repository, (req.params as { model: string }).model), maxBodyBytes: opts.maxBodyBytes }),
    { prefix: "/models/:model" },
  );
  const url = await app.listen({ host: "127.0.0.1", port: 0 });
  return {
    app,
    url,
    models: new Map(models.map((m) => [m.name, m])),
    runtimes,
    close: async () => {
      await app.close();
      for (const rt of runtimes) await rt.dispose();
    },
  };
}

/** POST with a body; the answer's status, headers and bytes (and JSON, when it is JSON). */
export async function post(url: string, body: string | Buffer | object, headers: Record<string, string> = {}) {
  const isJson = typeof body === "object" && !Buffer.isBuffer(body);
  const res = await fetch(url, {
    method: "POST",
    body: isJson ? JSON.stringify(body) : (body as string | Buffer),
    headers: isJson ? { "content-type": "application/json", ...headers } : headers,
  });
  const bytes = Buffer.from(await res.arrayBuffer());
  // biome-ignore lint/suspicious/noExplicitAny: answers are asserted field by field
  let json: any;
  if ((res.headers.get("content-type") ?? "").startsWith("application/json")) json = JSON.parse(bytes.toString("utf8"));
  return { status: res.status, headers: res.headers, bytes, json };
}

/** GET, parsed as JSON. */
export async function getJson(url: string) {
  const res = await fetch(url);
  // biome-ignore lint/suspicious/noExplicitAny: answers are asserted field by field
  return { status: res.status, json: (await res.json()) as any };
}

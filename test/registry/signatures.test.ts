/**
 * Signatures captured at registration, through the HTTP API as the MLflow client does it: upload the
 * model's files through the artifact proxy, then model-versions/create. An .onnx file is read for names,
 * element types and shapes; else the MLmodel's signature; else nothing. No capture failure ever fails
 * the registration.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeOnnxModel, logisticRegressionModel } from "../../src/onnx/index.js";
import { client, startTestApp, type TestApp } from "../helpers/app.js";
import { expectError, newModel, newRun } from "../helpers/registry.js";

const fixture = (dir: string, name: string) => readFileSync(join(import.meta.dirname, "../fixtures", dir, name));

let t: TestApp;
let c: ReturnType<typeof client>;
let run: { runId: string; artifactUri: string };
let root: string;

beforeAll(async () => {
  t = await startTestApp();
  c = client(t.url);
  const exp = (await c.post("experiments/create", { name: "signatures" })).body.experiment_id;
  run = await newRun(c, exp);
  root = run.artifactUri.slice("mlflow-artifacts:/".length);
  await newModel(c, "sig");
});
afterAll(async () => t?.close());

/** Uploads a file through the MLflow artifact proxy, as the MLflow client does before registering. */
async function upload(rel: string, body: Uint8Array | string): Promise<void> {
  const res = await fetch(`${t.url}/api/2.0/mlflow-artifacts/artifacts/${root}/${rel}`, {
    method: "PUT",
    body: typeof body === "string" ? body : Buffer.from(body),
    headers: { "content-type": "application/octet-stream" },
  });
  expect(res.status, await res.text()).toBe(200);
}

async function register(source: string, name = "sig", runId: string | undefined = run.runId): Promise<string> {
  const r = await c.post("model-versions/create", { name, source, ...(runId ? { run_id: runId } : {}) });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  expect(r.body.model_version.status).toBe("READY");
  return r.body.model_version.version;
}

const signature = (name: string, version: string) => c.get(`/api/keel/v1/models/${encodeURIComponent(name)}/versions/${version}/signature`);

describe("signature captured at registration", () => {
  it("reads an ONNX model's inputs and outputs from the file itself", async () => {
    await upload("lr/model.onnx", logisticRegressionModel({ weights: [[1], [2], [3]], bias: [0] }));
    await upload("lr/MLmodel", fixture("mlmodel", "columns.MLmodel"));
    const v = await register(`${run.artifactUri}/lr`);
    const r = await signature("sig", v);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body).toEqual({
      name: "sig",
      version: v,
      captured_timestamp: expect.any(Number),
      source: "onnx",
      file: "model.onnx",
      inputs: [{ name: "x", dtype: "FLOAT", datatype: "FP32", shape: ["batch", 3] }],
      outputs: [{ name: "probability", dtype: "FLOAT", datatype: "FP32", shape: ["batch", 1] }],
      onnx: { ir_version: 8, opset: 13, opset_imports: [{ domain: "", version: 13 }], producer: { name: "keel", version: "" } },
    });
  });

  it("reads a PyTorch export registered with a runs:/ URI, and a source that is the .onnx file itself", async () => {
    await upload("torch/exported.onnx", fixture("onnx", "torch-two-inputs.onnx"));
    const v = await register(`runs:/${run.runId}/torch`, "sig", undefined);
    const r = await signature("sig", v);
    expect(r.body).toMatchObject({ source: "onnx", file: "exported.onnx", onnx: { producer: { name: "pytorch" } } });
    expect(r.body.inputs.map((i: { name: string; dtype: string }) => [i.name, i.dtype])).toEqual([
      ["tokens", "INT64"],
      ["features", "FLOAT"],
    ]);

    const file = await register(`${run.artifactUri}/torch/exported.onnx`);
    const f = await signature("sig", file);
    expect(f.body).toMatchObject({ source: "onnx", file: "", inputs: r.body.inputs, outputs: r.body.outputs });
  });

  it("falls back to the MLmodel's signature when there is no .onnx file", async () => {
    await upload("sk/MLmodel", fixture("mlmodel", "columns.MLmodel"));
    await upload("sk/model.pkl", "pickle bytes");
    const v = await register(`${run.artifactUri}/sk`);
    const r = await signature("sig", v);
    expect(r.body).toMatchObject({ source: "mlmodel", file: "MLmodel" });
    expect(r.body.error).toBeUndefined();
    expect(r.body.inputs).toHaveLength(4);
    expect(r.body.inputs[0]).toEqual({ name: "sepal length (cm)", dtype: "DOUBLE", datatype: "FP64", shape: [null], kind: "column", mlflow_type: "double", required: true });
    expect(r.body.outputs).toEqual([{ name: null, dtype: "INT64", datatype: "INT64", shape: [null], kind: "column", mlflow_type: "long", required: true }]);

    await upload("pt/MLmodel", fixture("mlmodel", "tensors.MLmodel"));
    const pt = await signature("sig", await register(`${run.artifactUri}/pt`));
    expect(pt.body.inputs[0]).toEqual({ name: "features", dtype: "FLOAT", datatype: "FP32", shape: [null, 4], mlflow_type: "float32" });
    expect(pt.body.params).toEqual([{ name: "temperature", type: "float", default: 0.7, shape: null }]);
  });

  it("records source none for a model with neither, and says so when nothing was uploaded", async () => {
    await upload("plain/model.pkl", "pickle bytes");
    await upload("plain/MLmodel.txt", "not the MLmodel");
    const plain = await signature("sig", await register(`${run.artifactUri}/plain`));
    expect(plain.body).toMatchObject({ source: "none", inputs: [], outputs: [] });
    expect(plain.body.error).toBeUndefined();

    await upload("nosig/MLmodel", fixture("mlmodel", "no-signature.MLmodel"));
    expect((await signature("sig", await register(`${run.artifactUri}/nosig`))).body).toMatchObject({ source: "none", inputs: [] });

    const empty = await signature("sig", await register(`${run.artifactUri}/never-uploaded`));
    expect(empty.body).toMatchObject({ source: "none", inputs: [], outputs: [] });
    expect(empty.body.error).toMatch(/no model files/i);
  });

  it("registers a corrupt .onnx or a malformed MLmodel READY, recording why no signature was read", async () => {
    const good = logisticRegressionModel({ weights: [[1]], bias: [0] });
    await upload("broken/model.onnx", good.subarray(0, good.length - 9));
    const broken = await signature("sig", await register(`${run.artifactUri}/broken`));
    expect(broken.body).toMatchObject({ source: "onnx", file: "model.onnx", inputs: [], outputs: [] });
    expect(broken.body.error).toMatch(/^model\.onnx: Not a valid ONNX model/);

    await upload("text/model.onnx", "definitely not protobuf");
    const text = await signature("sig", await register(`${run.artifactUri}/text`));
    expect(text.body.error).toMatch(/Not a valid ONNX model|Not an ONNX model/);

    await upload("bad-mlmodel/MLmodel", "signature:\n  inputs: '[{\"type\": \"double\"\n");
    const bad = await signature("sig", await register(`${run.artifactUri}/bad-mlmodel`));
    expect(bad.body).toMatchObject({ source: "mlmodel", file: "MLmodel", inputs: [] });
    expect(bad.body.error).toMatch(/MLmodel: .*never ends/);

    await upload("huge/MLmodel", `signature:\n  inputs: '[]'\n# ${"x".repeat(1024 * 1024)}\n`);
    const huge = await signature("sig", await register(`${run.artifactUri}/huge`));
    expect(huge.body).toMatchObject({ source: "none", file: "MLmodel" });
    expect(huge.body.error).toMatch(/limit/);
  });

  it("does not store an outsized signature, saying why", async () => {
    const inputs = Array.from({ length: 9000 }, (_, i) => ({ name: `${"x".repeat(480)}${i}`, dtype: "FLOAT", shape: [1] }));
    await upload("wide/model.onnx", encodeOnnxModel({ graph: { name: "wide", nodes: [], inputs, outputs: [] } }));
    const r = await signature("sig", await register(`${run.artifactUri}/wide`));
    expect(r.body).toMatchObject({ source: "onnx", file: "model.onnx", inputs: [], outputs: [] });
    expect(r.body.error).toMatch(/9000 inputs.*past the 4194304-byte limit/);
  });

  it("reads the signature of a version recorded without one (registered before signatures existed)", async () => {
    await upload("old/model.onnx", logisticRegressionModel({ weights: [[1], [1]], bias: [0] }));
    const v = await register(`${run.artifactUri}/old`);
    await t.database.db.deleteFrom("model_version_signatures").where("version", "=", Number(v)).execute();
    const r = await signature("sig", v);
    expect(r.body).toMatchObject({ source: "onnx", inputs: [{ name: "x", shape: ["batch", 2] }] });
    expect((await signature("sig", v)).body.captured_timestamp).toBe(r.body.captured_timestamp);
  });

  it("answers 404 for an unknown model or version and 400 for a version that is not a number", async () => {
    expectError(await signature("nope", "1"), 404, "RESOURCE_DOES_NOT_EXIST", /Registered Model with name=nope not found/);
    expectError(await signature("sig", "999"), 404, "RESOURCE_DOES_NOT_EXIST", /Model Version \(name=sig, version=999\) not found/);
    expectError(await signature("sig", "0"), 404, "RESOURCE_DOES_NOT_EXIST");
    expectError(await signature("sig", "abc"), 400, "INVALID_PARAMETER_VALUE", /must be an integer/);
    expectError(await signature("sig", "99999999999999999999"), 404, "RESOURCE_DOES_NOT_EXIST");
  });

  it("forgets the signature with its version, and serves names that need escaping", async () => {
    await newModel(c, "a model/with slash");
    await upload("esc/model.onnx", logisticRegressionModel({ weights: [[1]], bias: [0] }));
    const v = await register(`${run.artifactUri}/esc`, "a model/with slash");
    expect((await signature("a model/with slash", v)).body.source).toBe("onnx");
    expect((await c.call("DELETE", "model-versions/delete", { name: "a model/with slash", version: v })).status).toBe(200);
    expectError(await signature("a model/with slash", v), 404, "RESOURCE_DOES_NOT_EXIST");
    // One signature per version, gone with it.
    const signatures = await t.database.db.selectFrom("model_version_signatures").select(["model_id", "version"]).orderBy("model_id").orderBy("version").execute();
    const versions = await t.database.db.selectFrom("model_versions").select(["model_id", "version"]).orderBy("model_id").orderBy("version").execute();
    expect(signatures).toEqual(versions);
  });

  it("documents the endpoint in the OpenAPI", async () => {
    const doc = await c.get("/docs/json");
    expect(doc.status).toBe(200);
    expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining(["/api/keel/v1/models/{name}/versions/{version}/signature", "/api/keel/v1/lineage"]));
  });
});

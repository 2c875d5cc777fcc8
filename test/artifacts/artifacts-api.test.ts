import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { client, startTestApp, type TestApp } from "../helpers/app.js";
import { rawRequest } from "../helpers/raw-http.js";

let t: TestApp;
let c: ReturnType<typeof client>;
let exp: string;
let run: string;
let root: string; // proxy path of the run's artifact root
const A = "/api/2.0/mlflow-artifacts/artifacts";

beforeAll(async () => {
  t = await startTestApp();
  c = client(t.url);
  exp = (await c.post("experiments/create", { name: "artifacts" })).body.experiment_id;
  const r = (await c.post("runs/create", { experiment_id: exp })).body.run.info;
  run = r.run_id;
  expect(r.artifact_uri).toBe(`mlflow-artifacts:/${exp}/${run}/artifacts`);
  root = `${exp}/${run}/artifacts`;
});
afterAll(async () => t?.close());

const put = (path: string, body: Buffer | string, type = "application/octet-stream") => fetch(`${t.url}${A}/${path}`, { method: "PUT", body, headers: { "content-type": type } });

describe("artifact proxy", () => {
  it("stores and returns bytes exactly, with any content type (a .json body is not parsed)", async () => {
    const bin = randomBytes(300_000);
    expect((await put(`${root}/model/weights.bin`, bin)).status).toBe(200);
    const json = '{"a": 1,   "b": [1,2]}';
    expect((await put(`${root}/model/meta.json`, json, "application/json")).status).toBe(200);
    const got = await fetch(`${t.url}${A}/${root}/model/weights.bin`);
    expect(got.status).toBe(200);
    expect(Buffer.from(await got.arrayBuffer()).equals(bin)).toBe(true);
    expect(got.headers.get("content-length")).toBe(String(bin.length));
    expect(got.headers.get("x-content-type-options")).toBe("nosniff");
    const gj = await fetch(`${t.url}${A}/${root}/model/meta.json`);
    expect(await gj.text()).toBe(json);
    expect(gj.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    // Replacing keeps only the new bytes.
    await put(`${root}/model/meta.json`, "{}", "application/json");
    expect(await (await fetch(`${t.url}${A}/${root}/model/meta.json`)).text()).toBe("{}");
  });

  it("an .html artifact is never served as a page", async () => {
    await put(`${root}/x.html`, "<script>alert(1)</script>", "text/html");
    const r = await fetch(`${t.url}${A}/${root}/x.html`);
    expect(r.headers.get("content-type")).toBe("application/octet-stream");
    expect(r.headers.get("content-disposition")).toContain("attachment");
    expect(r.headers.get("content-security-policy")).toContain("sandbox");
  });

  it("serves byte ranges (206) and refuses impossible ones (416)", async () => {
    const body = Buffer.from("0123456789abcdef");
    await put(`${root}/r.txt`, body);
    const range = async (h: string) => {
      const r = await fetch(`${t.url}${A}/${root}/r.txt`, { headers: { range: h } });
      return { status: r.status, text: await r.text(), cr: r.headers.get("content-range") };
    };
    expect(await range("bytes=0-3")).toEqual({ status: 206, text: "0123", cr: "bytes 0-3/16" });
    expect(await range("bytes=10-")).toEqual({ status: 206, text: "abcdef", cr: "bytes 10-15/16" });
    expect(await range("bytes=-2")).toEqual({ status: 206, text: "ef", cr: "bytes 14-15/16" });
    expect(await range("bytes=15-99")).toEqual({ status: 206, text: "f", cr: "bytes 15-15/16" });
    expect((await range("bytes=16-20")).status).toBe(416);
    expect((await range("bytes=16-20")).cr).toBe("bytes */16");
    expect((await range("bytes=5-2")).status).toBe(416);
    expect((await range("bytes=0-1,4-5")).status).toBe(200); // several ranges: the whole object
  });

  it("lists basenames through the proxy and relative paths through artifacts/list", async () => {
    const proxy = await c.get(`${A}`, { path: `${root}/model` });
    expect(proxy.status).toBe(200);
    expect(proxy.body.files).toEqual([
      { path: "meta.json", is_dir: false, file_size: 2 },
      { path: "weights.bin", is_dir: false, file_size: 300_000 },
    ]);
    const top = await c.get("artifacts/list", { run_id: run });
    expect(top.body.root_uri).toBe(`mlflow-artifacts:/${root}`);
    expect(top.body.files.find((f: { path: string }) => f.path === "model")).toEqual({ path: "model", is_dir: true });
    const sub = await c.get("artifacts/list", { run_id: run, path: "model" });
    expect(sub.body.files.map((f: { path: string }) => f.path)).toEqual(["model/meta.json", "model/weights.bin"]);
    expect((await c.get("artifacts/list", { run_id: run, path: "nothing-here" })).body.files).toBeUndefined();
    expect((await c.get(`${A}`, { path: `${root}/nothing` })).body).toEqual({});
  });

  it("get-artifact at the root and under /ajax-api, and the UI's upload-artifact", async () => {
    const up = await fetch(`${t.url}/ajax-api/2.0/mlflow/upload-artifact?run_uuid=${run}&path=ui/note.txt`, { method: "POST", body: "hello", headers: { "content-type": "text/plain" } });
    expect(up.status).toBe(200);
    for (const prefix of ["", "/ajax-api/2.0/mlflow"]) {
      const r = await fetch(`${t.url}${prefix}/get-artifact?run_uuid=${run}&path=ui/note.txt`);
      expect(r.status).toBe(200);
      expect(await r.text()).toBe("hello");
    }
    expect((await fetch(`${t.url}/get-artifact?run_uuid=${run}&path=ui/missing.txt`)).status).toBe(404);
  });

  it("deletes a file or a directory, then answers 404", async () => {
    await put(`${root}/tmp/a.txt`, "a");
    await put(`${root}/tmp/b/c.txt`, "c");
    await put(`${root}/tmpx.txt`, "sibling with a common prefix");
    expect((await fetch(`${t.url}${A}/${root}/tmp`, { method: "DELETE" })).status).toBe(200);
    expect((await fetch(`${t.url}${A}/${root}/tmp/a.txt`)).status).toBe(404);
    expect((await fetch(`${t.url}${A}/${root}/tmpx.txt`)).status).toBe(200);
    expect((await fetch(`${t.url}${A}/${root}/tmp`, { method: "DELETE" })).status).toBe(404);
  });

  it("keeps every path inside a live run of the experiment it names", async () => {
    const other = (await c.post("experiments/create", { name: "artifacts-other" })).body.experiment_id;
    const cases: [string, number][] = [
      [`${other}/${run}/artifacts/x.txt`, 404], // run is not in that experiment
      [`${exp}/${"0".repeat(32)}/artifacts/x.txt`, 404], // no such run
      [`${exp}/${run}/other/x.txt`, 400], // outside the run's artifacts folder
      [`${exp}/x.txt`, 400],
      ["x.txt", 400],
    ];
    for (const [path, status] of cases) {
      const r = await put(path, "x");
      expect(r.status, path).toBe(status);
      expect(((await r.json()) as { error_code: string }).error_code).toMatch(/INVALID_PARAMETER_VALUE|RESOURCE_DOES_NOT_EXIST/);
    }
    const dead = (await c.post("runs/create", { experiment_id: exp })).body.run.info.run_id;
    await c.post("runs/delete", { run_id: dead });
    expect((await put(`${exp}/${dead}/artifacts/x.txt`, "x")).status).toBe(400);
    expect(existsSync(join(t.db.dataDir, "artifacts", exp, dead))).toBe(false);
  });
});

describe("multipart uploads", () => {
  const mpu = (op: string, path: string, body: unknown) => c.post(`/api/2.0/mlflow-artifacts/mpu/${op}/${path}`, body);

  it("uploads parts out of order, resumes after an interruption, and completes to the concatenation", async () => {
    const path = `${root}/big/data.bin`;
    const parts = [randomBytes(70_000), randomBytes(50_000), randomBytes(1234)];
    const created = await mpu("create", path, { path, num_parts: 3 });
    expect(created.status).toBe(200);
    const { upload_id, credentials } = created.body;
    expect(credentials.map((x: { part_number: number }) => x.part_number)).toEqual([1, 2, 3]);
    const send = async (i: number) => {
      const r = await fetch(credentials[i].url, { method: "PUT", body: parts[i] });
      expect(r.status).toBe(200);
      return r.headers.get("etag") as string;
    };
    const e3 = await send(2);
    const e1 = await send(0);
    // "Interrupted": the client asks what arrived and sends only the rest.
    const have = await c.get(`/api/2.0/mlflow-artifacts/mpu/parts/${path}`, { upload_id });
    expect(have.body.parts.map((p: { part_number: number }) => p.part_number)).toEqual([1, 3]);
    const e2 = await send(1);
    const done = await mpu("complete", path, {
      path,
      upload_id,
      parts: [
        { part_number: 1, etag: e1 },
        { part_number: 2, etag: e2 },
        { part_number: 3, etag: e3 },
      ],
    });
    expect(done.status).toBe(200);
    const got = Buffer.from(await (await fetch(`${t.url}${A}/${path}`)).arrayBuffer());
    expect(got.equals(Buffer.concat(parts))).toBe(true);
    expect((await mpu("complete", path, { path, upload_id, parts: [] })).status).toBe(404);
  });

  it("abort discards the upload; bad ids and part numbers are 4xx", async () => {
    const path = `${root}/aborted.bin`;
    const { upload_id } = (await mpu("create", path, { path, num_parts: 1 })).body;
    expect((await mpu("abort", path, { path, upload_id })).status).toBe(200);
    expect((await mpu("complete", path, { path, upload_id, parts: [{ part_number: 1 }] })).status).toBe(404);
    expect((await fetch(`${t.url}${A}/${path}`)).status).toBe(404);
    const again = (await mpu("create", path, { path, num_parts: 1 })).body.upload_id;
    for (const q of [`upload_id=../../x&part_number=1`, `upload_id=${again}&part_number=0`, `upload_id=${again}&part_number=x`, `upload_id=${again}`]) {
      const r = await fetch(`${t.url}/api/2.0/mlflow-artifacts/mpu/upload-part/${path}?${q}`, { method: "PUT", body: "x" });
      expect(r.status, q).toBeGreaterThanOrEqual(400);
      expect(r.status, q).toBeLessThan(500);
    }
    const wrongPath = `${root}/elsewhere.bin`;
    expect((await mpu("complete", wrongPath, { path: wrongPath, upload_id: again, parts: [] })).status).toBe(400);
    expect((await mpu("create", path, { path, num_parts: 0 })).status).toBe(400);
  });
});

describe("hostile paths (../shared/contracts/security-payloads.md)", () => {
  const payloads = [
    "../x",
    "./../x",
    "a/../../x",
    "..\\x",
    "\\..\\..\\x",
    "%2e%2e%2fx",
    "..%2fx",
    "%2e%2e/x",
    "%252e%252e%252fx",
    "x%00.txt",
    "/etc/passwd",
    "C:\\x",
    "C:/x",
    "file:///etc/passwd",
    "file://host/x",
    "http:///#/../../etc/",
    "a%3f/../../..",
    "a//b",
    ".",
    "a/./b",
  ];

  it("every route refuses them with a 4xx and touches nothing", async () => {
    const outside = join(t.db.dataDir, "outside.txt");
    writeFileSync(outside, "secret");
    const before = readdirSync(t.db.dataDir).sort();
    for (const p of payloads) {
      const enc = encodeURIComponent(p);
      const requests: [string, string][] = [
        ["PUT", `${A}/${root}/${p}`],
        ["GET", `${A}/${root}/${p}`],
        ["DELETE", `${A}/${root}/${p}`],
        ["GET", `${A}?path=${encodeURIComponent(`${root}/${p}`)}`],
        ["GET", `${A}/${p}`],
        ["GET", `/api/2.0/mlflow/artifacts/list?run_id=${run}&path=${enc}`],
        ["GET", `/get-artifact?run_uuid=${run}&path=${enc}`],
        ["POST", `/ajax-api/2.0/mlflow/upload-artifact?run_uuid=${run}&path=${enc}`],
        ["POST", `/api/2.0/mlflow-artifacts/mpu/create/${root}/${p}`],
      ];
      for (const [method, path] of requests) {
        const r = await rawRequest(t.url, method, path, method === "GET" || method === "DELETE" ? undefined : "pwned", { "content-type": "application/octet-stream" });
        expect(r.status, `${method} ${path}`).toBeGreaterThanOrEqual(400);
        expect(r.status, `${method} ${path}`).toBeLessThan(500);
        expect(r.body.toString(), `${method} ${path}`).not.toContain("secret");
      }
    }
    expect(readdirSync(t.db.dataDir).sort()).toEqual(before);
    expect(existsSync(join(t.db.dataDir, "x"))).toBe(false);
  });

  it("a symbolic link inside the artifact root is never followed", async () => {
    const secretDir = join(t.db.dataDir, "secret-dir");
    mkdirSync(secretDir, { recursive: true });
    writeFileSync(join(secretDir, "key.txt"), "secret");
    const runDir = join(t.db.dataDir, "artifacts", exp, run, "artifacts");
    symlinkSync(secretDir, join(runDir, "linkdir"));
    symlinkSync(join(secretDir, "key.txt"), join(runDir, "linkfile.txt"));
    for (const p of ["linkdir/key.txt", "linkfile.txt"]) {
      const r = await fetch(`${t.url}${A}/${root}/${p}`);
      expect(r.status, p).toBe(403);
      expect(await r.text()).not.toContain("secret");
    }
    expect((await put(`${root}/linkdir/new.txt`, "x")).status).toBe(403);
    expect(existsSync(join(secretDir, "new.txt"))).toBe(false);
    expect((await fetch(`${t.url}${A}/${root}/linkdir`, { method: "DELETE" })).status).toBe(403);
    expect(existsSync(join(secretDir, "key.txt"))).toBe(true);
    const listed = await c.get("artifacts/list", { run_id: run });
    expect(listed.body.files.map((f: { path: string }) => f.path)).not.toContain("linkdir");
    expect((await c.get("artifacts/list", { run_id: run, path: "linkdir" })).status).toBe(403);
  });
});

describe("model version artifacts", () => {
  it("serves files of a registered version's source and refuses escapes", async () => {
    await put(`${root}/mv/model.onnx`, "onnx-bytes");
    expect((await c.post("registered-models/create", { name: "art-model" })).status).toBe(200);
    const v = await c.post("model-versions/create", { name: "art-model", source: `runs:/${run}/mv`, run_id: run });
    expect(v.status).toBe(200);
    const r = await fetch(`${t.url}/model-versions/get-artifact?name=art-model&version=${v.body.model_version.version}&path=model.onnx`);
    expect(r.status).toBe(200);
    expect(await r.text()).toBe("onnx-bytes");
    for (const q of ["path=../../x", "path=..%2f..%2fx", "path=/etc/passwd"]) {
      const bad = await rawRequest(t.url, "GET", `/ajax-api/2.0/mlflow/model-versions/get-artifact?name=art-model&version=1&${q}`);
      expect(bad.status, q).toBe(400);
    }
    expect((await fetch(`${t.url}/model-versions/get-artifact?name=art-model&version=99&path=model.onnx`)).status).toBe(404);
  });
});

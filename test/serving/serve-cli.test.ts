/**
 * `keel serve model.onnx` as users run it (the built CLI): serves OIP and /invocations, names the model
 * after the file, refuses a non-loopback bind without a token, requires the Bearer token from
 * --token-file on everything but health checks, drains on SIGTERM, and loads onnxruntime only when serving.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CliProcess, freePort, requireBuiltCli, runCli } from "../helpers/cli.js";
import { expectTensorClose, fixtureCases, fixturePath, post } from "../helpers/serving.js";

let dir: string;
const procs: CliProcess[] = [];

async function serve(args: string[], env: Record<string, string> = {}): Promise<{ proc: CliProcess; url: string }> {
  const port = await freePort();
  const proc = new CliProcess(["serve", ...args, "--port", String(port), "--intra-op-threads", "1"], env);
  procs.push(proc);
  const line = await proc.waitForLine((l) => l.msg === "keel serve listening", "the listening line");
  return { proc, url: line.address.replace("0.0.0.0", "127.0.0.1") };
}

beforeAll(() => {
  requireBuiltCli();
  dir = mkdtempSync(join(tmpdir(), "keel-serve-"));
});
afterAll(async () => {
  for (const p of procs) await p.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("keel serve", () => {
  it("serves one file over OIP and /invocations, named after the file; SIGTERM drains and exits 0", async () => {
    const { proc, url } = await serve([fixturePath("two_inputs")]);
    const listening = proc.json().find((l) => l.msg === "keel serve listening");
    expect(listening).toMatchObject({ model: "two_inputs", inputs: ["a: FP32[-1,4]", "b: FP32[-1,3]"], auth: false });
    const [c] = fixtureCases("two_inputs");
    const r = await post(`${url}/v2/models/two_inputs/infer`, { inputs: c.inputs });
    expect(r.status, r.bytes.toString()).toBe(200);
    expectTensorClose(r.json.outputs[0], c.outputs[0]);
    const m = await post(`${url}/invocations`, { inputs: { a: [c.inputs[0].data], b: [c.inputs[1].data] } });
    expect(m.status, m.bytes.toString()).toBe(200);
    expect(m.json.predictions.y[0][0]).toBeCloseTo(c.outputs[0].data[0] as number, 5);
    for (const p of ["/ping", "/health", "/version", "/v2/health/ready", "/v2/models/two_inputs"]) expect((await fetch(`${url}${p}`)).status, p).toBe(200);

    proc.proc.kill("SIGTERM");
    const exit = await proc.exited;
    expect(exit.code).toBe(0);
    expect(proc.json().some((l) => l.msg?.includes("shutting down"))).toBe(true);
    expect(proc.stderr).not.toContain("Warning");
  });

  it("the default batcher, --worker-thread and --max-batch-size 1 all answer concurrent requests with the same numbers", async () => {
    const [c] = fixtureCases("mlp_small");
    for (const flags of [[], ["--worker-thread"], ["--max-batch-size", "1"]]) {
      const { url } = await serve([fixturePath("mlp_small"), ...flags]);
      const answers = await Promise.all(Array.from({ length: 24 }, () => post(`${url}/v2/models/mlp_small/infer`, { inputs: c.inputs })));
      for (const r of answers) {
        expect(r.status, `${flags.join(" ")}: ${r.bytes.toString()}`).toBe(200);
        expectTensorClose(r.json.outputs[0], c.outputs[0]);
      }
    }
    const bad = await runCli(["serve", fixturePath("mlp_small"), "--max-batch-size", "0"]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain("--max-batch-size");
  });

  it("--name renames the model", async () => {
    const { url } = await serve([fixturePath("mlp_small"), "--name", "fraud"]);
    expect((await fetch(`${url}/v2/models/fraud`)).status).toBe(200);
    expect((await fetch(`${url}/v2/models/mlp_small`)).status).toBe(404);
  });

  it("refuses a non-loopback bind without a token; --insecure-no-auth opts in", async () => {
    const refused = await runCli(["serve", fixturePath("mlp_small"), "--host", "0.0.0.0", "--port", String(await freePort())]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("Refusing to listen on 0.0.0.0 without authentication");
    expect(refused.stderr).toContain("--token-file");
    const { url } = await serve([fixturePath("mlp_small"), "--host", "0.0.0.0", "--insecure-no-auth"]);
    expect((await fetch(`${url}/v2/models/mlp_small`)).status).toBe(200);
  });

  it("--token-file: Bearer required on every route but health checks", async () => {
    const tokenFile = join(dir, "token");
    writeFileSync(tokenFile, "s3cret-token-1234\n");
    const { proc, url } = await serve([fixturePath("mlp_small"), "--host", "0.0.0.0", "--token-file", tokenFile]);
    expect(proc.json().find((l) => l.msg === "keel serve listening")?.auth).toBe(true);
    for (const p of ["/ping", "/health", "/v2/health/live", "/v2/health/ready"]) expect((await fetch(`${url}${p}`)).status, p).toBe(200);
    const [c] = fixtureCases("mlp_small");
    const body = { inputs: c.inputs };

    const none = await post(`${url}/v2/models/mlp_small/infer`, body);
    expect(none.status).toBe(401);
    expect(none.json.error).toContain("Authentication required");
    expect(none.headers.get("www-authenticate")).toContain("Bearer");
    const wrong = await post(`${url}/v2/models/mlp_small/infer`, body, { authorization: "Bearer nope" });
    expect(wrong.status).toBe(401);
    expect(wrong.json.error).toContain("not valid");
    const mlflow = await post(`${url}/invocations`, { inputs: [c.inputs[0].data] });
    expect(mlflow.status).toBe(401);
    expect(mlflow.json.error_code).toBe("UNAUTHENTICATED");
    for (const p of ["/v2", "/v2/models/mlp_small", "/version", "/nowhere"]) expect((await fetch(`${url}${p}`)).status, p).toBe(401);

    const ok = await post(`${url}/v2/models/mlp_small/infer`, body, { authorization: "Bearer s3cret-token-1234" });
    expect(ok.status).toBe(200);
    expectTensorClose(ok.json.outputs[0], c.outputs[0]);
    const okMlflow = await post(`${url}/invocations`, { inputs: [c.inputs[0].data] }, { authorization: "bearer s3cret-token-1234" });
    expect(okMlflow.status).toBe(200);
  });

  it("clear errors: an unreachable registry, files that are not models, empty token files", async () => {
    const alias = await runCli(["serve", "models:/fraud@champion", "--server-url", `http://127.0.0.1:${await freePort()}`]);
    expect(alias.code).toBe(2);
    expect(alias.stderr).toMatch(/cannot load models:\/fraud@champion: .*127\.0\.0\.1/);
    const junk = join(dir, "junk.onnx");
    writeFileSync(junk, "this is not a model");
    const bad = await runCli(["serve", junk, "--port", String(await freePort())]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("keel serve: Not a valid ONNX model");
    const missing = await runCli(["serve", join(dir, "missing.onnx")]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("no such file");
    const empty = join(dir, "empty-token");
    writeFileSync(empty, "\n");
    const noToken = await runCli(["serve", fixturePath("mlp_small"), "--token-file", empty]);
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toContain("is empty");
  });

  it("onnxruntime's native library is loaded by `keel serve`, not by `keel --help`", async () => {
    const probe = join(dir, "dlopen-probe.cjs");
    writeFileSync(
      probe,
      `const orig = process.dlopen; process.dlopen = function (m, f, ...rest) { if (String(f).includes("onnxruntime")) process.stderr.write("LOADED onnxruntime\\n"); return orig.call(this, m, f, ...rest); };\n`,
    );
    const env = { NODE_OPTIONS: `--require ${probe}` };
    const help = await runCli(["--help"], { env });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("serve");
    expect(help.stderr).not.toContain("LOADED onnxruntime");
    const { proc } = await serve([fixturePath("mlp_small")], env);
    expect(proc.stderr).toContain("LOADED onnxruntime");
  });
});

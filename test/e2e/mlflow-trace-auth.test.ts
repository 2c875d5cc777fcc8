/**
 * Issue 4's "done when", in a test: the whole recorded MLflow 2.10 client session (tracking, artifact
 * uploads and downloads through the proxy, model registration, aliases, the download URI) replayed
 * against a server with auth on, every call carrying a non-admin user's API token as the MLflow client
 * sends MLFLOW_TRACKING_TOKEN. Then the audit trail holds that user's changes and verifies.
 */
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyChain } from "../../src/governance/audit-chain.js";
import { bearer, client, startTestApp, type TestApp } from "../helpers/app.js";
import { userWithToken } from "../helpers/governance.js";
import { diff, IdMap, learnIds, replayLine, TRACE, type TraceLine } from "../helpers/trace.js";

type RawLine = TraceLine & { body_bytes?: string; response_bytes?: number; response_content_type?: string };

const ARTIFACTS = "/api/2.0/mlflow-artifacts/artifacts";

/** File sizes as the recorded listings report them (the trace keeps sizes, not contents). */
function recordedSizes(): Map<string, number> {
  const sizes = new Map<string, number>();
  for (const l of TRACE) {
    if (l.path !== ARTIFACTS || !l.params) continue;
    const dir = String(l.params.path);
    for (const f of (l.response as { files?: { path: string; file_size?: number }[] })?.files ?? []) {
      if (f.file_size !== undefined) sizes.set(`${dir}/${f.path}`, f.file_size);
    }
  }
  return sizes;
}

/** Deterministic bytes of a given size, so downloads can be checked against what was uploaded. */
function contentFor(path: string, size: number): Buffer {
  const out = Buffer.alloc(size);
  let seed = createHash("sha256").update(path).digest();
  for (let i = 0; i < size; i += 32) {
    seed.copy(out, i, 0, Math.min(32, size - i));
    seed = createHash("sha256").update(seed).digest();
  }
  // Text-ish bytes: the recorded content types are by extension, but keep files printable anyway.
  for (let i = 0; i < size; i++) out[i] = 0x61 + (out[i] % 26);
  return out;
}

let t: TestApp;
let token: string;
const ids = new IdMap();
const sizes = recordedSizes();
const uploaded = new Map<string, Buffer>();

beforeAll(async () => {
  t = await startTestApp({ auth: { enabled: true } });
  token = await userWithToken(t, "mlflow-user");
});
afterAll(async () => t?.close());

/** Recorded artifact paths name the recorded experiment and run: map both to Keel's. */
function mapPath(p: string): string {
  const subbed = ids.sub(p) as string;
  return subbed.replace(/^(\d+)\//, (m, exp: string) => (ids.experiments.has(exp) ? `${ids.experiments.get(exp)}/` : m));
}

async function replayRaw(line: RawLine): Promise<{ status: number; problems: string[] }> {
  const problems: string[] = [];
  const recordedPath = line.path.slice(ARTIFACTS.length + 1);
  const url = `${t.url}${ARTIFACTS}/${mapPath(recordedPath)}`;
  if (line.method === "PUT") {
    const size = sizes.get(recordedPath);
    if (size === undefined) problems.push(`no recorded size for ${recordedPath}`);
    const body = contentFor(recordedPath, size ?? 0);
    uploaded.set(recordedPath, body);
    const res = await fetch(url, { method: "PUT", headers: { ...bearer(token), "content-type": "application/octet-stream" }, body });
    const got = await res.json();
    diff(line.response, got, "response", problems);
    return { status: res.status, problems };
  }
  const res = await fetch(url, { headers: bearer(token) });
  const bytes = Buffer.from(await res.arrayBuffer());
  if (bytes.length !== line.response_bytes) problems.push(`downloaded ${bytes.length} bytes, recorded ${line.response_bytes}`);
  const sent = uploaded.get(recordedPath);
  if (sent && !sent.equals(bytes)) problems.push("downloaded bytes differ from the uploaded ones");
  const type = res.headers.get("content-type") ?? "";
  if (line.response_content_type && !type.startsWith(line.response_content_type)) problems.push(`content-type ${type}, recorded ${line.response_content_type}`);
  return { status: res.status, problems };
}

async function replayListing(line: TraceLine): Promise<{ status: number; problems: string[] }> {
  const path = mapPath(String(line.params?.path ?? ""));
  const res = await client(t.url, bearer(token)).get(ARTIFACTS, { path });
  const problems: string[] = [];
  learnIds(line.response, res.body, ids, problems);
  diff(ids.sub(line.response), res.body, "response", problems);
  return { status: res.status, problems };
}

describe("the whole MLflow client trace, with auth on and a token", () => {
  it("covers tracking, artifacts and the registry", () => {
    const kinds = new Set(TRACE.map((l) => l.path.split("/")[3]));
    expect(kinds).toEqual(new Set(["mlflow", "mlflow-artifacts"]));
    expect(TRACE.length).toBe(52);
  });

  TRACE.forEach((line, i) => {
    it(`#${String(i).padStart(2, "0")} ${line.method} ${line.path.replace(/^\/api\/2\.0\//, "")} → ${line.status}`, async () => {
      const raw = line as RawLine;
      const { status, problems } =
        line.path === ARTIFACTS ? await replayListing(line) : line.path.startsWith(`${ARTIFACTS}/`) ? await replayRaw(raw) : await replayLine(client(t.url, bearer(token)), ids, line);
      expect({ status, problems }).toEqual({ status: line.status, problems: [] });
    });
  });

  it("refuses the same calls without the token", async () => {
    const first = TRACE.find((l) => l.path.endsWith("/runs/search")) as TraceLine;
    const res = await client(t.url).call(first.method, first.path, ids.sub(first.json));
    expect(res.status).toBe(401);
  });

  it("attributes every change to the token's user, in a verifiable chain", async () => {
    const rows = await t.database.db.selectFrom("audit_log").select(["actor", "action"]).execute();
    const mine = rows.filter((r) => r.actor === "mlflow-user");
    const writes = TRACE.filter((l) => l.method !== "GET" && !/\/search$/.test(l.path) && l.status === 200);
    expect(mine.length).toBe(writes.length);
    expect(new Set(mine.map((r) => r.action))).toContain("PUT /api/2.0/mlflow-artifacts/artifacts/*");
    expect(new Set(mine.map((r) => r.action))).toContain("POST /model-versions/create");
    expect((await verifyChain(t.database)).ok).toBe(true);
  });
});

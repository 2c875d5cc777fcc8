/**
 * Every role × every route → the expected answer. The routes come from the running app (so a new route
 * shows up here by itself) and their rules from the one access table; for each route a fresh experiment,
 * run, artifact and model are made, with explicit grants for each role, so one route's deletes and renames
 * cannot leak into the next. Allowed means "got past the guard" (anything but 401/403: the request may
 * still be refused for its content); refused means exactly 401 (no credentials) or 403.
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ACCESS_RULES, type Rule, ruleFor } from "../../src/governance/access-rules.js";
import { atLeast, type Level } from "../../src/governance/levels.js";
import { bearer, client, startTestApp, type TestApp } from "../helpers/app.js";
import { userWithToken } from "../helpers/governance.js";

type Role = "anonymous" | "denied" | "stranger" | "reader" | "editor" | "manager" | "admin";
const ROLES: Role[] = ["anonymous", "denied", "stranger", "reader", "editor", "manager", "admin"];
/** What each role holds on the route's resources (stranger: no grant, so the server default, READ). */
const LEVEL: Record<Exclude<Role, "anonymous" | "admin">, Level> = { denied: "NO_PERMISSIONS", stranger: "READ", reader: "READ", editor: "EDIT", manager: "MANAGE" };

let t: TestApp;
const tokens = {} as Record<Role, string>;
let counter = 0;

beforeAll(async () => {
  t = await startTestApp({ auth: { enabled: true, defaultPermission: "READ" } });
  for (const role of ROLES) if (role !== "anonymous") tokens[role] = await userWithToken(t, role, { admin: role === "admin" });
});
afterAll(async () => t?.close());

function expected(rule: Rule | undefined, role: Role): "allowed" | 401 | 403 {
  if (rule && "public" in rule) return "allowed";
  if (role === "anonymous") return 401;
  if (role === "admin") return "allowed";
  if (!rule) return 403;
  if ("user" in rule) return "allowed";
  if ("admin" in rule) return 403;
  const have = LEVEL[role];
  return have !== "NO_PERMISSIONS" && atLeast(have, rule.need) ? "allowed" : 403;
}

interface Fixture {
  victim: string;
  exp: string;
  expName: string;
  run: string;
  model: string;
}

const ONNX = readFileSync(new URL("../fixtures/serving/mlp_small.onnx", import.meta.url));

async function fixture(withDeployment: boolean): Promise<Fixture> {
  const admin = client(t.url, bearer(tokens.admin));
  const n = ++counter;
  const expName = `matrix-${n}`;
  const exp = (await admin.post("experiments/create", { name: expName })).body.experiment_id as string;
  const run = (await admin.post("runs/create", { experiment_id: exp })).body.run.info.run_id as string;
  await admin.post("runs/log-metric", { run_id: run, key: "loss", value: 1, timestamp: 1, step: 0 });
  await fetch(`${t.url}/api/2.0/mlflow-artifacts/artifacts/${exp}/${run}/artifacts/model/f.txt`, { method: "PUT", headers: bearer(tokens.admin), body: "x" });
  await fetch(`${t.url}/api/2.0/mlflow-artifacts/artifacts/${exp}/${run}/artifacts/model/model.onnx`, { method: "PUT", headers: bearer(tokens.admin), body: ONNX });
  const model = `matrix-model-${n}`;
  const victim = `victim-${n}`;
  await t.governance.createUser(victim, undefined, false);
  await admin.post("registered-models/create", { name: model });
  await admin.post("model-versions/create", { name: model, source: `mlflow-artifacts:/${exp}/${run}/artifacts/model`, run_id: run });
  // A deployment of the model, named like it (only where a route serves or manages deployments: each loads a session).
  if (withDeployment) {
    const d = await admin.post("/api/keel/v1/deployments", { name: model, variants: [{ model, version: 1 }] });
    if (d.status !== 200) throw new Error(`fixture deployment: ${d.status} ${JSON.stringify(d.body)}`);
  }
  for (const [role, level] of Object.entries(LEVEL)) {
    if (role === "stranger") continue;
    await admin.call("PUT", "/api/keel/v1/permissions", { resource: `experiment:${exp}`, username: role, permission: level });
    await admin.call("PUT", "/api/keel/v1/permissions", { resource: `registered_model:${model}`, username: role, permission: level });
  }
  return { victim, exp, expName, run, model };
}

/** One message that names the fixture's resources under every field a rule reads. */
function message(f: Fixture): Record<string, unknown> {
  return {
    experiment_id: f.exp,
    experiment_ids: [f.exp],
    experiment_name: f.expName,
    run_id: f.run,
    run_uuid: f.run,
    run_ids: [f.run],
    metric_key: "loss",
    metric_keys: ["loss"],
    name: f.model,
    new_name: f.model,
    version: "1",
    alias: "champion",
    key: "k",
    value: "v",
    stage: "Staging",
    resource: `experiment:${f.exp}`,
    username: f.victim,
    permission: "READ",
    path: `${f.exp}/${f.run}/artifacts/model`,
    variants: [{ model: f.model, version: 1, weight: 1 }],
  };
}

function concreteUrl(url: string, f: Fixture): string {
  return url
    .replace("*", `${f.exp}/${f.run}/artifacts/model/f.txt`)
    .replace(":name", encodeURIComponent(f.model))
    .replace(":model", encodeURIComponent(f.model))
    .replace(":deployment", encodeURIComponent(f.model))
    .replace(":version", "1")
    .replace(":username", f.victim)
    .replace(":group", "nogroup")
    .replace(":id", "999999");
}

/** The status, and for a 403 whether the guard refused (a handler may refuse for its own reasons, e.g. another user's tokens). */
async function send(method: string, url: string, f: Fixture, role: Role): Promise<number> {
  const m = message(f);
  const u = new URL(concreteUrl(url, f), t.url);
  const headers: Record<string, string> = role === "anonymous" ? {} : bearer(tokens[role]);
  let body: string | undefined;
  if (method === "GET" || method === "HEAD") {
    for (const [k, v] of Object.entries(m)) for (const x of Array.isArray(v) ? v : [v]) u.searchParams.append(k, String(x));
  } else if ((method === "PUT" && url.includes("mlflow-artifacts")) || url.endsWith("/upload-artifact")) {
    // Raw-body routes read their arguments from the query string.
    headers["content-type"] = "application/octet-stream";
    body = "payload";
    for (const [k, v] of Object.entries(m)) if (!Array.isArray(v)) u.searchParams.set(k, String(v));
    u.searchParams.set("upload_id", "nope");
    u.searchParams.set("part_number", "1");
  } else {
    headers["content-type"] = "application/json";
    body = JSON.stringify(m);
  }
  const res = await fetch(u, { method, headers, body });
  const text = await res.text();
  if (res.status !== 403) return res.status;
  // MLflow-shaped errors carry `message`; the Open Inference Protocol's carry `error`.
  const answer = JSON.parse(text) as { message?: string; error?: string };
  const reason = answer.message ?? answer.error ?? "";
  return /^(Permission denied|No access rule)/.test(reason) ? 403 : -403;
}

describe("role matrix", () => {
  it("every registered route has an access rule", () => {
    const missing = t.routes.filter((r) => r.rule === undefined && r.method !== "HEAD" && r.method !== "OPTIONS").map((r) => `${r.method} ${r.url}`);
    expect(missing).toEqual([]);
  });

  it("every rule in the table guards a real route (no stale entries)", () => {
    const keys = new Set(t.routes.map((r) => r.key));
    expect(Object.keys(ACCESS_RULES).filter((k) => !keys.has(k))).toEqual([]);
  });

  it("every role × every route answers as its rule says", async () => {
    const seen = new Set<string>();
    const failures: string[] = [];
    let checked = 0;
    for (const r of t.routes) {
      if (r.method === "HEAD" || seen.has(r.key) || r.url.startsWith("/docs")) continue;
      seen.add(r.key);
      const f = await fixture(/\/v2\/models|\/deployments\//.test(r.url));
      const rule = ruleFor(r.method, r.url);
      for (const role of ROLES) {
        const status = await send(r.method, r.url, f, role);
        const want = expected(rule, role);
        const ok = want === "allowed" ? status !== 401 && status !== 403 : status === want;
        if (!ok) failures.push(`${role.padEnd(9)} ${r.method} ${r.url}: got ${status}, want ${want}`);
        checked++;
      }
    }
    expect(failures).toEqual([]);
    expect(checked).toBeGreaterThan(7 * 60);
  }, 120_000);
});

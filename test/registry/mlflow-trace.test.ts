/**
 * Replays the model registry part of the recorded MLflow 2.10 client session (see ../helpers/trace.ts):
 * register a model, create a version from the run's logged model, alias it, tag it, move it to Staging,
 * search versions, fetch by alias and resolve the download URI. The tracking calls before it run too, to
 * make the run the version comes from; artifact uploads are left out (the registry only checks paths).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { client, startTestApp, type TestApp } from "../helpers/app.js";
import { IdMap, replayLine, TRACE } from "../helpers/trace.js";

const MLFLOW_API = TRACE.filter((l) => /^\/api\/2\.0\/mlflow\//.test(l.path));
const REGISTRY = MLFLOW_API.filter((l) => /\/(registered-models|model-versions)\//.test(l.path));

let t: TestApp;
let c: ReturnType<typeof client>;
const ids = new IdMap();
beforeAll(async () => {
  t = await startTestApp();
  c = client(t.url);
});
afterAll(async () => t?.close());

describe("replay of the MLflow 2.10 client trace (registry calls)", () => {
  it("selects the registry part of the trace", () => {
    expect(REGISTRY.map((l) => `${l.method} ${l.path.replace("/api/2.0/mlflow/", "")}`)).toEqual([
      "POST registered-models/create",
      "POST model-versions/create",
      "POST registered-models/alias",
      "GET registered-models/alias",
      "POST model-versions/set-tag",
      "POST model-versions/transition-stage",
      "GET model-versions/search",
      "GET registered-models/alias",
      "GET model-versions/get-download-uri",
    ]);
  });

  MLFLOW_API.forEach((line) => {
    const registry = REGISTRY.includes(line);
    it(`#${String(TRACE.indexOf(line)).padStart(2, "0")} ${line.method} ${line.path.replace("/api/2.0/mlflow/", "")} → ${line.status}${registry ? "" : " (setup)"}`, async () => {
      const { status, problems } = await replayLine(c, ids, line);
      expect({ status, problems }, `${line.method} ${line.path}`).toEqual({ status: line.status, problems: [] });
    });
  });
});

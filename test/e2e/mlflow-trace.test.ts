/** Replays the tracking part of the recorded MLflow 2.10 client session (see ../helpers/trace.ts). */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { client, startTestApp, type TestApp } from "../helpers/app.js";
import { IdMap, replayLine, TRACE } from "../helpers/trace.js";

/** Tracking only: artifacts (mlflow-artifacts), registered-models and model-versions are replayed by their own tests. */
const TRACKING = TRACE.filter((l) => /^\/api\/2\.0\/mlflow\/(experiments|runs|metrics)\//.test(l.path));

let t: TestApp;
let c: ReturnType<typeof client>;
const ids = new IdMap();
beforeAll(async () => {
  t = await startTestApp();
  c = client(t.url);
});
afterAll(async () => t?.close());

describe("replay of the MLflow 2.10 client trace (tracking calls)", () => {
  it("selects the tracking part of the trace", () => {
    const paths = new Set(TRACKING.map((l) => l.path));
    expect(TRACKING.length).toBe(21);
    for (const p of ["experiments/create", "runs/create", "runs/log-batch", "runs/log-model", "runs/log-inputs", "runs/search", "metrics/get-history"]) {
      expect(paths.has(`/api/2.0/mlflow/${p}`), p).toBe(true);
    }
  });

  TRACKING.forEach((line, i) => {
    it(`#${String(TRACE.indexOf(line)).padStart(2, "0")} ${line.method} ${line.path.replace("/api/2.0/mlflow/", "")} → ${line.status}`, async () => {
      const { status, problems } = await replayLine(c, ids, line);
      expect({ status, problems }, `call ${i}: ${line.method} ${line.path}`).toEqual({ status: line.status, problems: [] });
    });
  });

  it("mapped the recorded experiment and run to Keel's", () => {
    expect([...ids.experiments.keys()]).toEqual(["12"]);
    expect([...ids.runs.keys()]).toEqual(["7f929d9c0b9543fdbf182daf01470d23"]);
  });
});

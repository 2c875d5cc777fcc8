import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KeelApiError, KeelClient, resolveServerUrl } from "../../src/sdk/index.js";
import { startTestApp, type TestApp } from "../helpers/app.js";

let t: TestApp;
let k: KeelClient;
beforeAll(async () => {
  t = await startTestApp();
  k = new KeelClient({ url: `${t.url}/` });
});
afterAll(async () => t?.close());

describe("KeelClient", () => {
  it("drives a whole tracking session", async () => {
    expect(await k.health()).toBe(true);
    expect(await k.getExperimentByName("sdk")).toBeUndefined();
    const exp = await k.createExperiment("sdk", { tags: [{ key: "a", value: "b" }] });
    expect((await k.getExperiment(exp)).name).toBe("sdk");
    const run = await k.createRun(exp, { runName: "r" });
    const id = run.info.run_id;
    await k.logParam(id, "lr", "0.1");
    await k.setTag(id, "t", "v");
    await k.logMetric(id, "m", Number.NaN, { step: 0 });
    await k.logBatch(id, { metrics: Array.from({ length: 600 }, (_, i) => ({ key: "loss", value: 1 / (i + 1), step: i, timestamp: i })) });
    const hist = await k.metricHistory(id, "loss", 250);
    expect(hist).toHaveLength(600);
    expect(hist[599].step).toBe(599);
    expect((await k.getRun(id)).data.metrics?.find((m) => m.key === "m")?.value).toBe("NaN");
    expect((await k.updateRun(id, { status: "FINISHED", endTime: 5 })).status).toBe("FINISHED");
    const found = await k.searchRuns({ experimentIds: [exp], filter: "params.lr = '0.1'" });
    expect(found.runs?.map((r) => r.info.run_id)).toEqual([id]);
    const series = await k.compareRuns({ runIds: [id], metricKeys: ["loss"], maxPoints: 50 });
    expect(series[0].points).toHaveLength(50);
    expect((await k.experimentKeys([exp])).params).toEqual(["lr"]);
    await k.deleteRun(id);
    expect((await k.getRun(id)).info.lifecycle_stage).toBe("deleted");
    await k.restoreRun(id);
  });

  it("raises KeelApiError with the server's code and status", async () => {
    const err = await k.getExperiment("424242").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KeelApiError);
    expect((err as KeelApiError).status).toBe(404);
    expect((err as KeelApiError).code).toBe("RESOURCE_DOES_NOT_EXIST");
  });

  it("resolves the server URL from flag, KEEL_SERVER_URL, MLFLOW_TRACKING_URI, default", () => {
    expect(resolveServerUrl("http://a", { KEEL_SERVER_URL: "http://b" })).toBe("http://a");
    expect(resolveServerUrl(undefined, { KEEL_SERVER_URL: "http://b", MLFLOW_TRACKING_URI: "http://c" })).toBe("http://b");
    expect(resolveServerUrl(undefined, { MLFLOW_TRACKING_URI: "http://c" })).toBe("http://c");
    expect(resolveServerUrl(undefined, {})).toBe("http://127.0.0.1:5000");
  });
});

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { predictionJson } from "../../src/deployments/prediction-json.mjs";
import { createPredictionLog, expandTensors, summarizeTensor } from "../../src/deployments/prediction-log.js";
import { createResponseCache } from "../../src/deployments/response-cache.js";
import { createRouter } from "../../src/deployments/router.js";
import { parseDeploymentSpec } from "../../src/deployments/spec.js";

const base = { name: "fraud", variants: [{ name: "champion", model: "fraud", alias: "champion", weight: 90 }, { name: "challenger", model: "fraud", version: 3, weight: 10 }] };

describe("deployment spec", () => {
  it("accepts a full spec and names variants after their alias or version by default", () => {
    const spec = parseDeploymentSpec({
      ...base,
      variants: [...base.variants, { model: "fraud", version: "7", weight: 0 }],
      shadow: { variant: "v7", fraction: 0.25 },
      sticky: { header: "X-User-Id" },
      batching: { max_batch_size: 32, max_queue_delay_ms: 5, preferred_batch_sizes: [8, 16] },
      queue: { max_size: 100, timeout_ms: 2000 },
      cache: { max_entries: 1000, ttl_s: 60 },
      features: { table: "customer_features", key_column: "customer_id", columns: ["age", "balance"], input: "features" },
    });
    expect(spec.variants.map((v) => v.name)).toEqual(["champion", "challenger", "v7"]);
    expect(spec.variants[2].version).toBe(7);
    expect(spec.sticky?.header).toBe("x-user-id");
  });

  it("takes a prediction_log switch and sample rate (all predictions logged by default)", () => {
    expect(parseDeploymentSpec(base).prediction_log).toBeUndefined();
    expect(parseDeploymentSpec({ ...base, prediction_log: { enabled: false } }).prediction_log).toEqual({ enabled: false, sample_rate: 1 });
    expect(parseDeploymentSpec({ ...base, prediction_log: { sample_rate: 0.1 } }).prediction_log).toEqual({ enabled: true, sample_rate: 0.1 });
  });

  it.each([
    [{}, /name must be/],
    [{ name: "x" }, /variants/],
    [{ name: "a b", variants: base.variants }, /name must be/],
    [{ ...base, variants: [] }, /1 to 16/],
    [{ ...base, variants: [{ model: "m", weight: 1 }] }, /exactly one of alias or version/],
    [{ ...base, variants: [{ model: "m", alias: "a", version: 1 }] }, /exactly one of alias or version/],
    [{ ...base, variants: [{ model: "m", alias: "a", weight: -1 }] }, /weight/],
    [{ ...base, variants: [{ model: "m", alias: "a" }, { model: "m", alias: "a" }] }, /unique/],
    [{ ...base, variants: [{ model: "m", alias: "a", weight: 0 }] }, /weight above 0/],
    [{ ...base, shadow: { variant: "nope" } }, /shadow.variant/],
    [{ ...base, shadow: { variant: "champion", fraction: 2 } }, /fraction/],
    [{ ...base, batching: { max_batch_size: 0 } }, /max_batch_size/],
    [{ ...base, batching: { max_batch_size: 8, preferred_batch_sizes: [16] } }, /preferred_batch_sizes\[0\]/],
    [{ ...base, queue: { max_size: 1.5 } }, /max_size/],
    [{ ...base, features: { table: "t; drop table users", key_column: "k", columns: ["a"], input: "x" } }, /identifier/],
    [{ ...base, replicas: 3 }, /unknown field/],
    [{ ...base, prediction_log: { enabled: "no" } }, /prediction_log.enabled/],
    [{ ...base, runtime: { worker_thread: "yes" } }, /runtime.worker_thread/],
    [{ ...base, prediction_log: { sample_rate: 1.5 } }, /prediction_log.sample_rate/],
  ])("refuses %j", (raw, message) => {
    expect(() => parseDeploymentSpec(raw)).toThrow(message as RegExp);
  });
});

describe("router", () => {
  it("splits traffic by weight", () => {
    let seed = 1;
    const random = () => {
      seed = (seed * 16807) % 2147483647;
      return (seed - 1) / 2147483646;
    };
    const router = createRouter(parseDeploymentSpec(base), random);
    const counts: Record<string, number> = {};
    for (let i = 0; i < 20_000; i++) {
      const v = router.pick().name;
      counts[v] = (counts[v] ?? 0) + 1;
    }
    expect(counts.challenger / 20_000).toBeGreaterThan(0.08);
    expect(counts.challenger / 20_000).toBeLessThan(0.12);
  });

  it("sends one sticky key to one variant, and keys in proportion to the weights", () => {
    fc.assert(
      fc.property(fc.string(), (key) => {
        const a = createRouter(parseDeploymentSpec(base), Math.random);
        const b = createRouter(parseDeploymentSpec(base), Math.random);
        return a.pick(key).name === b.pick(key).name;
      }),
    );
    const router = createRouter(parseDeploymentSpec(base));
    const share = Array.from({ length: 10_000 }, (_, i) => router.pick(`user-${i}`).name).filter((n) => n === "challenger").length / 10_000;
    expect(share).toBeGreaterThan(0.08);
    expect(share).toBeLessThan(0.12);
  });

  it("never answers from the shadow, and mirrors the configured share to it", () => {
    const spec = parseDeploymentSpec({ ...base, shadow: { variant: "challenger", fraction: 0.3 } });
    const router = createRouter(spec);
    let mirrored = 0;
    for (let i = 0; i < 10_000; i++) {
      expect(router.pick().name).toBe("champion");
      if (router.shadowFor()) mirrored++;
    }
    expect(mirrored / 10_000).toBeGreaterThan(0.27);
    expect(mirrored / 10_000).toBeLessThan(0.33);
  });
});

describe("response cache", () => {
  it("evicts the least recently used entry and expires entries after their TTL", () => {
    let t = 0;
    const c = createResponseCache<string>(2, 1000, () => t);
    c.set("a", "A");
    c.set("b", "B");
    expect(c.get("a")).toBe("A");
    c.set("c", "C");
    expect(c.get("b")).toBeUndefined();
    expect(c.get("a")).toBe("A");
    t = 1500;
    expect(c.get("a")).toBeUndefined();
    expect(c.stats()).toEqual({ hits: 2, misses: 2, size: 1 });
  });
});

describe("prediction log buffer", () => {
  it("never blocks: past capacity it drops the oldest and counts them", () => {
    const log = createPredictionLog(3);
    const rec = (i: number) => ({ time: i, requestId: String(i), deployment: "d", variant: "v", modelVersion: "1", latencyMs: 1, inputs: null, outputs: null });
    for (let i = 0; i < 5; i++) log.push(rec(i));
    expect(log.stats()).toEqual({ buffered: 3, dropped: 2, pushed: 5 });
    expect(log.drain(2).map((r) => r.requestId)).toEqual(["2", "3"]);
    log.push(rec(5));
    expect(log.drain(10).map((r) => r.requestId)).toEqual(["4", "5"]);
    expect(log.drain(10)).toEqual([]);
  });
});

describe("prediction log encoding", () => {
  it("keeps the first 64 values of each tensor and reads them back exactly, whatever the datatype", () => {
    const f32 = Float32Array.from({ length: 100 }, (_, i) => Math.fround(i / 3 - 7));
    f32[1] = Number.NaN;
    f32[2] = Number.POSITIVE_INFINITY;
    const tensors = [
      { name: "x", datatype: "FP32", shape: [1, 100], data: f32 },
      { name: "i", datatype: "INT64", shape: [2], data: BigInt64Array.from([-(2n ** 62n), 5n]) },
      { name: "b", datatype: "BOOL", shape: [3], data: Uint8Array.from([1, 0, 1]) },
      { name: "h", datatype: "FP16", shape: [1], data: Uint16Array.from([0x3c00]) },
      { name: "s", datatype: "BYTES", shape: [2], data: ["a", "é"] },
    ];
    const summaries = tensors.map(summarizeTensor);
    expect(summaries[0].truncated).toBe(true);
    // The summary is a copy: later changes to the request's buffers do not reach the log.
    f32[0] = 42;
    const back = expandTensors(JSON.parse(predictionJson(summaries))) as { name: string; data: unknown[]; truncated?: boolean }[];
    expect(back[0].data).toHaveLength(64);
    expect(back[0].data.slice(0, 4)).toEqual([Math.fround(-7), "NaN", "Infinity", Math.fround(3 / 3 - 7)]);
    expect(back[0].truncated).toBe(true);
    expect(back[1].data).toEqual([String(-(2n ** 62n)), "5"]);
    expect(back[2].data).toEqual([true, false, true]);
    expect(back[3].data).toEqual([1]);
    expect(back[4]).toMatchObject({ name: "s", datatype: "BYTES", shape: [2], data: ["a", "é"] });
    expect(back[4].truncated).toBeUndefined();
  });
});

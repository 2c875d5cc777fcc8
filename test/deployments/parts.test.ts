import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createPredictionLog } from "../../src/deployments/prediction-log.js";
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

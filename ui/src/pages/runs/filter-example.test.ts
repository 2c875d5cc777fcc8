import { describe, expect, it } from "vitest";
import type { RunRow } from "./columns";
import { filterExample } from "./filter-example";

const row = (metrics: Record<string, number>, params: Record<string, string> = {}): RunRow => ({
  id: "r",
  name: "r",
  experimentId: "1",
  status: "FINISHED",
  start: 0,
  user: "",
  lifecycle: "active",
  metrics: new Map(Object.entries(metrics)),
  params: new Map(Object.entries(params)),
  tags: new Map(),
});

describe("filter placeholder", () => {
  it("uses the experiment's own keys and values, preferring an accuracy-like metric", () => {
    const keys = { metrics: ["loss", "test_accuracy"], params: ["epochs", "lr"], tags: [] };
    expect(filterExample(keys, [row({ loss: 0.1234, test_accuracy: 0.966667 }, { epochs: "200", lr: "0.1" })])).toBe("Filter: metrics.test_accuracy > 0.97 AND params.epochs = '200'");
  });

  it("falls back to any metric, quotes keys that need it and skips values that would need escapes", () => {
    const keys = { metrics: ["val loss"], params: ["note", "opt"], tags: [] };
    expect(filterExample(keys, [row({ "val loss": 1234 }, { note: "it's", opt: "sgd" })])).toBe("Filter: metrics.`val loss` > 1200 AND params.opt = 'sgd'");
    expect(filterExample({ metrics: ["loss"], params: [], tags: [] }, [])).toBe("Filter: metrics.loss > 0.9");
  });

  it("keeps the generic example for an experiment with no metrics or params", () => {
    expect(filterExample({ metrics: [], params: [], tags: ["team"] }, [])).toBe("Filter: metrics.accuracy > 0.9 AND params.optimizer = 'adam'");
  });
});

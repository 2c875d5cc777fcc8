import { describe, expect, it } from "vitest";
import { complete } from "./autocomplete";

const keys = { metrics: ["acc", "val/acc", "loss", "my metric"], params: ["lr", "optimizer"], tags: ["team", "mlflow.runName"] };
const labels = (text: string, caret = text.length) => complete(text, caret, keys)?.items.map((s) => s.label);

describe("filter autocomplete", () => {
  it("offers the prefixes at the start and after AND", () => {
    expect(labels("")).toEqual(["metrics.", "params.", "tags.", "attributes."]);
    expect(labels("metrics.acc > 0.5 and ")).toEqual(["metrics.", "params.", "tags.", "attributes."]);
    expect(labels("metrics.acc > 0.5 AND p")).toContain("params.");
  });

  it("offers an entity's keys after its prefix, prefix matches first, then substring matches", () => {
    expect(labels("metrics.")).toEqual(["metrics.acc", "metrics.val/acc", "metrics.loss", "metrics.my metric"]);
    expect(labels("metrics.ac")).toEqual(["metrics.acc", "metrics.val/acc"]);
    expect(labels("params.o")).toEqual(["params.optimizer"]);
    expect(labels("tag.te")).toEqual(["tags.team"]);
    expect(labels("attributes.st")).toEqual(["attributes.status", "attributes.start_time"]);
    expect(labels("nope.x")).toBeUndefined();
  });

  it("finds keys of every kind from a bare word", () => {
    expect(labels("opt")).toEqual(["params.optimizer"]);
    expect(labels("acc")).toEqual(["metrics.acc", "metrics.val/acc"]);
  });

  it("quotes keys that need it when inserting, and replaces just the identifier", () => {
    const c = complete("metrics.my", 10, keys)!;
    expect(c.items[0].insert).toBe("metrics.`my metric` ");
    const mid = "params.op = 'x' AND metrics.lo > 1";
    const at = mid.indexOf("lo") + 2;
    const m = complete(mid, at, keys)!;
    expect(mid.slice(m.from, m.to)).toBe("metrics.lo");
    expect(m.items[0].insert).toBe("metrics.loss ");
    // Keys with a slash need no quotes in MLflow's grammar.
    expect(complete("metrics.val", 11, keys)!.items[0].insert).toBe("metrics.val/acc ");
  });

  it("stays quiet inside values and after operators", () => {
    expect(labels("params.optimizer = 'ad")).toBeUndefined();
    expect(labels("params.optimizer = \"ad")).toBeUndefined();
    expect(labels("metrics.acc > ")).toBeUndefined();
    expect(labels("metrics.acc > 0")).toBeUndefined();
    expect(labels("params.optimizer = 'a b' ")).toBeUndefined();
    // ...but not inside a quoted key.
    expect(labels("metrics.`my")).toEqual(["metrics.my metric"]);
  });
});

import { describe, expect, it } from "vitest";
import { buildAxes, type PcRun, position, rampColor, varyingParams } from "./parallel-coords";

const run = (id: string, params: Record<string, string>, metrics: Record<string, number>): PcRun => ({ id, name: id, params: new Map(Object.entries(params)), metrics: new Map(Object.entries(metrics)) });

const runs = [
  run("a", { lr: "0.1", optimizer: "sgd", seed: "1" }, { acc: 0.5 }),
  run("b", { lr: "0.01", optimizer: "adam", seed: "1" }, { acc: 0.9 }),
  run("c", { lr: "0.001", optimizer: "adam", seed: "1" }, { acc: 0.7 }),
];

describe("parallel coordinates", () => {
  it("keeps the params that vary between runs", () => {
    expect(varyingParams(runs)).toEqual(["lr", "optimizer"]);
    expect(varyingParams([runs[0]])).toEqual(["lr", "optimizer", "seed"]);
  });

  it("makes numeric axes for numbers and categorical ones for the rest, the metric last", () => {
    const axes = buildAxes(runs, ["lr", "optimizer"], "acc");
    expect(axes.map((a) => [a.key, a.kind, a.numeric])).toEqual([
      ["lr", "param", true],
      ["optimizer", "param", false],
      ["acc", "metric", true],
    ]);
    expect(axes[0]).toMatchObject({ min: 0.001, max: 0.1 });
    expect(axes[1].categories).toEqual(["adam", "sgd"]);
    expect(axes[2]).toMatchObject({ min: 0.5, max: 0.9 });
  });

  it("puts values spanning two decades or more on a log axis", () => {
    const [lr] = buildAxes(runs, ["lr"], undefined);
    expect(lr.log).toBe(true);
    expect(position(lr, runs[1])).toBeCloseTo(0.5);
    const [layers] = buildAxes([run("a", { n: "2" }, {}), run("b", { n: "8" }, {})], ["n"], undefined);
    expect(layers.log).toBe(false);
    const [signed] = buildAxes([run("a", { x: "-1" }, {}), run("b", { x: "1000" }, {})], ["x"], undefined);
    expect(signed.log).toBe(false);
  });

  it("places runs from 0 (bottom) to 1 (top), centred when an axis has one value, nowhere when a value is missing", () => {
    const [lr, opt, acc] = buildAxes([...runs, run("d", { optimizer: "sgd" }, {})], ["lr", "optimizer"], "acc");
    expect(position(lr, runs[0])).toBe(1);
    expect(position(lr, runs[2])).toBe(0);
    expect(position(opt, runs[1])).toBe(0);
    expect(position(opt, runs[0])).toBe(1);
    expect(position(acc, runs[2])).toBeCloseTo(0.5);
    expect(position(acc, run("d", {}, {}))).toBeUndefined();
    expect(position(lr, run("d", {}, {}))).toBeUndefined();
    const [flat] = buildAxes([run("x", { k: "3" }, {}), run("y", { k: "3" }, {})], ["k"], undefined);
    expect(position(flat, run("x", { k: "3" }, {}))).toBe(0.5);
  });

  it("ramps colors from blue to orange", () => {
    expect(rampColor(0)).toBe("#4e79a7");
    expect(rampColor(1)).toBe("#f28e2b");
    expect(rampColor(2)).toBe("#f28e2b");
  });
});

import { describe, expect, it } from "vitest";
import { smooth } from "./smoothing";

describe("smoothing", () => {
  it("is the identity at weight 0 and debiased from the first point", () => {
    expect(smooth([1, 2, 3], 0)).toEqual([1, 2, 3]);
    // A constant series stays constant (no pull toward zero at the start).
    for (const v of smooth([5, 5, 5, 5], 0.9)) expect(v).toBeCloseTo(5, 12);
  });

  it("averages exponentially and passes gaps and non-finite values through unfed", () => {
    const out = smooth([0, 10, null, Number.NaN, 10], 0.5);
    expect(out[0]).toBe(0);
    expect(out[1]).toBeCloseTo((0.5 * 0.5 * 0 + 0.5 * 10) / (1 - 0.25), 12);
    expect(out[2]).toBeNull();
    expect(out[3]).toBeNaN();
    expect(out[4]).toBeCloseTo((0.5 * 5 + 0.5 * 10) / (1 - 0.125), 12);
  });
});

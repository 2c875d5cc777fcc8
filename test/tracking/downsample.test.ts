import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { lttb, minMax, type Series } from "../../src/tracking/downsample.js";

function series(values: number[]): Series {
  return { x: Float64Array.from(values.map((_, i) => i)), y: Float64Array.from(values) };
}

describe("lttb", () => {
  it("returns every index when the series is already small", () => {
    expect(lttb(series([1, 2, 3]), 10)).toEqual([0, 1, 2]);
  });

  it("keeps the first and last points and exactly `threshold` points", () => {
    const s = series(Array.from({ length: 10_000 }, (_, i) => Math.sin(i / 100)));
    const idx = lttb(s, 500);
    expect(idx).toHaveLength(500);
    expect(idx[0]).toBe(0);
    expect(idx.at(-1)).toBe(9_999);
  });

  it("keeps a lone spike that bucket averaging would flatten", () => {
    const values = Array.from({ length: 100_000 }, () => 1);
    values[54_321] = 1000;
    const idx = lttb(series(values), 200);
    expect(idx).toContain(54_321);
  });

  it("prefers non-finite values (divergence) within a bucket", () => {
    const values = Array.from({ length: 10_000 }, (_, i) => i);
    values[5_000] = Number.NaN;
    expect(lttb(series(values), 100)).toContain(5_000);
  });

  it("is strictly increasing for any input", () => {
    fc.assert(
      fc.property(fc.array(fc.double({ noNaN: false }), { minLength: 0, maxLength: 500 }), fc.integer({ min: 3, max: 100 }), (values, threshold) => {
        const idx = lttb(series(values), threshold);
        for (let i = 1; i < idx.length; i++) expect(idx[i]).toBeGreaterThan(idx[i - 1]);
        expect(idx.length).toBe(Math.min(values.length, threshold));
      }),
    );
  });
});

describe("minMax", () => {
  it("keeps each bucket's minimum and maximum", () => {
    const values = Array.from({ length: 10_000 }, (_, i) => (i % 7) - 3);
    values[1234] = -50;
    values[8765] = 99;
    const idx = minMax(series(values), 100);
    expect(idx.length).toBeLessThanOrEqual(100);
    expect(idx).toContain(1234);
    expect(idx).toContain(8765);
    expect(idx[0]).toBe(0);
    expect(idx.at(-1)).toBe(9_999);
  });

  it("never exceeds max_points and stays ordered", () => {
    fc.assert(
      fc.property(fc.array(fc.double(), { minLength: 0, maxLength: 400 }), fc.integer({ min: 3, max: 60 }), (values, max) => {
        const idx = minMax(series(values), max);
        expect(idx.length).toBeLessThanOrEqual(Math.max(max, 0));
        for (let i = 1; i < idx.length; i++) expect(idx[i]).toBeGreaterThan(idx[i - 1]);
      }),
    );
  });
});

import { describe, expect, it } from "vitest";
import { formatClock, formatCount, formatNumber, formatTime } from "./format";

// The formatters promise en-US output without Intl: Intl's own en-US formatting is the oracle.
const num = new Intl.NumberFormat("en-US", { maximumSignificantDigits: 6 });
const sci = new Intl.NumberFormat("en-US", { notation: "scientific", maximumSignificantDigits: 4 });

describe("formatNumber", () => {
  const samples = [0, 1, -1, 0.5, 1 / 3, -2 / 3, 12345.6789, -98765.4321, 999999.5, 123456789, 0.000123456, 0.0001, 1e-4 + 1e-12, 42, 100, 1234567.891, 0.1 + 0.2];
  it.each(samples)("%s reads as Intl's en-US with 6 significant digits", (v) => {
    expect(formatNumber(v)).toBe(num.format(v));
  });
  it.each([1e9, 1.23456e9, -5e12, 1.5e-7, -2.25e-10, 9.99999e20, 1e300, 5e-324])("%s is scientific, 4 significant digits, like Intl's", (v) => {
    expect(formatNumber(v)).toBe(sci.format(v));
  });
  it("spells out what is not a number", () => {
    expect([formatNumber(Number.NaN), formatNumber(Number.POSITIVE_INFINITY), formatNumber(Number.NEGATIVE_INFINITY), formatNumber(undefined)]).toEqual(["NaN", "∞", "-∞", ""]);
  });
});

describe("formatCount", () => {
  it.each([0, 7, 999, 1000, 12345, 1000000, 987654321, -4500])("%s groups digits by three", (n) => {
    expect(formatCount(n)).toBe(n.toLocaleString("en-US"));
  });
});

describe("formatTime and formatClock", () => {
  it("read as en-US medium date and time in the local zone", () => {
    for (const ms of [Date.UTC(2026, 11, 3, 9, 5, 3), Date.UTC(2020, 0, 1, 0, 0, 0), Date.UTC(2031, 6, 15, 12, 30, 59), Date.UTC(2024, 1, 29, 23, 59, 1)]) {
      const intl = new Intl.DateTimeFormat("en-US", { dateStyle: "medium", timeStyle: "medium" }).format(new Date(ms)).replace(/\s/g, " ");
      expect(formatTime(ms)).toBe(intl);
      expect(formatClock(new Date(ms))).toBe(new Date(ms).toLocaleTimeString("en-US").replace(/\s/g, " "));
    }
  });
  it("is empty for no time", () => {
    expect([formatTime(undefined), formatTime(0), formatTime(Number.NaN)]).toEqual(["", "", ""]);
  });
});

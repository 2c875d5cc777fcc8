import { describe, expect, it } from "vitest";
import { delimiterFor, parseCsv } from "./csv";

describe("parseCsv", () => {
  it("reads plain rows with LF or CRLF endings, with or without a final newline", () => {
    expect(parseCsv("a,b\n1,2\n").rows).toEqual([
      ["a", "b"],
      ["1", "2"],
    ]);
    expect(parseCsv("a,b\r\n1,2").rows).toEqual([
      ["a", "b"],
      ["1", "2"],
    ]);
  });

  it("keeps delimiters, doubled quotes and line breaks inside quoted fields", () => {
    expect(parseCsv('name,note\n"Smith, J","said ""hi""\nthen left"\n').rows).toEqual([
      ["name", "note"],
      ["Smith, J", 'said "hi"\nthen left'],
    ]);
  });

  it("keeps empty fields and drops a byte-order mark", () => {
    expect(parseCsv("\ufeffx,,z\n,,\n").rows).toEqual([
      ["x", "", "z"],
      ["", "", ""],
    ]);
  });

  it("stops after maxRows and says more followed", () => {
    const text = Array.from({ length: 10 }, (_, i) => `${i},${i * i}`).join("\n");
    const r = parseCsv(text, { maxRows: 3 });
    expect(r.rows).toEqual([
      ["0", "0"],
      ["1", "1"],
      ["2", "4"],
    ]);
    expect(r.truncated).toBe(true);
    expect(parseCsv("a\nb\n", { maxRows: 2 }).truncated).toBe(false);
  });

  it("reads tab-separated files by their extension", () => {
    expect(delimiterFor("data.TSV")).toBe("\t");
    expect(parseCsv("a\tb\n1\t2", { delimiter: delimiterFor("x.tsv") }).rows[1]).toEqual(["1", "2"]);
    expect(delimiterFor("data.csv")).toBe(",");
  });
});

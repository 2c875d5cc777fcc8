import { describe, expect, it } from "vitest";
import { column, orderByOf, quoteKey } from "./columns";
import { parseView, type RunsView, serializeView } from "./view-state";

describe("runs view in the URL", () => {
  it("round-trips every part of the view", () => {
    const views: RunsView[] = [
      { filter: "", sort: { col: "attr:start_time", desc: true }, selected: [] },
      {
        filter: "metrics.acc > 0.9 AND params.opt = 'a&b=c'",
        sort: { col: "metric:val/acc:top1", desc: false },
        cols: ["attr:status", "metric:val/acc:top1", "param:lr", "tag:team"],
        group: "param:opt",
        selected: ["0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210"],
      },
      { filter: "", sort: { col: "param:lr", desc: true }, cols: [], selected: [] },
    ];
    for (const v of views) expect(parseView(serializeView(v))).toEqual(v);
  });

  it("keeps the default view's URL empty and drops what names nothing", () => {
    expect(serializeView(parseView(""))).toBe("");
    const v = parseView("?sort=bogus&group=nothing&col=attr:nope&col=metric:acc&sel=../../x&sel=abc");
    expect(v.sort).toEqual({ col: "attr:start_time", desc: true });
    expect(v.group).toBeUndefined();
    expect(v.cols).toEqual(["metric:acc"]);
    expect(v.selected).toEqual(["abc"]);
  });

  it("orders by the server's names, quoting keys that need it", () => {
    expect(orderByOf(column("metric:acc")!, true)).toBe("metrics.acc DESC");
    expect(orderByOf(column("param:my lr")!, false)).toBe("params.`my lr` ASC");
    expect(orderByOf(column("attr:start_time")!, true)).toBe("attributes.start_time DESC");
    expect(orderByOf(column("attr:duration")!, true)).toBeUndefined();
    expect(quoteKey("a`b c")).toBe('"a`b c"');
  });
});

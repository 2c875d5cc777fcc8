import { describe, expect, it } from "vitest";
import { clip, type LineageNode, layoutLineage, NODE } from "./lineage-layout";

const node = (id: string, kind: LineageNode["kind"]): LineageNode => ({ id, kind, label: id });

describe("layoutLineage", () => {
  it("places columns left to right and links each node to the next column's", () => {
    const g = layoutLineage([[node("d1", "dataset"), node("d2", "dataset")], [node("run", "run")], [node("v1", "version")], [node("dep", "deployment")]]);
    expect(g.nodes.map((n) => n.id)).toEqual(["d1", "d2", "run", "v1", "dep"]);
    const x = Object.fromEntries(g.nodes.map((n) => [n.id, n.x]));
    expect(x.d1).toBe(x.d2);
    expect(x.d1).toBeLessThan(x.run);
    expect(x.run).toBeLessThan(x.v1);
    expect(x.v1).toBeLessThan(x.dep);
    expect(g.edges.map((e) => `${e.from}->${e.to}`)).toEqual(["d1->run", "d2->run", "run->v1", "v1->dep"]);
    // The single run sits centred between the two datasets.
    const y = Object.fromEntries(g.nodes.map((n) => [n.id, n.y + n.h / 2]));
    expect(y.run).toBeCloseTo((y.d1 + y.d2) / 2);
    expect(g.width).toBe(NODE.pad * 2 + 4 * NODE.w + 3 * NODE.colGap);
    for (const n of g.nodes) expect(n.y + n.h).toBeLessThanOrEqual(g.height);
  });

  it("skips empty columns: a version with no run links straight to its deployments", () => {
    const g = layoutLineage([[], [], [node("v1", "version")], [node("a", "deployment"), node("b", "deployment")]]);
    expect(g.edges.map((e) => `${e.from}->${e.to}`)).toEqual(["v1->a", "v1->b"]);
    expect(g.nodes[0].x).toBe(NODE.pad);
  });

  it("draws each edge from the right side of one node to the left side of the next", () => {
    const g = layoutLineage([[node("r", "run")], [node("v", "version")]]);
    const [r, v] = g.nodes;
    expect(g.edges[0].d.startsWith(`M${r.x + r.w},${r.y + r.h / 2} `)).toBe(true);
    expect(g.edges[0].d.endsWith(` ${v.x},${v.y + v.h / 2}`)).toBe(true);
  });

  it("clips long labels with an ellipsis", () => {
    expect(clip("short")).toBe("short");
    expect(clip("a".repeat(30), 10)).toBe(`${"a".repeat(9)}…`);
  });
});

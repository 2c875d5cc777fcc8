/**
 * Lays out a lineage graph left to right in columns (datasets → run → version → deployments): each column's
 * nodes stacked and centred, each node linked to every node of the next non-empty column (each middle
 * column holds one node, so that is exactly the lineage). Pure, so it is tested without a browser.
 */
export type LineageKind = "dataset" | "run" | "version" | "deployment";

export interface LineageNode {
  id: string;
  kind: LineageKind;
  label: string;
  /** A second, quieter line (digest, stage, variant…). */
  sub?: string;
  href?: string;
}

export interface PlacedNode extends LineageNode {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface PlacedEdge {
  from: string;
  to: string;
  /** An SVG path: a horizontal S-curve from the right edge of `from` to the left edge of `to`. */
  d: string;
}

export interface LineageLayout {
  nodes: PlacedNode[];
  edges: PlacedEdge[];
  width: number;
  height: number;
}

export const NODE = { w: 190, h: 46, colGap: 70, rowGap: 14, pad: 8 };

export function layoutLineage(columns: LineageNode[][]): LineageLayout {
  const cols = columns.filter((c) => c.length > 0);
  const tallest = Math.max(1, ...cols.map((c) => c.length));
  const height = NODE.pad * 2 + tallest * NODE.h + (tallest - 1) * NODE.rowGap;
  const width = cols.length ? NODE.pad * 2 + cols.length * NODE.w + (cols.length - 1) * NODE.colGap : 0;
  const placed: PlacedNode[][] = cols.map((col, i) => {
    const x = NODE.pad + i * (NODE.w + NODE.colGap);
    const block = col.length * NODE.h + (col.length - 1) * NODE.rowGap;
    const top = (height - block) / 2;
    return col.map((n, j) => ({ ...n, x, y: top + j * (NODE.h + NODE.rowGap), w: NODE.w, h: NODE.h }));
  });
  const edges: PlacedEdge[] = [];
  for (let i = 0; i + 1 < placed.length; i++) {
    for (const a of placed[i]) {
      for (const b of placed[i + 1]) {
        const x1 = a.x + a.w;
        const y1 = a.y + a.h / 2;
        const x2 = b.x;
        const y2 = b.y + b.h / 2;
        const mid = (x1 + x2) / 2;
        edges.push({ from: a.id, to: b.id, d: `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}` });
      }
    }
  }
  return { nodes: placed.flat(), edges, width, height };
}

/** A label cut to fit a node (the full text stays in the node's title). */
export function clip(text: string, max = 24): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

// biome-ignore-all lint/a11y/useSemanticElements: a virtualized grid places rows absolutely, which <table> layout cannot do; the ARIA grid roles carry the semantics.
// biome-ignore-all lint/a11y/useFocusableInteractive: cells are not focus stops (the grid scrolls by keyboard; links and checkboxes inside cells are focusable).
/**
 * The runs table, virtualized in both directions: only the rows and columns in view (plus a margin) exist
 * in the DOM, so 10,000 runs × hundreds of columns scroll like 30 × 10. Rows are absolutely placed in a
 * canvas as tall and wide as the whole table; the selection and run-name columns stick to the left and the
 * header to the top (CSS sticky, so they never lag the scroll). The visible range moves in chunks, and rows
 * are memoized, so most scroll frames re-render nothing.
 */
import { memo, useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from "react";
import { formatCount } from "../../lib/format";
import { fitWidth } from "../../lib/text-width";
import { Link } from "../../lib/router";
import { type Column, cellText, type RunRow } from "./columns";

export const ROW_HEIGHT = 32;
const HEADER_HEIGHT = 36;
const SELECT_WIDTH = 40;
/** The pinned name column: as wide as the longest run name (of the first rows), within these bounds. */
const NAME_WIDTH = 240;
const MAX_NAME_WIDTH = 420;
/** The name cell besides the name: its padding and the status dot. */
const NAME_CHROME = 40;
const NAMES_MEASURED = 2000;
/** Rows are added and dropped this many at a time, with as many again kept above and below the view. */
const ROW_CHUNK = 12;
/** Columns, likewise: added and dropped this many at a time, with as many again kept on each side. */
const COLUMN_CHUNK = 4;

export type GridItem = { kind: "run"; row: RunRow } | { kind: "group"; id: string; label: string; count: number; collapsed: boolean };

export interface RunsGridProps {
  items: GridItem[];
  columns: Column[];
  nameColumn: Column;
  sort: { col: string; desc: boolean };
  onSort(col: Column): void;
  selected: ReadonlySet<string>;
  onToggle(runId: string): void;
  onToggleAll(select: boolean): void;
  onToggleGroup(groupId: string): void;
  experimentId: string;
  /** Accessible name of the grid. */
  label: string;
}

interface Range {
  r0: number;
  r1: number;
  c0: number;
  c1: number;
}

/** First index i with offsets[i + 1] > x (offsets has one more entry than there are columns). */
function columnAt(offsets: number[], x: number): number {
  let lo = 0;
  let hi = offsets.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (offsets[mid + 1] > x) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

let firstRowsMarked = false;

export function RunsGrid(props: RunsGridProps) {
  const { items, columns } = props;
  const scroller = useRef<HTMLDivElement>(null);
  const offsets = useMemo(() => {
    const o = [0];
    for (const c of columns) o.push(o[o.length - 1] + c.width);
    return o;
  }, [columns]);
  const nameWidth = useMemo(() => {
    const names: string[] = [];
    for (const i of items) {
      if (i.kind === "run") names.push(i.row.name);
      if (names.length >= NAMES_MEASURED) break;
    }
    return fitWidth(names, NAME_CHROME, NAME_WIDTH, MAX_NAME_WIDTH);
  }, [items]);
  const pinned = SELECT_WIDTH + nameWidth;
  const totalWidth = pinned + offsets[offsets.length - 1];
  const [range, setRange] = useState<Range>({ r0: 0, r1: 3 * ROW_CHUNK, c0: 0, c1: Math.min(columns.length, 12) });

  const measure = useCallback(() => {
    const el = scroller.current;
    if (!el) return;
    const first = Math.floor(el.scrollTop / ROW_HEIGHT);
    const last = Math.ceil((el.scrollTop + el.clientHeight) / ROW_HEIGHT);
    const r0 = Math.max(0, (Math.floor(first / ROW_CHUNK) - 1) * ROW_CHUNK);
    const r1 = Math.min(items.length, (Math.ceil(last / ROW_CHUNK) + 1) * ROW_CHUNK);
    const firstCol = columnAt(offsets, el.scrollLeft);
    const lastCol = columnAt(offsets, el.scrollLeft + Math.max(0, el.clientWidth - pinned));
    const c0 = Math.max(0, (Math.floor(firstCol / COLUMN_CHUNK) - 1) * COLUMN_CHUNK);
    const c1 = Math.min(columns.length, (Math.floor(lastCol / COLUMN_CHUNK) + 2) * COLUMN_CHUNK);
    setRange((p) => (p.r0 === r0 && p.r1 === r1 && p.c0 === c0 && p.c1 === c1 ? p : { r0, r1, c0, c1 }));
  }, [items.length, columns.length, offsets, pinned]);

  useLayoutEffect(measure, [measure]);
  useEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const ro = new ResizeObserver(() => measure());
    ro.observe(el);
    return () => ro.disconnect();
  }, [measure]);

  const hasRuns = items.some((i) => i.kind === "run");
  useLayoutEffect(() => {
    // The benchmark's "first meaningful paint": the first time run rows are in the document.
    if (hasRuns && !firstRowsMarked) {
      firstRowsMarked = true;
      performance.mark("keel:runs-table:first-rows");
    }
  }, [hasRuns]);

  const { allSelected, someSelected } = useMemo(() => {
    let runs = 0;
    let picked = 0;
    for (const i of items) {
      if (i.kind !== "run") continue;
      runs++;
      if (props.selected.has(i.row.id)) picked++;
    }
    const all = Math.min(runs, 100);
    return { allSelected: runs > 0 && picked >= all, someSelected: picked > 0 && picked < all };
  }, [items, props.selected]);
  const selectAll = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (selectAll.current) selectAll.current.indeterminate = someSelected;
  }, [someSelected]);

  const { r0, r1, c0, c1 } = range;
  // One array per range, so memoized rows skip re-rendering while only the rows in view change.
  const visible = useMemo(() => columns.slice(c0, c1), [columns, c0, c1]);
  const spacer = offsets[c0] ?? 0;
  const rows = [];
  for (let i = r0; i < Math.min(r1, items.length); i++) {
    const item = items[i];
    const top = HEADER_HEIGHT + i * ROW_HEIGHT;
    if (item.kind === "group") {
      rows.push(<GroupRow key={`g:${item.id}`} item={item} index={i} top={top} width={totalWidth} onToggle={props.onToggleGroup} />);
    } else {
      rows.push(
        <RunRowView
          key={item.row.id}
          row={item.row}
          index={i}
          top={top}
          width={totalWidth}
          columns={visible}
          c0={c0}
          spacer={spacer}
          selected={props.selected.has(item.row.id)}
          onToggle={props.onToggle}
        />,
      );
    }
  }

  return (
    <div
      ref={scroller}
      className="grid-scroll"
      onScroll={measure}
      role="grid"
      aria-label={props.label}
      aria-rowcount={items.length + 1}
      aria-colcount={columns.length + 2}
      aria-multiselectable="true"
      // Focusable so arrow keys and Page Up/Down scroll it.
      tabIndex={0}
      data-testid="runs-grid"
      style={{ "--name-width": `${nameWidth}px` } as React.CSSProperties}
    >
      <div className="grid-canvas" style={{ height: HEADER_HEIGHT + items.length * ROW_HEIGHT, width: totalWidth }}>
        <div className="grid-head" role="row" aria-rowindex={1} style={{ width: totalWidth, height: HEADER_HEIGHT }}>
          <div className="cell pin pin-0" role="columnheader" aria-colindex={1}>
            <input
              ref={selectAll}
              type="checkbox"
              aria-label="Select all loaded runs (the first 100)"
              title="Select the first 100 runs"
              checked={allSelected}
              onChange={(e) => props.onToggleAll(e.target.checked)}
            />
          </div>
          <HeaderCell col={props.nameColumn} index={2} sort={props.sort} onSort={props.onSort} className="pin pin-1" />
          <div className="spacer" style={{ width: spacer }} />
          {visible.map((c, j) => (
            <HeaderCell key={c.id} col={c} index={c0 + j + 3} sort={props.sort} onSort={props.onSort} />
          ))}
        </div>
        {rows}
      </div>
    </div>
  );
}

const KIND_BADGE: Record<Column["kind"], string> = { attr: "", metric: "M", param: "P", tag: "T" };
const KIND_NAME: Record<Column["kind"], string> = { attr: "attribute", metric: "metric", param: "param", tag: "tag" };

function HeaderCell({ col, index, sort, onSort, className }: { col: Column; index: number; sort: RunsGridProps["sort"]; onSort(c: Column): void; className?: string }) {
  const active = sort.col === col.id;
  const ariaSort = active ? (sort.desc ? "descending" : "ascending") : "none";
  const title = col.kind === "attr" ? col.label : `${KIND_NAME[col.kind]}: ${col.key}`;
  return (
    <div
      className={`cell head-cell kind-${col.kind}${col.numeric ? " num" : ""}${className ? ` ${className}` : ""}`}
      role="columnheader"
      aria-colindex={index}
      aria-sort={col.orderBy ? ariaSort : undefined}
      style={className ? undefined : { width: col.width }}
      title={title}
      data-col={col.id}
    >
      {col.orderBy ? (
        <button type="button" className="sort-button" onClick={() => onSort(col)} aria-label={`Sort by ${title}`}>
          {KIND_BADGE[col.kind] && <span className="kind-badge" aria-hidden="true">{KIND_BADGE[col.kind]}</span>}
          <span className="head-label">{col.label}</span>
          {active && <span aria-hidden="true">{sort.desc ? " ▼" : " ▲"}</span>}
        </button>
      ) : (
        <span className="head-label">{col.label}</span>
      )}
    </div>
  );
}

interface RunRowProps {
  row: RunRow;
  index: number;
  top: number;
  width: number;
  columns: Column[];
  c0: number;
  spacer: number;
  selected: boolean;
  onToggle(runId: string): void;
}

const RunRowView = memo(function RunRowView({ row, index, top, width, columns, c0, spacer, selected, onToggle }: RunRowProps) {
  return (
    <div className={`grid-row${selected ? " selected" : ""}`} role="row" aria-rowindex={index + 2} aria-selected={selected} style={{ top, width }} data-run-id={row.id}>
      <div className="cell pin pin-0" role="gridcell" aria-colindex={1}>
        <input type="checkbox" aria-label={`Select run ${row.name}`} checked={selected} onChange={() => onToggle(row.id)} />
      </div>
      <div className="cell pin pin-1 name-cell" role="rowheader" aria-colindex={2}>
        <Link to={`/experiments/${encodeURIComponent(row.experimentId)}/runs/${encodeURIComponent(row.id)}`} title={row.name}>
          <span className={`status-dot status-${row.status.toLowerCase()}`} aria-hidden="true" />
          {row.name}
        </Link>
      </div>
      <div className="spacer" style={{ width: spacer }} />
      {columns.map((c, j) => (
        <div key={c.id} className={`cell${c.numeric ? " num" : ""}`} role="gridcell" aria-colindex={c0 + j + 3} style={{ width: c.width }} data-col={c.id}>
          {cellText(row, c)}
        </div>
      ))}
    </div>
  );
});

const GroupRow = memo(function GroupRow({ item, index, top, width, onToggle }: { item: Extract<GridItem, { kind: "group" }>; index: number; top: number; width: number; onToggle(id: string): void }) {
  return (
    <div className="grid-row group-row" role="row" aria-rowindex={index + 2} style={{ top, width }}>
      <div className="cell pin group-cell" role="rowheader" aria-colindex={1}>
        <button type="button" className="group-toggle" aria-expanded={!item.collapsed} onClick={() => onToggle(item.id)}>
          <span aria-hidden="true">{item.collapsed ? "▸" : "▾"}</span> {item.label}
        </button>
        <span className="muted"> {item.count === 1 ? "1 run" : `${formatCount(item.count)} runs`}</span>
      </div>
    </div>
  );
});

/**
 * Everything the runs table shows, as the URL's query string: filter, sort, columns, grouping, selection.
 * A link reproduces the view; parse(serialize(v)) = v.
 *
 *   ?filter=metrics.acc > 0.9&sort=metric:acc&dir=asc&col=attr:status&col=metric:acc&group=param:opt&sel=<run id>
 *
 * No `col` entries means the default columns (every metric and param the experiment has).
 */
import { DEFAULT_SORT, parseColumnId } from "./columns";

export interface RunsView {
  filter: string;
  sort: { col: string; desc: boolean };
  /** Chosen columns in order; undefined: the defaults. */
  cols?: string[];
  group?: string;
  selected: string[];
}

export const EMPTY_VIEW: RunsView = { filter: "", sort: DEFAULT_SORT, selected: [] };

export function parseView(search: string): RunsView {
  const q = new URLSearchParams(search);
  const sortCol = q.get("sort");
  const sort = sortCol && parseColumnId(sortCol) ? { col: sortCol, desc: q.get("dir") !== "asc" } : DEFAULT_SORT;
  const cols = q.getAll("col").filter((c) => parseColumnId(c) !== undefined);
  const group = q.get("group");
  return {
    filter: q.get("filter") ?? "",
    sort,
    cols: q.has("col") ? [...new Set(cols)] : undefined,
    group: group && parseColumnId(group) ? group : undefined,
    selected: [...new Set(q.getAll("sel").filter((s) => /^[0-9a-zA-Z_-]{1,64}$/.test(s)))],
  };
}

export function serializeView(v: RunsView): string {
  const q = new URLSearchParams();
  if (v.filter) q.set("filter", v.filter);
  if (v.sort.col !== DEFAULT_SORT.col || v.sort.desc !== DEFAULT_SORT.desc) {
    q.set("sort", v.sort.col);
    q.set("dir", v.sort.desc ? "desc" : "asc");
  }
  if (v.cols) {
    // An explicit empty choice must survive the round trip: `col=` with no value marks it.
    if (v.cols.length === 0) q.append("col", "");
    for (const c of v.cols) q.append("col", c);
  }
  if (v.group) q.set("group", v.group);
  for (const s of v.selected) q.append("sel", s);
  const s = q.toString();
  return s ? `?${s}` : "";
}

/**
 * The runs table's columns. An id is `<kind>:<key>` (`metric:val/loss`, `param:lr`, `attr:status`): it goes
 * in the URL, names the cell's value and, for sortable columns, the server's order_by.
 */
import type { WireRun } from "@keel/sdk";
import { metricNumber } from "@keel/sdk";
import { formatDuration, formatNumber, formatTime } from "../../lib/format";
import { fitWidth } from "../../lib/text-width";

export type ColumnKind = "attr" | "metric" | "param" | "tag";

export interface Column {
  id: string;
  kind: ColumnKind;
  key: string;
  label: string;
  width: number;
  /** The server's order_by for this column (without direction); undefined: not sortable. */
  orderBy?: string;
  numeric: boolean;
}

export interface RunRow {
  id: string;
  name: string;
  experimentId: string;
  status: string;
  start: number;
  end?: number;
  user: string;
  lifecycle: string;
  metrics: Map<string, number>;
  params: Map<string, string>;
  tags: Map<string, string>;
}

export function toRow(r: WireRun): RunRow {
  const metrics = new Map<string, number>();
  for (const m of r.data.metrics ?? []) metrics.set(m.key, metricNumber(m.value));
  const params = new Map<string, string>();
  for (const p of r.data.params ?? []) params.set(p.key, p.value);
  const tags = new Map<string, string>();
  for (const t of r.data.tags ?? []) tags.set(t.key, t.value);
  return {
    id: r.info.run_id,
    name: r.info.run_name || r.info.run_id,
    experimentId: r.info.experiment_id,
    status: r.info.status,
    start: r.info.start_time,
    end: r.info.end_time ?? undefined,
    user: r.info.user_id,
    lifecycle: r.info.lifecycle_stage,
    metrics,
    params,
    tags,
  };
}

/** An identifier in MLflow's search grammar: bare when it can be, else quoted. */
export function quoteKey(key: string): string {
  if (/^[^\s=!<>~(),'"`]+$/.test(key)) return key;
  return key.includes("`") ? `"${key}"` : `\`${key}\``;
}

const KIND_PREFIX: Record<Exclude<ColumnKind, "attr">, string> = { metric: "metrics", param: "params", tag: "tags" };

const ATTRS: Record<string, { label: string; width: number; orderBy?: string; numeric?: boolean }> = {
  run_name: { label: "Run name", width: 240, orderBy: "attributes.run_name" },
  start_time: { label: "Created", width: 200, orderBy: "attributes.start_time" },
  duration: { label: "Duration", width: 110, numeric: true },
  status: { label: "Status", width: 100, orderBy: "attributes.status" },
  user_id: { label: "User", width: 120, orderBy: "attributes.user_id" },
  end_time: { label: "Ended", width: 200, orderBy: "attributes.end_time" },
  run_id: { label: "Run ID", width: 280, orderBy: "attributes.run_id" },
};

/** Attribute columns a user can choose (run name is always shown, pinned). */
export const ATTRIBUTE_IDS = ["attr:start_time", "attr:duration", "attr:status", "attr:user_id", "attr:end_time", "attr:run_id"];
export const DEFAULT_ATTRIBUTE_IDS = ["attr:start_time", "attr:duration", "attr:status", "attr:user_id"];
export const NAME_COLUMN_ID = "attr:run_name";
export const DEFAULT_SORT = { col: "attr:start_time", desc: true };

export function columnId(kind: ColumnKind, key: string): string {
  return `${kind}:${key}`;
}

/** `metric:a:b` → metric, `a:b`. Undefined for ids that name nothing. */
export function parseColumnId(id: string): { kind: ColumnKind; key: string } | undefined {
  const i = id.indexOf(":");
  if (i <= 0) return undefined;
  const kind = id.slice(0, i);
  const key = id.slice(i + 1);
  if (!key) return undefined;
  if (kind === "attr") return key in ATTRS ? { kind, key } : undefined;
  if (kind === "metric" || kind === "param" || kind === "tag") return { kind, key };
  return undefined;
}

/** Header room besides the key: the cell's and the sort button's padding, the kind badge and the sort arrow. */
const HEADER_CHROME = 64;
const widths = new Map<string, number>();
/** Wide enough for the key in the header (a metric named train_accuracy is not cut to "train_ac…"), up to 260 px. */
function keyColumnWidth(key: string, min: number): number {
  let w = widths.get(key);
  if (w === undefined) {
    w = fitWidth([key], HEADER_CHROME, 0, 260, 600);
    widths.set(key, w);
  }
  return Math.max(min, w);
}

export function column(id: string): Column | undefined {
  const p = parseColumnId(id);
  if (!p) return undefined;
  if (p.kind === "attr") {
    const a = ATTRS[p.key];
    return { id, kind: "attr", key: p.key, label: a.label, width: a.width, orderBy: a.orderBy, numeric: a.numeric ?? false };
  }
  return {
    id,
    kind: p.kind,
    key: p.key,
    label: p.key,
    width: keyColumnWidth(p.key, p.kind === "metric" ? 120 : 130),
    orderBy: `${KIND_PREFIX[p.kind]}.${quoteKey(p.key)}`,
    numeric: p.kind === "metric",
  };
}

/** The value a cell shows, as text. */
export function cellText(row: RunRow, col: Column): string {
  switch (col.kind) {
    case "metric":
      return formatNumber(row.metrics.get(col.key));
    case "param":
      return row.params.get(col.key) ?? "";
    case "tag":
      return row.tags.get(col.key) ?? "";
    case "attr":
      switch (col.key) {
        case "run_name":
          return row.name;
        case "start_time":
          return formatTime(row.start);
        case "end_time":
          return formatTime(row.end);
        case "duration":
          return row.end ? formatDuration(row.end - row.start) : row.status === "RUNNING" ? "running" : "";
        case "status":
          return row.status;
        case "user_id":
          return row.user;
        case "run_id":
          return row.id;
      }
  }
  return "";
}

/** The raw value grouping uses (undefined: the run has none). */
export function groupValue(row: RunRow, col: Column): string | undefined {
  if (col.kind === "param") return row.params.get(col.key);
  if (col.kind === "tag") return row.tags.get(col.key);
  if (col.kind === "attr") return cellText(row, col) || undefined;
  const v = row.metrics.get(col.key);
  return v === undefined ? undefined : String(v);
}

/** `metrics.acc DESC`, as runs/search takes it. */
export function orderByOf(col: Column, desc: boolean): string | undefined {
  return col.orderBy ? `${col.orderBy} ${desc ? "DESC" : "ASC"}` : undefined;
}

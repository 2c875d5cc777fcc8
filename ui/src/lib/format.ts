/** Display formatting shared by the tables and charts. */

const num = new Intl.NumberFormat(undefined, { maximumSignificantDigits: 6 });
const sci = new Intl.NumberFormat(undefined, { notation: "scientific", maximumSignificantDigits: 4 });
const int = new Intl.NumberFormat();

/** Metric values: 6 significant digits, scientific for very large or tiny magnitudes; NaN/±Inf spelled out. */
export function formatNumber(v: number | undefined): string {
  if (v === undefined) return "";
  if (Number.isNaN(v)) return "NaN";
  if (!Number.isFinite(v)) return v > 0 ? "∞" : "-∞";
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e9 || a < 1e-4)) return sci.format(v);
  return num.format(v);
}

export function formatCount(n: number): string {
  return int.format(n);
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });

export function formatTime(ms: number | undefined): string {
  if (ms === undefined || ms === null || !Number.isFinite(ms) || ms <= 0) return "";
  return dateTime.format(new Date(ms));
}

/** 0.35 s, 42 s, 3 min 5 s, 2 h 4 min, 3 d 2 h */
export function formatDuration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms) || ms < 0) return "";
  if (ms < 1000) return `${(ms / 1000).toFixed(2)} s`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h} h ${m % 60} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

/** "3 minutes ago" style, for lists. */
export function formatAgo(ms: number | undefined, now = Date.now()): string {
  if (!ms) return "";
  const d = Math.max(0, now - ms) / 1000;
  if (d < 60) return "just now";
  if (d < 3600) return `${Math.floor(d / 60)} min ago`;
  if (d < 86400) return `${Math.floor(d / 3600)} h ago`;
  if (d < 30 * 86400) return `${Math.floor(d / 86400)} d ago`;
  return formatTime(ms);
}

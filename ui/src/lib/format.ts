/**
 * Display formatting shared by the tables and charts, in en-US style. Not with Intl: the first Intl
 * formatter a page creates loads ICU's locale data, 20-50 ms of a slow machine's page load, and a
 * tracking UI's numbers and times read the same in every locale.
 */

/** "1234567.5" -> "1,234,567.5": commas between groups of three digits of the integer part. */
function group(digits: string): string {
  const neg = digits.startsWith("-");
  const body = neg ? digits.slice(1) : digits;
  const dot = body.indexOf(".");
  const int = dot < 0 ? body : body.slice(0, dot);
  let out = "";
  for (let i = int.length; i > 0; i -= 3) out = int.slice(Math.max(0, i - 3), i) + (out ? `,${out}` : "");
  return `${neg ? "-" : ""}${out}${dot < 0 ? "" : body.slice(dot)}`;
}

/** Metric values: 6 significant digits, scientific for very large or tiny magnitudes; NaN/±Inf spelled out. */
export function formatNumber(v: number | undefined): string {
  if (v === undefined) return "";
  if (Number.isNaN(v)) return "NaN";
  if (!Number.isFinite(v)) return v > 0 ? "∞" : "-∞";
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e9 || a < 1e-4)) {
    // 1.235E9, 1.5E-7: at most four significant digits (the shortest form when it has no more: 5E-324).
    const shortest = v.toExponential();
    const [mantissa, exponent] = (shortest.replace(/[-.]|e.*/g, "").length <= 4 ? shortest : v.toExponential(3)).split("e");
    return `${mantissa.replace(/\.?0+$/, "")}E${Number(exponent)}`;
  }
  // 1e-4 <= |v| < 1e9 here, where String() writes a plain decimal (never an exponent).
  return group(String(Number(v.toPrecision(6))));
}

export function formatCount(n: number): string {
  return Number.isFinite(n) ? group(String(Math.round(n))) : String(n);
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const pad2 = (n: number) => String(n).padStart(2, "0");

/** The time of day in the browser's time zone: 9:05:03 AM. */
export function formatClock(d: Date): string {
  const h = d.getHours();
  return `${h % 12 || 12}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())} ${h < 12 ? "AM" : "PM"}`;
}

/** Dec 3, 2026, 9:05:03 AM (the browser's time zone). */
export function formatTime(ms: number | undefined): string {
  if (ms === undefined || ms === null || !Number.isFinite(ms) || ms <= 0) return "";
  const d = new Date(ms);
  return `${MONTHS[d.getMonth()]} ${d.getDate()}, ${d.getFullYear()}, ${formatClock(d)}`;
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

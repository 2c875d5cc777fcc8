/**
 * Pixel width of a line of text in the page's font, for sizing table columns to their contents. Measured on
 * one shared 2D canvas; where there is none (unit tests in Node), an estimate of 8 px per character.
 */
const FONT = '14px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
let ctx: CanvasRenderingContext2D | null | undefined;

export function textWidth(text: string, weight: 400 | 600 = 400): number {
  if (ctx === undefined) ctx = typeof document === "undefined" ? null : document.createElement("canvas").getContext("2d");
  if (!ctx) return text.length * 8;
  ctx.font = weight === 400 ? FONT : `${weight} ${FONT}`;
  return ctx.measureText(text).width;
}

/** `min` to `max` px: wide enough for the widest text plus `padding`, within those bounds. */
export function fitWidth(texts: Iterable<string>, padding: number, min: number, max: number, weight: 400 | 600 = 400): number {
  let widest = 0;
  for (const t of texts) {
    if (widest + padding >= max) break;
    widest = Math.max(widest, textWidth(t, weight));
  }
  return Math.round(Math.max(min, Math.min(max, widest + padding)));
}

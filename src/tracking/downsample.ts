/**
 * Downsampling for charts: a million-point history becomes a few thousand points that draw the same
 * picture. Both keep the first and last point.
 */
export interface Series {
  x: Float64Array;
  y: Float64Array;
}

/** Largest-Triangle-Three-Buckets (Steinarsson 2013): keeps the visual shape; returns chosen indices. */
export function lttb(s: Series, threshold: number): number[] {
  const n = s.x.length;
  if (threshold >= n) return Array.from({ length: n }, (_, i) => i);
  if (threshold < 3) return [0, n - 1];
  const out: number[] = [0];
  const every = (n - 2) / (threshold - 2);
  let a = 0;
  for (let i = 0; i < threshold - 2; i++) {
    const nextStart = Math.floor((i + 1) * every) + 1;
    const nextEnd = Math.min(Math.floor((i + 2) * every) + 1, n);
    let avgX = 0;
    let avgY = 0;
    let count = 0;
    for (let j = nextStart; j < nextEnd; j++) {
      if (!Number.isFinite(s.y[j])) continue;
      avgX += s.x[j];
      avgY += s.y[j];
      count++;
    }
    if (count) {
      avgX /= count;
      avgY /= count;
    }
    const start = Math.floor(i * every) + 1;
    const end = Math.floor((i + 1) * every) + 1;
    let best = start;
    let bestArea = -1;
    const ax = s.x[a];
    const ay = Number.isFinite(s.y[a]) ? s.y[a] : 0;
    for (let j = start; j < end; j++) {
      // A non-finite value is an event worth seeing (divergence); always prefer it.
      const area = Number.isFinite(s.y[j]) ? Math.abs((ax - avgX) * (s.y[j] - ay) - (ax - s.x[j]) * (avgY - ay)) : Number.POSITIVE_INFINITY;
      if (area > bestArea) {
        bestArea = area;
        best = j;
      }
    }
    out.push(best);
    a = best;
  }
  out.push(n - 1);
  return out;
}

/** Min and max per bucket, in x order: never hides a spike, at most 2 points per bucket. */
export function minMax(s: Series, maxPoints: number): number[] {
  const n = s.x.length;
  if (n <= maxPoints) return Array.from({ length: n }, (_, i) => i);
  const perBucket = maxPoints - 2 >= 2 ? 2 : 1;
  const buckets = Math.max(1, Math.floor((maxPoints - 2) / perBucket));
  const out: number[] = [0];
  const size = (n - 2) / buckets;
  for (let b = 0; b < buckets; b++) {
    const start = Math.floor(b * size) + 1;
    const end = Math.min(Math.floor((b + 1) * size) + 1, n - 1);
    if (start >= end) continue;
    let lo = start;
    let hi = start;
    for (let j = start; j < end; j++) {
      if (!(s.y[j] >= s.y[lo])) lo = j;
      if (!(s.y[j] <= s.y[hi])) hi = j;
    }
    if (lo === hi || perBucket === 1) out.push(perBucket === 1 ? hi : lo);
    else out.push(Math.min(lo, hi), Math.max(lo, hi));
  }
  out.push(n - 1);
  return out;
}

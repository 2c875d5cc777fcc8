/**
 * TensorBoard's smoothing: an exponential moving average, debiased so the first points are not pulled
 * toward zero. `weight` in [0, 1): 0 is the raw series. Gaps and non-finite values pass through unfed.
 */
export function smooth(ys: ArrayLike<number | null>, weight: number): (number | null)[] {
  const out: (number | null)[] = new Array(ys.length);
  if (!(weight > 0)) {
    for (let i = 0; i < ys.length; i++) out[i] = ys[i];
    return out;
  }
  const w = Math.min(weight, 0.999);
  let last = 0;
  let n = 0;
  for (let i = 0; i < ys.length; i++) {
    const y = ys[i];
    if (y === null || !Number.isFinite(y)) {
      out[i] = y;
      continue;
    }
    last = last * w + (1 - w) * y;
    n++;
    out[i] = last / (1 - w ** n);
  }
  return out;
}

/** Traffic shares from variant weights: a shadow gets copies, not a share; weights need not sum to 1. */
export function trafficShare(variants: { name: string; weight: number; shadow: boolean }[]): Map<string, number> {
  const serving = variants.filter((v) => !v.shadow && v.weight > 0);
  const sum = serving.reduce((n, v) => n + v.weight, 0);
  return new Map(variants.map((v) => [v.name, !v.shadow && sum > 0 && v.weight > 0 ? v.weight / sum : 0]));
}

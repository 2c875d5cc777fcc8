import { createHash } from "node:crypto";
import type { DeploymentSpec, VariantSpec } from "./spec.js";

/**
 * Which variant answers a request: weighted random (canary), or, with sticky routing, a hash of the
 * request's key mapped onto the same weights so one key always lands on one variant while the weights
 * stay put. The shadow variant never answers; `shadowFor` says whether this request is mirrored to it.
 */
export interface Router {
  pick(stickyKey?: string): VariantSpec;
  shadowFor(): VariantSpec | undefined;
}

export function createRouter(spec: DeploymentSpec, random: () => number = Math.random): Router {
  const served = spec.variants.filter((v) => v.name !== spec.shadow?.variant && v.weight > 0);
  const total = served.reduce((a, v) => a + v.weight, 0);
  const cumulative: number[] = [];
  let acc = 0;
  for (const v of served) {
    acc += v.weight / total;
    cumulative.push(acc);
  }
  const shadow = spec.shadow ? spec.variants.find((v) => v.name === spec.shadow?.variant) : undefined;

  const at = (u: number): VariantSpec => {
    for (let i = 0; i < cumulative.length; i++) if (u < cumulative[i]) return served[i];
    return served[served.length - 1];
  };
  return {
    pick(stickyKey) {
      if (stickyKey === undefined) return at(random());
      // 48 bits of the key's hash as a uniform number in [0, 1).
      const h = createHash("sha256").update(stickyKey).digest();
      return at(h.readUIntBE(0, 6) / 2 ** 48);
    },
    shadowFor() {
      if (!shadow || !spec.shadow) return undefined;
      return random() < spec.shadow.fraction ? shadow : undefined;
    },
  };
}

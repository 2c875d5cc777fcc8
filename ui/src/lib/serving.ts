/** Which deployments serve a model version (a variant naming the model and serving that version right now). */
import type { Deployment } from "@keel/sdk";

export interface Serving {
  deployment: string;
  variant: string;
  shadow: boolean;
  alias?: string;
}

export function servingDeployments(deployments: Deployment[] | undefined, model: string, version: string | number): Serving[] {
  const out: Serving[] = [];
  for (const d of deployments ?? []) {
    for (const v of d.variants) {
      if (v.model === model && v.version === String(version)) out.push({ deployment: d.name, variant: v.name, shadow: v.shadow, ...(v.alias ? { alias: v.alias } : {}) });
    }
  }
  return out;
}

import type { Deployment } from "@keel/sdk";
import { describe, expect, it } from "vitest";
import { servingDeployments } from "./serving";

const variant = (name: string, model: string, version: string | undefined, extra: Partial<Deployment["variants"][number]> = {}) => ({
  name,
  model,
  version,
  weight: 1,
  shadow: false,
  ready: version !== undefined,
  queue_depth: 0,
  ...extra,
});
const deployment = (name: string, variants: Deployment["variants"]): Deployment => ({ name, spec: { name, variants: [] }, created_by: "u", creation_time: 1, last_updated_time: 1, variants });

describe("servingDeployments", () => {
  it("finds the variants that serve exactly this model version", () => {
    const ds = [
      deployment("a", [variant("champion", "iris", "2", { alias: "champion" }), variant("shadow", "iris", "3", { shadow: true })]),
      deployment("b", [variant("v", "other", "2")]),
      deployment("c", [variant("loading", "iris", undefined)]),
    ];
    expect(servingDeployments(ds, "iris", 2)).toEqual([{ deployment: "a", variant: "champion", shadow: false, alias: "champion" }]);
    expect(servingDeployments(ds, "iris", "3")).toEqual([{ deployment: "a", variant: "shadow", shadow: true }]);
    expect(servingDeployments(ds, "iris", "1")).toEqual([]);
    expect(servingDeployments(undefined, "iris", "1")).toEqual([]);
  });
});

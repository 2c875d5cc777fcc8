import { describe, expect, it } from "vitest";
import { paths, route } from "./routes";

describe("routes", () => {
  it("names the page of every address the app links to", () => {
    expect(route("/")).toEqual({ page: "experiments" });
    expect(route("/experiments/3")).toEqual({ page: "runs", experimentId: "3" });
    expect(route(paths.run("3", "abc"))).toEqual({ page: "run", experimentId: "3", runId: "abc" });
    expect(route(paths.runById("abc"))).toEqual({ page: "run", runId: "abc" });
    expect(route("/compare")).toEqual({ page: "compare" });
    expect(route(paths.models())).toEqual({ page: "models" });
    expect(route(paths.deployments())).toEqual({ page: "deployments" });
    expect(route(paths.deployment("iris"))).toEqual({ page: "deployment", name: "iris" });
    expect(route(paths.admin())).toEqual({ page: "admin" });
    expect(route(paths.audit())).toEqual({ page: "audit" });
    expect(route("/models/a/b/c")).toEqual({ page: "not-found" });
  });

  it("keeps a model name with slashes, spaces and percent signs as one segment", () => {
    const name = "team/fraud model 100%";
    const href = paths.model(name, 2);
    expect(href).toBe("/models/team%2Ffraud%20model%20100%25?version=2");
    expect(route(href.split("?")[0])).toEqual({ page: "model", name });
  });

  it("answers not-found for a malformed escape instead of throwing", () => {
    expect(route("/models/%E0%A4%A")).toEqual({ page: "not-found" });
  });
});

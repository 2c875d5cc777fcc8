/**
 * The app's addresses: which page a path names, and the paths of the things pages link to. Names are
 * encoded as one path segment each (a model name with a "/" stays one segment).
 */

export type Route =
  | { page: "experiments" }
  | { page: "runs"; experimentId: string }
  /** `experimentId` is absent for `/runs/<id>` (links that know only the run): the page finds it and corrects the address. */
  | { page: "run"; experimentId?: string; runId: string }
  | { page: "compare" }
  | { page: "models" }
  | { page: "model"; name: string }
  | { page: "deployments" }
  | { page: "deployment"; name: string }
  | { page: "admin" }
  | { page: "audit" }
  | { page: "not-found" };

export function route(pathname: string): Route {
  let parts: string[];
  try {
    parts = pathname.split("/").filter(Boolean).map(decodeURIComponent);
  } catch {
    return { page: "not-found" };
  }
  const [first, second, third, fourth] = parts;
  if (parts.length === 0 || (parts.length === 1 && first === "experiments")) return { page: "experiments" };
  if (first === "experiments" && parts.length === 2) return { page: "runs", experimentId: second };
  if (first === "experiments" && parts.length === 4 && third === "runs") return { page: "run", experimentId: second, runId: fourth };
  if (first === "runs" && parts.length === 2) return { page: "run", runId: second };
  if (parts.length === 1 && first === "compare") return { page: "compare" };
  if (first === "models" && parts.length === 1) return { page: "models" };
  if (first === "models" && parts.length === 2) return { page: "model", name: second };
  if (first === "deployments" && parts.length === 1) return { page: "deployments" };
  if (first === "deployments" && parts.length === 2) return { page: "deployment", name: second };
  if (first === "admin" && parts.length === 1) return { page: "admin" };
  if (first === "admin" && parts.length === 2 && second === "audit") return { page: "audit" };
  return { page: "not-found" };
}

const seg = encodeURIComponent;

export const paths = {
  experiment: (id: string) => `/experiments/${seg(id)}`,
  run: (experimentId: string, runId: string) => `/experiments/${seg(experimentId)}/runs/${seg(runId)}`,
  /** A run whose experiment the linking page does not know. */
  runById: (runId: string) => `/runs/${seg(runId)}`,
  models: () => "/models",
  /** A model's page, with one version chosen (its signature and lineage shown). */
  model: (name: string, version?: string | number) => `/models/${seg(name)}${version !== undefined ? `?version=${seg(String(version))}` : ""}`,
  deployments: () => "/deployments",
  deployment: (name: string) => `/deployments/${seg(name)}`,
  admin: (tab?: string) => `/admin${tab ? `?tab=${seg(tab)}` : ""}`,
  audit: () => "/admin/audit",
};

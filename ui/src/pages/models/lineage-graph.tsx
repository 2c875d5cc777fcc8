/**
 * A model version's lineage drawn as a graph: the datasets its run logged → the run → the version → the
 * deployments serving it. Every node is a link (Tab reaches them; Enter follows).
 */
import type { Deployment } from "@keel/sdk";
import { useQuery } from "@tanstack/react-query";
import { ErrorBanner } from "../../components/error-banner";
import { useClient } from "../../lib/api";
import { clip, type LineageNode, layoutLineage } from "../../lib/lineage-layout";
import { navigate } from "../../lib/router";
import { paths } from "../../lib/routes";
import { servingDeployments } from "../../lib/serving";

const KIND_LABEL = { dataset: "Dataset", run: "Run", version: "Model version", deployment: "Deployment" } as const;

/** MLflow's stage "None" means no stage: the node shows nothing rather than the word as if it were one. */
function stageLabel(stage: string | undefined): string | undefined {
  return stage && stage !== "None" ? stage : undefined;
}

export function LineageCard({ model, version, deployments }: { model: string; version: string; deployments: Deployment[] | undefined }) {
  const client = useClient();
  const lineage = useQuery({ queryKey: ["version-lineage", model, version], queryFn: ({ signal }) => client.lineage({ model, version, maxResults: 100, signal }) });
  const data = lineage.data;
  const columns: LineageNode[][] = [[], [], [], []];
  if (data) {
    const run = data.run;
    for (const d of data.datasets ?? []) {
      columns[0].push({
        id: `dataset:${d.name}:${d.digest}:${d.context ?? ""}`,
        kind: "dataset",
        label: d.name,
        sub: `${d.context ? `${d.context} · ` : ""}${d.digest}`,
        ...(run ? { href: `${paths.run(run.experiment_id, run.run_id)}#inputs-h` } : {}),
      });
    }
    if (run) columns[1].push({ id: `run:${run.run_id}`, kind: "run", label: run.run_name || run.run_id, sub: run.experiment_name ?? `experiment ${run.experiment_id}`, href: paths.run(run.experiment_id, run.run_id) });
    columns[2].push({ id: `version:${model}:${version}`, kind: "version", label: `${model} v${version}`, sub: stageLabel(data.model_version?.current_stage), href: paths.model(model, version) });
    for (const s of servingDeployments(deployments, model, version)) {
      columns[3].push({ id: `deployment:${s.deployment}:${s.variant}`, kind: "deployment", label: s.deployment, sub: `variant ${s.variant}${s.shadow ? " (shadow)" : ""}`, href: paths.deployment(s.deployment) });
    }
  }
  const g = layoutLineage(columns);
  return (
    <section aria-labelledby="lineage-h" className="card">
      <h2 id="lineage-h">Lineage</h2>
      {lineage.isError && <ErrorBanner error={lineage.error} what="Cannot read the lineage" />}
      {data && !data.run && <p className="muted">This version names no run that you can read, so its datasets are unknown.</p>}
      {data && (
        <figure className="lineage-scroll" aria-label={`Lineage of ${model} version ${version}`}>
          <svg className="lineage" width={g.width} height={g.height} viewBox={`0 0 ${g.width} ${g.height}`} data-testid="lineage-graph">
            <title>{`Lineage of ${model} version ${version}`}</title>
            <defs>
              <marker id="lineage-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
                <path d="M0,0 L10,5 L0,10 z" className="lineage-arrowhead" />
              </marker>
            </defs>
            {g.edges.map((e) => (
              <path key={`${e.from}->${e.to}`} d={e.d} className="lineage-edge" markerEnd="url(#lineage-arrow)" />
            ))}
            {g.nodes.map((n) => (
              <a
                key={n.id}
                href={n.href}
                className={`lineage-node kind-${n.kind}`}
                data-kind={n.kind}
                aria-label={`${KIND_LABEL[n.kind]}: ${n.label}${n.sub ? ` (${n.sub})` : ""}`}
                onClick={(e) => {
                  if (!n.href || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey) return;
                  e.preventDefault();
                  navigate(n.href);
                }}
              >
                <title>{`${KIND_LABEL[n.kind]}: ${n.label}${n.sub ? `\n${n.sub}` : ""}`}</title>
                <rect x={n.x} y={n.y} width={n.w} height={n.h} rx={8} />
                <text x={n.x + 10} y={n.y + 17} className="lineage-kind">
                  {clip(`${KIND_LABEL[n.kind]}${n.sub ? ` · ${n.sub}` : ""}`, 32)}
                </text>
                <text x={n.x + 10} y={n.y + 36} className="lineage-label">
                  {clip(n.label)}
                </text>
              </a>
            ))}
          </svg>
        </figure>
      )}
    </section>
  );
}

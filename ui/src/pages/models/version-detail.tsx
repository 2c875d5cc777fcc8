/** One model version: where it came from, its stage (with transitions), tags, signature and lineage. */
import type { Deployment, ModelVersion } from "@keel/sdk";
import { useMutation } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { ErrorBanner } from "../../components/error-banner";
import { TagsEditor } from "../../components/tags-editor";
import { useClient } from "../../lib/api";
import { formatTime } from "../../lib/format";
import { Link } from "../../lib/router";
import { paths } from "../../lib/routes";
import { LineageCard } from "./lineage-graph";
import { SignatureCard } from "./signature-table";

export const STAGES = ["None", "Staging", "Production", "Archived"] as const;

export function VersionDetail({ version: v, aliases, deployments, onChanged }: { version: ModelVersion; aliases: string[]; deployments: Deployment[] | undefined; onChanged(): void }) {
  const client = useClient();
  return (
    <>
      <section aria-labelledby="version-h" className="card" data-testid="version-detail">
        <h2 id="version-h">
          Version {v.version}{" "}
          {aliases.map((a) => (
            <span key={a} className="badge alias">
              @{a}
            </span>
          ))}
        </h2>
        <dl className="overview">
          <dt>Stage</dt>
          <dd>{v.current_stage}</dd>
          <dt>Status</dt>
          <dd>
            {v.status}
            {v.status_message ? ` (${v.status_message})` : ""}
          </dd>
          <dt>Source</dt>
          <dd className="mono">{v.source}</dd>
          <dt>Source run</dt>
          <dd>{v.run_id ? <Link to={paths.runById(v.run_id)} className="mono">{v.run_id}</Link> : "—"}</dd>
          <dt>Registered</dt>
          <dd>
            {formatTime(v.creation_timestamp)}
            {v.user_id ? ` by ${v.user_id}` : ""}
          </dd>
          <dt>Last updated</dt>
          <dd>{formatTime(v.last_updated_timestamp)}</dd>
          {v.description && (
            <>
              <dt>Description</dt>
              <dd className="wrap">{v.description}</dd>
            </>
          )}
        </dl>
        <StageTransition version={v} onChanged={onChanged} />
        <h3 className="sub-head">Version tags</h3>
        <TagsEditor
          label="Version tags"
          tags={v.tags ?? []}
          onSet={async (k, val) => {
            await client.setModelVersionTag(v.name, v.version, k, val);
            onChanged();
          }}
          onDelete={async (k) => {
            await client.deleteModelVersionTag(v.name, v.version, k);
            onChanged();
          }}
        />
      </section>
      <SignatureCard model={v.name} version={v.version} />
      <LineageCard model={v.name} version={v.version} deployments={deployments} />
    </>
  );
}

function StageTransition({ version: v, onChanged }: { version: ModelVersion; onChanged(): void }) {
  const client = useClient();
  const [stage, setStage] = useState<string>(v.current_stage === "Production" ? "Archived" : v.current_stage === "Staging" ? "Production" : "Staging");
  const [archive, setArchive] = useState(false);
  const move = useMutation({ mutationFn: () => client.transitionModelVersionStage(v.name, v.version, stage, archive), onSuccess: onChanged });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    move.mutate();
  };
  const archivable = stage === "Staging" || stage === "Production";
  return (
    <form className="toolbar" onSubmit={submit} aria-label="Transition stage">
      <label className="inline">
        Move to stage
        <select value={stage} onChange={(e) => setStage(e.target.value)}>
          {STAGES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      </label>
      <label className="check inline">
        <input type="checkbox" checked={archive && archivable} disabled={!archivable} onChange={(e) => setArchive(e.target.checked)} />
        Archive the versions now in {archivable ? stage : "that stage"}
      </label>
      <button type="submit" disabled={move.isPending || stage === v.current_stage}>
        Transition
      </button>
      {move.isError && <ErrorBanner error={move.error} what="Cannot change the stage" />}
    </form>
  );
}

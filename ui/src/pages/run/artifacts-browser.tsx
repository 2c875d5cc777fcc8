/**
 * A run's artifacts: a tree of its folders (each listed on demand through the artifact proxy) beside a
 * preview of the chosen file. The chosen file lives in the address (`?artifact=model/MLmodel`), so a link
 * opens it, and its folders start expanded.
 */
import type { ArtifactFile, WireRun } from "@keel/sdk";
import { proxiedArtifactPath } from "@keel/sdk";
import { useState } from "react";
import { ErrorBanner } from "../../components/error-banner";
import { formatBytes } from "../../lib/bytes";
import { navigate, useLocation } from "../../lib/router";
import { useArtifactDir } from "./artifact-dir";
import { ArtifactPreview } from "./artifact-preview";

function ancestors(rel: string | undefined): string[] {
  if (!rel) return [];
  const parts = rel.split("/");
  return parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join("/"));
}

export function ArtifactsBrowser({ run }: { run: WireRun }) {
  const { pathname, search } = useLocation();
  const selected = new URLSearchParams(search).get("artifact") ?? undefined;
  const root = proxiedArtifactPath(run.info.artifact_uri);
  const [open, setOpen] = useState<Set<string>>(() => new Set(ancestors(selected)));

  const select = (rel: string) => {
    const q = new URLSearchParams(search);
    q.set("artifact", rel);
    navigate(`${pathname}?${q.toString()}`, { replace: true });
  };
  const toggle = (rel: string) =>
    setOpen((s) => {
      const next = new Set(s);
      if (next.has(rel)) next.delete(rel);
      else next.add(rel);
      return next;
    });

  return (
    <section aria-labelledby="artifacts-h" className="card">
      <h2 id="artifacts-h">Artifacts</h2>
      {root === undefined ? (
        <p className="muted">
          This run keeps its artifacts at <code>{run.info.artifact_uri}</code>, which this server does not serve.
        </p>
      ) : (
        <div className="artifacts">
          <nav className="artifact-tree" aria-label="Artifact files">
            <ArtifactDir root={root} rel="" open={open} selected={selected} onToggle={toggle} onSelect={select} />
          </nav>
          <div className="artifact-preview" data-testid="artifact-preview">
            {selected ? <ArtifactPreview root={root} rel={selected} /> : <p className="muted">Choose a file to preview it.</p>}
          </div>
        </div>
      )}
    </section>
  );
}

interface DirProps {
  root: string;
  rel: string;
  open: Set<string>;
  selected?: string;
  onToggle(rel: string): void;
  onSelect(rel: string): void;
}

function ArtifactDir({ root, rel, open, selected, onToggle, onSelect }: DirProps) {
  const list = useArtifactDir(root, rel);
  if (list.isError) return <ErrorBanner error={list.error} what="Cannot list the artifacts" />;
  if (!list.data) return <p className="muted tree-note">Loading…</p>;
  if (list.data.length === 0) return <p className="muted tree-note">{rel ? "Empty folder." : "This run has no artifacts."}</p>;
  const entries = [...list.data].sort((a, b) => Number(b.is_dir) - Number(a.is_dir) || a.name.localeCompare(b.name));
  return (
    <ul className="tree">
      {entries.map((e) => (
        <ArtifactEntry key={e.path} entry={e} rel={rel ? `${rel}/${e.name}` : e.name} root={root} open={open} selected={selected} onToggle={onToggle} onSelect={onSelect} />
      ))}
    </ul>
  );
}

function ArtifactEntry({ entry, rel, ...dir }: Omit<DirProps, "rel"> & { entry: ArtifactFile; rel: string }) {
  if (entry.is_dir) {
    const expanded = dir.open.has(rel);
    return (
      <li>
        <button type="button" className="tree-item dir" aria-expanded={expanded} onClick={() => dir.onToggle(rel)}>
          <span aria-hidden="true" className="tree-caret">
            {expanded ? "▾" : "▸"}
          </span>
          {entry.name}/
        </button>
        {expanded && <ArtifactDir {...dir} rel={rel} />}
      </li>
    );
  }
  const current = dir.selected === rel;
  return (
    <li>
      <button type="button" className="tree-item file" aria-current={current ? "true" : undefined} onClick={() => dir.onSelect(rel)} data-artifact={rel}>
        <span className="tree-name">{entry.name}</span>
        <span className="muted tree-size">{formatBytes(entry.file_size)}</span>
      </button>
    </li>
  );
}

/**
 * The chosen artifact: text as text, JSON pretty-printed, CSV as a table, images inline. Files past their
 * kind's preview size (or in a binary format) are offered for download instead of being read into the page.
 */
import { useQuery } from "@tanstack/react-query";
import { useEffect, useMemo, useState } from "react";
import { ErrorBanner } from "../../components/error-banner";
import { useClient } from "../../lib/api";
import { imageType, looksBinary, PREVIEW_LIMIT, previewKind } from "../../lib/artifact-kind";
import { formatBytes } from "../../lib/bytes";
import { delimiterFor, parseCsv } from "../../lib/csv";
import { useArtifactDir } from "./artifact-dir";

const CSV_ROWS = 500;

export function ArtifactPreview({ root, rel }: { root: string; rel: string }) {
  const client = useClient();
  const slash = rel.lastIndexOf("/");
  const parent = slash < 0 ? "" : rel.slice(0, slash);
  const name = rel.slice(slash + 1);
  const listing = useArtifactDir(root, parent);
  const file = listing.data?.find((f) => f.name === name && !f.is_dir);
  const path = `${root}/${rel}`;
  const kind = previewKind(name);
  const size = file?.file_size ?? 0;
  const fits = kind !== undefined && size <= PREVIEW_LIMIT[kind];
  const bytes = useQuery({
    queryKey: ["artifact-bytes", path, size],
    queryFn: async ({ signal }) => {
      const { stream } = await client.downloadArtifact(path, { signal });
      return new Uint8Array(await new Response(stream).arrayBuffer());
    },
    enabled: file !== undefined && fits,
    staleTime: 60_000,
    gcTime: 30_000,
  });

  if (listing.isError) return <ErrorBanner error={listing.error} what="Cannot list the artifacts" />;
  if (!listing.data) return <p className="muted">Loading…</p>;
  if (!file) return <p className="muted">This run has no file at {rel}.</p>;

  let body: React.ReactNode;
  if (kind === undefined) body = <p className="muted">A binary file: download it to open it.</p>;
  else if (!fits) body = <p className="muted">Too large to preview here (previews go up to {formatBytes(PREVIEW_LIMIT[kind])}): download it instead.</p>;
  else if (bytes.isError) body = <ErrorBanner error={bytes.error} what="Cannot read the file" />;
  else if (!bytes.data) body = <p className="muted">Loading…</p>;
  else if (kind === "image") body = <ImagePreview bytes={bytes.data} name={name} />;
  else if (looksBinary(bytes.data)) body = <p className="muted">Not text: download it to open it.</p>;
  else if (kind === "json") body = <JsonPreview bytes={bytes.data} />;
  else if (kind === "csv") body = <CsvPreview bytes={bytes.data} name={name} />;
  else body = <pre className="preview-text">{decode(bytes.data)}</pre>;

  return (
    <div className="preview">
      <header className="preview-head">
        <h3 className="mono">{rel}</h3>
        <span className="muted">{formatBytes(file.file_size)}</span>
        <span className="grow" />
        <DownloadButton path={path} name={name} />
      </header>
      {body}
    </div>
  );
}

const decode = (b: Uint8Array) => new TextDecoder().decode(b);

function JsonPreview({ bytes }: { bytes: Uint8Array }) {
  const shown = useMemo(() => {
    const text = decode(bytes);
    try {
      return { text: JSON.stringify(JSON.parse(text), null, 2) };
    } catch (err) {
      return { text, problem: (err as Error).message };
    }
  }, [bytes]);
  return (
    <>
      {shown.problem && <p className="muted">Not valid JSON ({shown.problem}); shown as text.</p>}
      <pre className="preview-text" data-testid="json-preview">
        {shown.text}
      </pre>
    </>
  );
}

function CsvPreview({ bytes, name }: { bytes: Uint8Array; name: string }) {
  const { rows, truncated } = useMemo(() => parseCsv(decode(bytes), { delimiter: delimiterFor(name), maxRows: CSV_ROWS + 1 }), [bytes, name]);
  const [head, ...body] = rows;
  if (!head) return <p className="muted">Empty file.</p>;
  return (
    <div className="preview-table">
      <table className="table compact" data-testid="csv-preview">
        <thead>
          <tr>
            {head.map((h, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: columns are positional
              <th scope="col" key={i}>
                {h}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {body.map((r, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: rows are positional
            <tr key={i}>
              {r.map((v, j) => (
                // biome-ignore lint/suspicious/noArrayIndexKey: columns are positional
                <td key={j} className="mono">
                  {v}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      <p className="muted">{truncated ? `Showing the first ${CSV_ROWS} rows; download the file for the rest.` : `${body.length} rows.`}</p>
    </div>
  );
}

function ImagePreview({ bytes, name }: { bytes: Uint8Array; name: string }) {
  const [url, setUrl] = useState<string>();
  useEffect(() => {
    const u = URL.createObjectURL(new Blob([bytes as BlobPart], { type: imageType(name) }));
    setUrl(u);
    return () => URL.revokeObjectURL(u);
  }, [bytes, name]);
  return url ? <img className="preview-image" src={url} alt={`Artifact ${name}`} /> : null;
}

/** Streams the file through the SDK (credentials included) into a file the browser saves. */
function DownloadButton({ path, name }: { path: string; name: string }) {
  const client = useClient();
  const [progress, setProgress] = useState<number>();
  const [error, setError] = useState<unknown>();
  const busy = progress !== undefined;
  const download = async () => {
    setError(undefined);
    setProgress(0);
    try {
      const { stream } = await client.downloadArtifact(path, { onProgress: (p) => setProgress(p.total ? p.loaded / p.total : 0) });
      const url = URL.createObjectURL(await new Response(stream).blob());
      const a = document.createElement("a");
      a.href = url;
      a.download = name;
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 30_000);
    } catch (err) {
      setError(err);
    } finally {
      setProgress(undefined);
    }
  };
  return (
    <>
      <button type="button" className="secondary" onClick={() => void download()} disabled={busy}>
        {busy ? `Downloading… ${Math.round((progress ?? 0) * 100)}%` : "Download"}
        <span className="visually-hidden"> {name}</span>
      </button>
      {error !== undefined && <ErrorBanner error={error} what="Download failed" />}
    </>
  );
}

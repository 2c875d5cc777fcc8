/** The datasets a run logged as inputs (MLflow's log-inputs): name, digest, source, context, and the schema and profile when given. */
import type { DatasetInput } from "@keel/sdk";
import { TableHead } from "../../components/table-head";

function parsed(text: string | undefined): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** A dataset source as MLflow writes it (`{"uri": …}`, `{"url": …}`, a table name …), else the raw text. */
function sourceText(source: string): string {
  const v = parsed(source);
  if (v && typeof v === "object" && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    for (const k of ["uri", "url", "path", "table_name", "sql"]) if (typeof o[k] === "string") return o[k] as string;
  }
  return source;
}

interface Column {
  name?: string;
  type: string;
  required?: boolean;
}

/** MLflow's column spec (`{"mlflow_colspec": [...]}`) as columns; undefined for other schemas (shown as JSON). */
function columns(schema: unknown): Column[] | undefined {
  const spec = schema && typeof schema === "object" ? (schema as { mlflow_colspec?: unknown }).mlflow_colspec : undefined;
  if (!Array.isArray(spec)) return undefined;
  return spec.map((c) => {
    const o = (c ?? {}) as Record<string, unknown>;
    return { name: typeof o.name === "string" ? o.name : undefined, type: typeof o.type === "string" ? o.type : JSON.stringify(o.type), required: typeof o.required === "boolean" ? o.required : undefined };
  });
}

export function RunInputs({ inputs }: { inputs: DatasetInput[] }) {
  return (
    <section aria-labelledby="inputs-h" className="card">
      <h2 id="inputs-h">Inputs ({inputs.length})</h2>
      {inputs.length === 0 ? (
        <p className="muted">This run logged no datasets.</p>
      ) : (
        <div className="datasets">
          {inputs.map((input) => (
            <DatasetCard key={`${input.dataset.name}:${input.dataset.digest}:${contextOf(input) ?? ""}`} input={input} />
          ))}
        </div>
      )}
    </section>
  );
}

const contextOf = (i: DatasetInput) => i.tags?.find((t) => t.key === "mlflow.data.context")?.value;

function DatasetCard({ input }: { input: DatasetInput }) {
  const d = input.dataset;
  const context = contextOf(input);
  const schema = parsed(d.schema);
  const cols = columns(schema);
  const profile = parsed(d.profile);
  return (
    <article className="dataset" aria-label={`Dataset ${d.name}`} data-dataset={d.name}>
      <h3>
        {d.name} {context && <span className="badge">{context}</span>}
      </h3>
      <dl className="overview">
        <dt>Digest</dt>
        <dd className="mono">{d.digest}</dd>
        <dt>Source</dt>
        <dd>
          <span className="mono">{sourceText(d.source)}</span> <span className="muted">({d.source_type})</span>
        </dd>
        {profile !== undefined && (
          <>
            <dt>Profile</dt>
            <dd>
              {profile && typeof profile === "object" && !Array.isArray(profile) ? (
                Object.entries(profile as Record<string, unknown>).map(([k, v]) => (
                  <span key={k} className="kv-pair">
                    {k.replace(/_/g, " ")}: <span className="mono">{typeof v === "object" ? JSON.stringify(v) : String(v)}</span>
                  </span>
                ))
              ) : (
                <span className="mono">{String(profile)}</span>
              )}
            </dd>
          </>
        )}
      </dl>
      {cols ? (
        <details>
          <summary>Schema ({cols.length} columns)</summary>
          <table className="table compact">
            <TableHead columns={["Column", "Type", "Required"]} />
            <tbody>
              {cols.map((c, i) => (
                <tr key={c.name ?? i}>
                  <td className="mono">{c.name ?? `#${i}`}</td>
                  <td className="mono">{c.type}</td>
                  <td>{c.required === undefined ? "—" : c.required ? "yes" : "no"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </details>
      ) : (
        schema !== undefined && (
          <details>
            <summary>Schema</summary>
            <pre className="preview-text">{typeof schema === "string" ? schema : JSON.stringify(schema, null, 2)}</pre>
          </details>
        )
      )}
    </article>
  );
}

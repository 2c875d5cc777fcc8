/** A version's signature as Keel captured it at registration: inputs and outputs with names, element types and shapes. */
import type { SignatureValue, VersionSignature } from "@keel/sdk";
import { useQuery } from "@tanstack/react-query";
import { ErrorBanner } from "../../components/error-banner";
import { useClient } from "../../lib/api";
import { TableHead } from "../../components/table-head";

/** [-1, 4] → "? × 4"; named dimensions keep their names. */
export function formatShape(shape: SignatureValue["shape"]): string {
  if (!shape) return "any";
  if (shape.length === 0) return "scalar";
  return shape.map((d) => (d === null || d === -1 || d === "" ? "?" : String(d))).join(" × ");
}

export function SignatureCard({ model, version }: { model: string; version: string }) {
  const client = useClient();
  const sig = useQuery({ queryKey: ["signature", model, version], queryFn: ({ signal }) => client.modelVersionSignature(model, version, { signal }) });
  return (
    <section aria-labelledby="signature-h" className="card">
      <h2 id="signature-h">Signature</h2>
      {sig.isError && <ErrorBanner error={sig.error} what="Cannot read the signature" />}
      {sig.data && <SignatureBody sig={sig.data} />}
    </section>
  );
}

/** "ONNX IR 8, opset 13, produced by keel 1.2": the producer's name and version only where the file names them. */
export function onnxDetails(onnx: NonNullable<VersionSignature["onnx"]>): string {
  const producer = [onnx.producer.name, onnx.producer.version].map((s) => s.trim()).filter(Boolean).join(" ");
  return `ONNX IR ${onnx.ir_version}, opset ${onnx.opset ?? "?"}${producer ? `, produced by ${producer}` : ""}`;
}

function SignatureBody({ sig }: { sig: VersionSignature }) {
  if (sig.source === "none") return <p className="muted">No signature was captured for this version{sig.error ? `: ${sig.error}` : "."}</p>;
  return (
    <>
      <p className="muted">
        From {sig.source === "onnx" ? "the ONNX file" : "the MLmodel file"}
        {sig.file ? <span className="mono"> {sig.file}</span> : null}
        {sig.onnx ? ` (${onnxDetails(sig.onnx)})` : ""}.
      </p>
      <div className="two-col">
        <SignatureTable title="Inputs" values={sig.inputs} />
        <SignatureTable title="Outputs" values={sig.outputs} />
      </div>
    </>
  );
}

function SignatureTable({ title, values }: { title: string; values: SignatureValue[] }) {
  return (
    <table className="table compact" aria-label={`Signature ${title.toLowerCase()}`} data-testid={`signature-${title.toLowerCase()}`}>
      <caption className="caption-left">{title}</caption>
      <TableHead columns={["Name", "Type", "Shape"]} />
      <tbody>
        {values.map((v, i) => (
          <tr key={v.name ?? i}>
            <td className="mono">{v.name ?? `#${i}`}</td>
            <td className="mono">
              {v.dtype}
              {v.datatype && v.datatype !== v.dtype ? <span className="muted"> ({v.datatype})</span> : null}
            </td>
            <td className="mono">{formatShape(v.shape)}</td>
          </tr>
        ))}
        {values.length === 0 && (
          <tr>
            <td colSpan={3} className="muted">
              None.
            </td>
          </tr>
        )}
      </tbody>
    </table>
  );
}

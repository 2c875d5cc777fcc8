import { invalidParam } from "../core/errors.js";

/**
 * THE check for every path or URI a user hands us that names artifact bytes. Every route that touches an
 * artifact calls `checkArtifactPath` (a relative path) or `resolveArtifactUri` (a URI such as a run's
 * artifact_uri or a model version's source) and passes only the result to an ArtifactStore. Both refuse
 * rather than repair: a path that needs normalising is a mistake or an attack, and either way the caller
 * learns exactly what to fix. See ../shared/contracts/security-payloads.md for the shapes this stops.
 */

export const MAX_ARTIFACT_PATH = 4096;

/** Percent-escapes that survive the one decoding HTTP did: double-encoded input. */
const LEFTOVER_ESCAPE = /%[0-9a-fA-F]{2}/;
/** A Windows drive or UNC root. */
const DRIVE = /^[a-zA-Z]:/;

/**
 * A relative artifact path: POSIX separators, no empty, "." or ".." segments, no leading "/", no
 * backslash, no drive letter, no control characters, no percent-escapes left after HTTP's decoding.
 * `allowEmpty` for listing the root. Returns the path unchanged (a trailing "/" dropped).
 */
export function checkArtifactPath(raw: unknown, field = "path", allowEmpty = false): string {
  if (raw === undefined || raw === null || raw === "") {
    if (allowEmpty) return "";
    throw invalidParam(`Missing value for required parameter '${field}': the artifact path.`);
  }
  if (typeof raw !== "string") throw invalidParam(`'${field}' must be a string path; got ${typeof raw}.`);
  const bad = (why: string) => invalidParam(`Invalid artifact path '${clip(raw)}' in '${field}': ${why}.`);
  if (raw.length > MAX_ARTIFACT_PATH) throw bad(`longer than ${MAX_ARTIFACT_PATH} characters`);
  if (/[\u0000-\u001f\u007f]/.test(raw)) throw bad("control characters are not allowed");
  if (raw.includes("\\")) throw bad("use '/' as the separator; backslashes are not allowed");
  if (raw.startsWith("/")) throw bad("it must be relative (no leading '/')");
  if (DRIVE.test(raw)) throw bad("it must be relative (no drive letter)");
  if (/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(raw)) throw bad("a URI is not a path; give the path relative to the artifact root");
  if (LEFTOVER_ESCAPE.test(raw)) throw bad("it still contains percent-encoded characters after decoding (double encoding?)");
  const path = raw.endsWith("/") ? raw.slice(0, -1) : raw;
  for (const seg of path.split("/")) {
    if (seg === "") throw bad("empty path segments ('//') are not allowed");
    if (seg === "." || seg === "..") throw bad("'.' and '..' segments are not allowed");
    // "C:" anywhere would turn into a drive on a Windows store or client that joins the path.
    if (/^[a-zA-Z]:$/.test(seg)) throw bad("drive letters are not allowed in path segments");
  }
  return path;
}

/** A path under a prefix: both already checked. */
export function joinArtifactPath(prefix: string, rest: string): string {
  return prefix && rest ? `${prefix}/${rest}` : prefix || rest;
}

/**
 * The store-relative path an artifact URI names, or a 400. Only URIs this server serves are accepted:
 * `mlflow-artifacts:/<path>` (also with an authority, `mlflow-artifacts://host/<path>`, as clients write
 * it) and `runs:/<run_id>/<path>` (resolved through `runArtifactRoot`). Anything else (file://, http(s)://
 * (server-side request forgery), s3://, absolute or relative local paths) is refused: this server only
 * reads bytes it stores itself.
 */
export async function resolveArtifactUri(
  uri: unknown,
  field: string,
  runArtifactRoot: (runId: string) => Promise<string>,
): Promise<string> {
  if (typeof uri !== "string" || uri === "") throw invalidParam(`Missing value for required parameter '${field}'.`);
  const bad = (why: string) => invalidParam(`Invalid ${field} '${clip(uri)}': ${why}.`);
  if (uri.length > MAX_ARTIFACT_PATH + 64) throw bad("too long");
  if (/[?#]/.test(uri)) throw bad("query strings and fragments are not allowed in artifact URIs");
  const proxied = proxiedArtifactPath(uri, field);
  if (proxied !== undefined) return proxied;
  const m = /^runs:\/([0-9a-f]{32})(?:\/(.*))?$/.exec(uri);
  if (m) {
    const root = await runArtifactRoot(m[1]);
    return joinArtifactPath(root, checkArtifactPath(decodeOnce(m[2] ?? "", bad), field, true));
  }
  throw bad("only mlflow-artifacts:/… and runs:/<run_id>/… URIs are served by this server (no file://, http(s)://, s3:// or local paths)");
}

/**
 * The checked store path an `mlflow-artifacts:/<path>` URI names ("" for the root), or undefined when the URI
 * has another scheme. The one parser of such URIs: routes, the registry and gc all read them through it.
 */
export function proxiedArtifactPath(uri: string, field: string): string | undefined {
  const m = /^mlflow-artifacts:(?:\/\/[^/]*)?\/(.*)$/.exec(uri);
  if (!m) return undefined;
  return checkArtifactPath(
    decodeOnce(m[1], (why) => invalidParam(`Invalid ${field} '${clip(uri)}': ${why}.`)),
    field,
    true,
  );
}

/** URIs are percent-encoded once; decoding must succeed and leave no further escapes (checked by checkArtifactPath). */
function decodeOnce(s: string, bad: (why: string) => Error): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw bad("malformed percent-encoding");
  }
}

function clip(s: string): string {
  const shown = s.length > 200 ? `${s.slice(0, 200)}…` : s;
  return shown.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import { Command, Option } from "commander";
import { type ArtifactFile, KeelApiError, type KeelClient } from "../sdk/index.js";
import { fileStream, sha256, stateDir, writeFileAtomic, writeStreamToFile } from "./files.js";
import { startProgress } from "./progress.js";
import { action, bytesArg, clientFor, formatBytes, printJson, printTable, type RemoteOptions, remote, UsageError } from "./remote.js";
import { crashPoint } from "./test-hooks.js";

const MiB = 1024 * 1024;
/** S3 allows at most 10000 parts; bigger files get bigger parts. */
const MAX_PARTS = 10_000;

/** Artifact paths as the user gives them: relative, '/'-separated, no leading or trailing '/'. */
function cleanArtifactPath(p: string | undefined): string {
  const s = (p ?? "").replace(/^\/+|\/+$/g, "");
  if (s.split("/").some((seg) => seg === "..")) throw new UsageError(`artifact paths may not contain '..': '${p}'.`);
  return s;
}

const join2 = (a: string, b: string) => (a && b ? `${a}/${b}` : a || b);

/** Files under a local directory, sorted, as [absolute path, '/'-separated relative path]. */
function localFiles(dir: string, rel = ""): [string, string][] {
  const out: [string, string][] = [];
  for (const e of readdirSync(join(dir, rel), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...localFiles(dir, r));
    else if (e.isFile()) out.push([join(dir, r), r]);
  }
  return out;
}

interface UploadNote {
  uploadId: string;
  partSize: number;
}

/**
 * Uploads one local file: a single streamed PUT below the threshold, else a multipart upload whose id is
 * noted under the state dir until it completes, so running the same command again resumes it.
 */
export async function uploadFile(
  client: KeelClient,
  file: string,
  dest: string,
  opts: { threshold: number; partSize: number; onProgress?: (loaded: number) => void; onResume?: (parts: number) => void },
): Promise<{ size: number; multipart: boolean; resumedParts: number }> {
  const st = statSync(file);
  const size = st.size;
  if (size < opts.threshold) {
    await client.uploadArtifact(dest, fileStream(file), { size, onProgress: (p) => opts.onProgress?.(p.loaded) });
    return { size, multipart: false, resumedParts: 0 };
  }
  const notePath = stateDir("uploads", `${sha256(JSON.stringify([client.base, dest, resolve(file), size, st.mtimeMs]))}.json`);
  let note: UploadNote | undefined;
  try {
    note = JSON.parse(readFileSync(notePath, "utf8")) as UploadNote;
  } catch {}
  const partSize = note?.partSize ?? Math.max(opts.partSize, Math.ceil(size / MAX_PARTS));
  const r = await client.uploadArtifactMultipart(dest, {
    size,
    partSize,
    uploadId: note?.uploadId,
    onUploadId: (uploadId) => writeFileAtomic(notePath, JSON.stringify({ uploadId, partSize } satisfies UploadNote)),
    readPart: (start, end) => fileStream(file, start, end),
    onPartDone: () => crashPoint("upload-part"),
    onProgress: (p) => opts.onProgress?.(p.loaded),
  });
  if (r.reused) opts.onResume?.(r.reused);
  rmSync(notePath, { force: true });
  return { size, multipart: true, resumedParts: r.reused };
}

/**
 * Downloads one artifact to `target`, through `<target>.part`: an existing .part is resumed with a Range
 * request; the finished file is renamed into place, so `target` is only ever a whole file.
 */
export async function downloadFile(
  client: KeelClient,
  path: string,
  target: string,
  onProgress?: (loaded: number, total?: number) => void,
): Promise<{ size: number; resumedFrom: number }> {
  mkdirSync(dirname(target), { recursive: true });
  const part = `${target}.part`;
  const have = existsSync(part) ? statSync(part).size : 0;
  const progress = (p: { loaded: number; total?: number }) => onProgress?.(p.loaded, p.total);
  let dl: Awaited<ReturnType<KeelClient["downloadArtifact"]>>;
  try {
    dl = await client.downloadArtifact(path, { start: have, onProgress: progress });
  } catch (err) {
    // A .part longer than the artifact belongs to another version of the file: start over.
    if (!(have > 0 && err instanceof KeelApiError && err.status === 416)) throw err;
    dl = await client.downloadArtifact(path, { onProgress: progress });
  }
  // From byte 0 (a fresh download, or a server that ignored the range) the .part is rewritten.
  const written = await writeStreamToFile(dl.stream, part, dl.start > 0);
  const size = statSync(part).size;
  if (dl.size >= 0 && size !== dl.size) throw new Error(`download of '${path}' ended at ${size} of ${dl.size} bytes; run the command again to resume.`);
  renameSync(part, target);
  return { size: dl.start + written, resumedFrom: dl.start };
}

/** `keel artifacts list|upload|download` through the server's artifact proxy. */
export function artifactsCommand(): Command {
  const cmd = new Command("artifacts").description("List, upload and download a run's artifacts (through the server's artifact proxy)");

  remote(cmd.command("list").description("List a run's artifacts (a directory's entries, or everything with --recursive)").argument("<run-id>").argument("[path]", "directory inside the run's artifacts"))
    .option("-r, --recursive", "list every file below the directory", false)
    .action(
      action("artifacts list", async (o: RemoteOptions & { recursive: boolean }, runId, path) => {
        const client = clientFor(o.serverUrl);
        const root = await client.runArtifactRoot(runId);
        const dir = join2(root, cleanArtifactPath(path));
        const entries: ArtifactFile[] = [];
        if (o.recursive) for await (const f of client.walkArtifacts(dir)) entries.push(f);
        else entries.push(...(await client.listArtifacts(dir)));
        const rel = (p: string) => p.slice(root.length + 1);
        if (o.json) printJson(entries.map((e) => ({ path: rel(e.path), is_dir: e.is_dir, ...(e.file_size !== undefined ? { file_size: e.file_size } : {}) })));
        else
          printTable(
            ["PATH", "SIZE"],
            entries.map((e) => [e.is_dir ? `${rel(e.path)}/` : rel(e.path), e.is_dir ? "" : formatBytes(e.file_size)]),
            "(no artifacts)",
          );
      }),
    );

  remote(
    cmd
      .command("upload")
      .description("Upload a file, or a directory's files, into a run's artifacts (large files in resumable multipart uploads)")
      .argument("<run-id>")
      .argument("<local-path>", "file or directory")
      .argument("[artifact-dir]", "directory inside the run's artifacts (default: the root)"),
  )
    .addOption(new Option("--multipart-threshold <size>", "files this big or bigger go up in parts").default(100 * MiB, "100MiB").argParser(bytesArg("--multipart-threshold")))
    .addOption(new Option("--part-size <size>", "bytes per part of a multipart upload").default(16 * MiB, "16MiB").argParser(bytesArg("--part-size")))
    .option("--no-progress", "no progress bar")
    .action(
      action(
        "artifacts upload",
        async (o: RemoteOptions & { multipartThreshold: number; partSize: number; progress: boolean }, runId, localPath, artifactDir) => {
          if (!existsSync(localPath)) throw new UsageError(`no such file or directory: ${localPath}`);
          const client = clientFor(o.serverUrl);
          const root = await client.runArtifactRoot(runId);
          const dir = cleanArtifactPath(artifactDir);
          const files: [string, string][] = statSync(localPath).isDirectory()
            ? localFiles(localPath).map(([abs, rel]) => [abs, join2(dir, rel)])
            : [[localPath, join2(dir, basename(localPath))]];
          const total = files.reduce((n, [abs]) => n + statSync(abs).size, 0);
          const bar = startProgress("upload", total, { bytes: true, enabled: o.progress });
          const done: { path: string; size: number; multipart: boolean; resumed_parts: number }[] = [];
          let base = 0;
          try {
            for (const [abs, rel] of files) {
              const r = await uploadFile(client, abs, join2(root, rel), {
                threshold: o.multipartThreshold,
                partSize: o.partSize,
                onProgress: (loaded) => bar.update(base + loaded, rel),
                onResume: (n) => console.error(`resumed the upload of ${rel}: ${n} part(s) were already there`),
              });
              base += r.size;
              bar.update(base, rel);
              done.push({ path: rel, size: r.size, multipart: r.multipart, resumed_parts: r.resumedParts });
            }
          } finally {
            bar.stop();
          }
          if (o.json) printJson({ run_id: runId, files: done });
          else console.log(`Uploaded ${done.length} file(s), ${formatBytes(base)}, to run ${runId}${dir ? ` under ${dir}/` : ""}.`);
        },
      ),
    );

  remote(
    cmd
      .command("download")
      .description("Download a run's artifact file or directory (an interrupted download resumes from its .part file)")
      .argument("<run-id>")
      .argument("[artifact-path]", "file or directory inside the run's artifacts (default: all of them)"),
  )
    .option("-d, --dest <dir>", "local directory; files keep their artifact paths below it", ".")
    .option("--no-progress", "no progress bar")
    .action(
      action("artifacts download", async (o: RemoteOptions & { dest: string; progress: boolean }, runId, artifactPath) => {
        const client = clientFor(o.serverUrl);
        const root = await client.runArtifactRoot(runId);
        const rel = cleanArtifactPath(artifactPath);
        const full = join2(root, rel);
        let files: { path: string; size?: number }[] = [];
        const listed = await client.listArtifacts(full);
        if (listed.length || rel === "") {
          for await (const f of client.walkArtifacts(full)) files.push({ path: f.path, size: f.file_size });
        } else {
          const parent = full.slice(0, full.lastIndexOf("/"));
          const entry = (await client.listArtifacts(parent)).find((e) => e.path === full && !e.is_dir);
          if (!entry) throw new KeelApiError(404, "RESOURCE_DOES_NOT_EXIST", `Run ${runId} has no artifact '${rel}'.`);
          files = [{ path: full, size: entry.file_size }];
        }
        const dest = resolve(o.dest);
        const total = files.reduce((n, f) => n + (f.size ?? 0), 0);
        const bar = startProgress("download", total, { bytes: true, enabled: o.progress });
        const done: { path: string; local_path: string; size: number; resumed_from: number }[] = [];
        let base = 0;
        try {
          for (const f of files) {
            const relPath = f.path.slice(root.length + 1);
            const target = resolve(dest, ...relPath.split("/"));
            if (!target.startsWith(dest + sep)) throw new Error(`refusing to write '${relPath}' outside ${dest}.`);
            const r = await downloadFile(client, f.path, target, (loaded) => bar.update(base + loaded, relPath));
            if (r.resumedFrom > 0) console.error(`resumed ${relPath} at byte ${r.resumedFrom}`);
            base += r.size;
            bar.update(base, relPath);
            done.push({ path: relPath, local_path: relative(process.cwd(), target) || target, size: r.size, resumed_from: r.resumedFrom });
          }
        } finally {
          bar.stop();
        }
        if (o.json) printJson({ run_id: runId, files: done });
        else console.log(`Downloaded ${done.length} file(s), ${formatBytes(base)}, to ${o.dest}.`);
      }),
    );
  return cmd;
}

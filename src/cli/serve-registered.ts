import type { KeelClient } from "../sdk/client.js";
import { proxiedArtifactPath } from "../sdk/client.js";
import type { BatchingSettings } from "../serving/batched-runtime.js";
import { ONNX_PLATFORM, runner } from "../serving/local-model.js";
import type { InputPolicy, ServedModel } from "../serving/model.js";
import { ModelRuntime, type RuntimeOptions } from "../serving/runtime.js";

/** `models:/<name>@<alias>` (follows the alias) or `models:/<name>/<version>` (pinned). */
export interface RegisteredRef {
  name: string;
  alias?: string;
  version?: string;
}

export function parseModelsUri(uri: string): RegisteredRef | undefined {
  const m = /^models:\/([^@/]{1,256})(?:@([A-Za-z0-9_-]{1,255})|\/(\d{1,10}))$/.exec(uri);
  if (!m) return undefined;
  return m[2] !== undefined ? { name: m[1], alias: m[2] } : { name: m[1], version: m[3] };
}

async function resolve(client: KeelClient, ref: RegisteredRef): Promise<string> {
  return ref.alias !== undefined ? (await client.getModelVersionByAlias(ref.name, ref.alias)).version : (ref.version as string);
}

/** The version's .onnx bytes, found by the signature Keel captured at registration and read through the artifact proxy. */
async function fetchOnnx(client: KeelClient, name: string, version: string): Promise<Uint8Array> {
  const sig = await client.modelVersionSignature(name, version);
  if (sig.source !== "onnx" || sig.file === undefined) throw new Error(`models:/${name}/${version} has no .onnx file to serve${sig.error ? ` (${sig.error})` : ""}.`);
  let stream: ReadableStream<Uint8Array>;
  if (sig.file === "") {
    // The version's source is the .onnx file itself: fetch it through the artifact proxy.
    const path = proxiedArtifactPath(await client.getModelVersionDownloadUri(name, version));
    if (path === undefined) throw new Error(`models:/${name}/${version} names a single file outside this server's artifact proxy; download it and serve the file.`);
    stream = (await client.downloadArtifact(path)).stream;
  } else {
    stream = await client.downloadModelVersionFile(name, version, sig.file);
  }
  const chunks: Uint8Array[] = [];
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

export interface RegisteredServing {
  model: ServedModel;
  version(): string;
  /** Long-polls the server's registry feed and swaps in the alias's new version (load, warm up, switch, drain the old one). */
  follow(log: { info(o: unknown, m: string): void; warn(o: unknown, m: string): void }): void;
  stop(): Promise<void>;
}

/** Serves a registered model fetched from a Keel server; with an alias, follows it. */
export async function serveRegistered(
  client: KeelClient,
  ref: RegisteredRef,
  served: string,
  runtimeOptions: RuntimeOptions,
  inputPolicy: InputPolicy,
  batching?: BatchingSettings,
): Promise<RegisteredServing> {
  let version = await resolve(client, ref);
  let runtime = await ModelRuntime.load({ bytes: await fetchOnnx(client, ref.name, version) }, runtimeOptions);
  let run = runner(runtime, served, batching);
  const abort = new AbortController();
  let stopped = false;
  const model: ServedModel = {
    name: served,
    get versions() {
      return [version];
    },
    inputPolicy,
    metadata: () => ({ name: served, versions: [version], platform: ONNX_PLATFORM, inputs: runtime.inputs, outputs: runtime.outputs }),
    ready: () => !stopped,
    infer: (inputs, o) => run.infer(inputs, { outputs: o.outputs, deadline: o.deadline }),
    saturated: () => run.saturated?.() ?? false,
  };
  return {
    model,
    version: () => version,
    follow(log) {
      if (ref.alias === undefined) return;
      void (async () => {
        // From the start of the feed: the first pages catch up at once (nothing to swap), then the reader waits.
        let after = 0;
        for (;;) {
          if (stopped) return;
          try {
            // Catch up to the newest event first, then wait for the next ones.
            const page = await client.events({ after, limit: 500, waitMs: 20_000, signal: abort.signal });
            after = page.next_after ?? after;
            if (!page.events.some((e) => e.name === ref.name)) continue;
            const next = await resolve(client, ref);
            if (next === version) continue;
            const fresh = await ModelRuntime.load({ bytes: await fetchOnnx(client, ref.name, next) }, runtimeOptions);
            const old = run;
            runtime = fresh;
            run = runner(fresh, served, batching);
            log.info({ model: ref.name, alias: ref.alias, from: version, to: next }, "alias moved: new version swapped in");
            version = next;
            void old.retire();
          } catch (err) {
            if (stopped) return;
            log.warn({ err: (err as Error).message }, "following the alias failed; retrying in 2 s");
            await new Promise((r) => setTimeout(r, 2000));
          }
        }
      })();
    },
    async stop() {
      stopped = true;
      abort.abort();
      await run.retire();
    },
  };
}

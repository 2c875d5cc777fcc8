/**
 * Typed client for a Keel server, shared by the CLI, the UI and users: tracking, the model registry, the
 * artifact proxy (streaming, ranged and multipart transfers with progress), Keel's own API and
 * administration. Built on `fetch` with no dependencies and no Node modules, so the same code runs in Node
 * and in browsers. It speaks MLflow's REST API, so it also reads a stock MLflow tracking server
 * (`keel import mlflow` uses it that way). Errors carry the server's MLflow-style error code.
 */
import { KeelApiError, KeelNetworkError } from "./errors.js";
import { base64Utf8, bodySize, counted, emptyStream, toStream } from "./streams.js";
import type {
  ApiToken,
  ArtifactFile,
  AuditPage,
  AuditRecord,
  AuditVerification,
  ComparedSeries,
  DatasetInput,
  DatasetSummary,
  Deployment,
  DeploymentSpecInput,
  DeploymentStats,
  EventsPage,
  Experiment,
  Group,
  KeyValue,
  Lineage,
  ModelVersion,
  MultipartCredential,
  OipInferResponse,
  OipTensor,
  PermissionLevel,
  PredictionEntry,
  ProgressCallback,
  RegisteredModel,
  ResourceAccess,
  RunInfo,
  UploadBody,
  UploadedPart,
  User,
  UserDetail,
  VersionSignature,
  ViewType,
  Whoami,
  WireMetric,
  WireRun,
} from "./types.js";

export { KeelApiError, KeelNetworkError } from "./errors.js";
export type { ComparedSeries, WireMetric, WireRun } from "./types.js";

export interface KeelClientOptions {
  /** Base URL of the server, e.g. http://127.0.0.1:5000 */
  url: string;
  /** Bearer token, sent as MLflow's client does (MLFLOW_TRACKING_TOKEN). Wins over username/password. */
  token?: string;
  /** HTTP Basic credentials (MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD). */
  username?: string;
  password?: string;
  /** Extra headers on every request to this server. */
  headers?: Record<string, string>;
  fetch?: typeof fetch;
}

type Env = Record<string, string | undefined>;
const processEnv = (): Env => (typeof process !== "undefined" && process.env ? process.env : {});

/** --server-url, else KEEL_SERVER_URL, else MLFLOW_TRACKING_URI, else the local default. */
export function resolveServerUrl(flag?: string, env: Env = processEnv()): string {
  return flag || env.KEEL_SERVER_URL || env.MLFLOW_TRACKING_URI || "http://127.0.0.1:5000";
}

/** Credentials as the MLflow client reads them: KEEL_TOKEN, else MLFLOW_TRACKING_TOKEN; else MLFLOW_TRACKING_USERNAME/PASSWORD. */
export function credentialsFromEnv(env: Env = processEnv()): Pick<KeelClientOptions, "token" | "username" | "password"> {
  const token = env.KEEL_TOKEN || env.MLFLOW_TRACKING_TOKEN;
  if (token) return { token };
  if (env.MLFLOW_TRACKING_USERNAME) return { username: env.MLFLOW_TRACKING_USERNAME, password: env.MLFLOW_TRACKING_PASSWORD ?? "" };
  return {};
}

export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export const MLFLOW_API = "/api/2.0/mlflow";
export const ARTIFACTS_API = "/api/2.0/mlflow-artifacts";
export const KEEL_API = "/api/keel/v1";

/**
 * The proxy path (`<experiment_id>/<run_id>/artifacts`) an `mlflow-artifacts:` URI names, or undefined for
 * any other scheme (s3://, file://, … : artifacts the server does not proxy).
 */
export function proxiedArtifactPath(uri: string): string | undefined {
  const m = /^mlflow-artifacts:(?:\/\/[^/]*)?\/(.*)$/.exec(uri);
  if (!m) return undefined;
  return decodeURIComponent(m[1]).replace(/\/+$/, "");
}

/** `a/b c/d` → `a/b%20c/d`: each segment encoded, separators kept. */
export function encodePath(path: string): string {
  return path.split("/").map(encodeURIComponent).join("/");
}

/** A string literal for MLflow's search filters. */
export function filterString(s: string): string {
  return `'${s.replace(/[\\']/g, (c) => `\\${c}`)}'`;
}

interface SearchQuery {
  filter?: string;
  orderBy?: string[];
  maxResults?: number;
  pageToken?: string;
  /** Abandons the request (a UI that moved on to another query). */
  signal?: AbortSignal;
}

/** `fetch` options a streaming request body needs (Node's undici requires `duplex`; browsers accept it). */
type StreamingInit = RequestInit & { duplex?: "half" };
type FetchBody = NonNullable<RequestInit["body"]>;

export class KeelClient {
  readonly base: string;
  private readonly origin: string;
  private readonly doFetch: typeof fetch;

  constructor(private readonly opts: KeelClientOptions) {
    this.base = opts.url.replace(/\/+$/, "");
    this.origin = new URL(this.base).origin;
    this.doFetch = opts.fetch ?? ((input, init) => fetch(input, init));
  }

  // ---- transport --------------------------------------------------------------------------------

  /** Credentials go only to this server's origin (never to a presigned URL elsewhere). */
  private headersFor(url: string, extra: Record<string, string> = {}): Record<string, string> {
    let sameOrigin = false;
    try {
      sameOrigin = new URL(url).origin === this.origin;
    } catch {}
    if (!sameOrigin) return extra;
    const h: Record<string, string> = { ...this.opts.headers, ...extra };
    if (this.opts.token) h.authorization = `Bearer ${this.opts.token}`;
    else if (this.opts.username !== undefined) h.authorization = `Basic ${base64Utf8(`${this.opts.username}:${this.opts.password ?? ""}`)}`;
    return h;
  }

  /** One HTTP exchange; failures to connect become KeelNetworkError naming the URL. Does not check the status. */
  async fetchRaw(method: HttpMethod, url: string, init: { headers?: Record<string, string>; body?: FetchBody | ReadableStream<Uint8Array>; signal?: AbortSignal } = {}): Promise<Response> {
    const req: StreamingInit = { method, headers: this.headersFor(url, init.headers), body: init.body as FetchBody | undefined, signal: init.signal };
    if (init.body instanceof ReadableStream) req.duplex = "half";
    try {
      return await this.doFetch(url, req);
    } catch (err) {
      if (init.signal?.aborted) throw err;
      throw new KeelNetworkError(url, err);
    }
  }

  /** A file inside a registered model version's artifacts (`path` relative to the version's source), as a byte stream. */
  async downloadModelVersionFile(name: string, version: string | number, path: string, opts: { signal?: AbortSignal } = {}): Promise<ReadableStream<Uint8Array>> {
    const url = this.url("/ajax-api/2.0/mlflow/model-versions/get-artifact", { name, version, path });
    const res = await this.check(await this.fetchRaw("GET", url, { signal: opts.signal }), "GET", url);
    if (!res.body) throw new KeelApiError(res.status, "EMPTY_BODY", "The server sent no body.", `GET ${url}`);
    return res.body;
  }

  /** Throws KeelApiError for a non-2xx answer, with the server's error_code and message. */
  private async check(res: Response, method: string, url: string): Promise<Response> {
    if (res.ok) return res;
    const text = await res.text().catch(() => "");
    let e: { error_code?: string; message?: string; error?: string } = {};
    try {
      e = text ? JSON.parse(text) : {};
    } catch {
      e = { message: text.slice(0, 500) };
    }
    const message = e.message ?? e.error ?? (res.statusText || `HTTP ${res.status}`);
    throw new KeelApiError(res.status, e.error_code ?? `HTTP_${res.status}`, message, `${method} ${url}`);
  }

  private url(path: string, query?: Record<string, unknown>): string {
    let url = `${this.base}${path}`;
    if (query) {
      const qs = new URLSearchParams();
      for (const [k, v] of Object.entries(query)) {
        if (v === undefined || v === null) continue;
        for (const x of Array.isArray(v) ? v : [v]) qs.append(k, String(x));
      }
      const s = qs.toString();
      if (s) url += `?${s}`;
    }
    return url;
  }

  /** A JSON request: GET sends `payload` as the query string, other methods as a JSON body. */
  async request<T>(method: HttpMethod, path: string, payload?: Record<string, unknown>, opts: { signal?: AbortSignal } = {}): Promise<T> {
    const url = this.url(path, method === "GET" ? payload : undefined);
    const json = method !== "GET";
    const res = await this.fetchRaw(method, url, {
      headers: json ? { "content-type": "application/json" } : {},
      body: json ? JSON.stringify(payload ?? {}) : undefined,
      signal: opts.signal,
    });
    await this.check(res, method, url);
    const text = await res.text();
    if (!text) return {} as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new KeelApiError(res.status, "INVALID_RESPONSE", `${method} ${url} answered something that is not JSON: ${text.slice(0, 200)}`, `${method} ${url}`);
    }
  }

  private mlflow<T>(method: HttpMethod, path: string, payload?: Record<string, unknown>, opts?: { signal?: AbortSignal }): Promise<T> {
    return this.request<T>(method, `${MLFLOW_API}${path}`, payload, opts);
  }

  private keel<T>(method: HttpMethod, path: string, payload?: Record<string, unknown>, opts?: { signal?: AbortSignal }): Promise<T> {
    return this.request<T>(method, `${KEEL_API}${path}`, payload, opts);
  }

  /** Every item of a paged search, fetching pages as the caller iterates. */
  async *paginate<T>(fetchPage: (pageToken?: string) => Promise<{ items?: T[]; next_page_token?: string }>): AsyncGenerator<T> {
    let token: string | undefined;
    do {
      const page = await fetchPage(token);
      for (const item of page.items ?? []) yield item;
      token = page.next_page_token || undefined;
    } while (token);
  }

  async health(): Promise<boolean> {
    const res = await this.fetchRaw("GET", `${this.base}/health`);
    await res.body?.cancel();
    return res.ok;
  }

  // ---- experiments ------------------------------------------------------------------------------

  async createExperiment(name: string, opts: { artifactLocation?: string; tags?: KeyValue[] } = {}): Promise<string> {
    const r = await this.mlflow<{ experiment_id: string }>("POST", "/experiments/create", { name, artifact_location: opts.artifactLocation, tags: opts.tags });
    return r.experiment_id;
  }

  async getExperiment(experimentId: string, opts: { signal?: AbortSignal } = {}): Promise<Experiment> {
    return (await this.mlflow<{ experiment: Experiment }>("GET", "/experiments/get", { experiment_id: experimentId }, opts)).experiment;
  }

  /** undefined when no experiment has that name. */
  async getExperimentByName(name: string): Promise<Experiment | undefined> {
    try {
      return (await this.mlflow<{ experiment: Experiment }>("GET", "/experiments/get-by-name", { experiment_name: name })).experiment;
    } catch (err) {
      if (err instanceof KeelApiError && err.code === "RESOURCE_DOES_NOT_EXIST") return undefined;
      throw err;
    }
  }

  async searchExperiments(q: SearchQuery & { viewType?: ViewType } = {}) {
    return this.mlflow<{ experiments?: Experiment[]; next_page_token?: string }>(
      "POST",
      "/experiments/search",
      { filter: q.filter, order_by: q.orderBy, view_type: q.viewType, max_results: q.maxResults, page_token: q.pageToken },
      { signal: q.signal },
    );
  }

  /** Every experiment matching, across all pages (`maxResults` is the page size). */
  iterateExperiments(q: Omit<SearchQuery, "pageToken"> & { viewType?: ViewType } = {}): AsyncGenerator<Experiment> {
    return this.paginate(async (pageToken) => {
      const r = await this.searchExperiments({ ...q, pageToken });
      return { items: r.experiments, next_page_token: r.next_page_token };
    });
  }

  async deleteExperiment(experimentId: string): Promise<void> {
    await this.mlflow("POST", "/experiments/delete", { experiment_id: experimentId });
  }

  async restoreExperiment(experimentId: string): Promise<void> {
    await this.mlflow("POST", "/experiments/restore", { experiment_id: experimentId });
  }

  async renameExperiment(experimentId: string, newName: string): Promise<void> {
    await this.mlflow("POST", "/experiments/update", { experiment_id: experimentId, new_name: newName });
  }

  async setExperimentTag(experimentId: string, key: string, value: string): Promise<void> {
    await this.mlflow("POST", "/experiments/set-experiment-tag", { experiment_id: experimentId, key, value });
  }

  // ---- runs -------------------------------------------------------------------------------------

  async createRun(experimentId: string, opts: { runName?: string; startTime?: number; tags?: KeyValue[]; userId?: string } = {}): Promise<WireRun> {
    const r = await this.mlflow<{ run: WireRun }>("POST", "/runs/create", {
      experiment_id: experimentId,
      run_name: opts.runName,
      start_time: opts.startTime ?? Date.now(),
      tags: opts.tags,
      user_id: opts.userId,
    });
    return r.run;
  }

  async getRun(runId: string, opts: { signal?: AbortSignal } = {}): Promise<WireRun> {
    return (await this.mlflow<{ run: WireRun }>("GET", "/runs/get", { run_id: runId }, opts)).run;
  }

  async updateRun(runId: string, update: { status?: string; endTime?: number; runName?: string }): Promise<RunInfo> {
    const r = await this.mlflow<{ run_info: RunInfo }>("POST", "/runs/update", { run_id: runId, status: update.status, end_time: update.endTime, run_name: update.runName });
    return r.run_info;
  }

  async deleteRun(runId: string): Promise<void> {
    await this.mlflow("POST", "/runs/delete", { run_id: runId });
  }

  async restoreRun(runId: string): Promise<void> {
    await this.mlflow("POST", "/runs/restore", { run_id: runId });
  }

  /** At most 1000 metrics, 100 params and 100 tags per call (MLflow's limits). */
  async logBatch(runId: string, batch: { metrics?: WireMetric[]; params?: KeyValue[]; tags?: KeyValue[] }): Promise<void> {
    await this.mlflow("POST", "/runs/log-batch", { run_id: runId, ...batch });
  }

  async logMetric(runId: string, key: string, value: number, opts: { step?: number; timestamp?: number } = {}): Promise<void> {
    await this.mlflow("POST", "/runs/log-metric", { run_id: runId, key, value: wireNumber(value), step: opts.step ?? 0, timestamp: opts.timestamp ?? Date.now() });
  }

  async logParam(runId: string, key: string, value: string): Promise<void> {
    await this.mlflow("POST", "/runs/log-parameter", { run_id: runId, key, value });
  }

  async setTag(runId: string, key: string, value: string): Promise<void> {
    await this.mlflow("POST", "/runs/set-tag", { run_id: runId, key, value });
  }

  async deleteTag(runId: string, key: string): Promise<void> {
    await this.mlflow("POST", "/runs/delete-tag", { run_id: runId, key });
  }

  async logInputs(runId: string, datasets: DatasetInput[]): Promise<void> {
    await this.mlflow("POST", "/runs/log-inputs", { run_id: runId, datasets });
  }

  async searchRuns(q: SearchQuery & { experimentIds: string[]; viewType?: ViewType }) {
    return this.mlflow<{ runs?: WireRun[]; next_page_token?: string }>(
      "POST",
      "/runs/search",
      {
        experiment_ids: q.experimentIds,
        filter: q.filter,
        order_by: q.orderBy,
        run_view_type: q.viewType,
        max_results: q.maxResults,
        page_token: q.pageToken,
      },
      { signal: q.signal },
    );
  }

  /** Every run matching, across all pages (`maxResults` is the page size). */
  iterateRuns(q: Omit<SearchQuery, "pageToken"> & { experimentIds: string[]; viewType?: ViewType }): AsyncGenerator<WireRun> {
    return this.paginate(async (pageToken) => {
      const r = await this.searchRuns({ ...q, pageToken });
      return { items: r.runs, next_page_token: r.next_page_token };
    });
  }

  /** A metric's history one page at a time, following page tokens (25000 is the most an MLflow server answers per page). */
  async *metricHistoryPages(runId: string, key: string, pageSize = 25000): AsyncGenerator<WireMetric[]> {
    let token: string | undefined;
    do {
      const r = await this.mlflow<{ metrics?: WireMetric[]; next_page_token?: string }>("GET", "/metrics/get-history", {
        run_id: runId,
        metric_key: key,
        max_results: pageSize,
        page_token: token,
      });
      yield r.metrics ?? [];
      token = r.next_page_token || undefined;
    } while (token);
  }

  /** The whole history of one metric, following page tokens. */
  async metricHistory(runId: string, key: string, pageSize = 25000): Promise<WireMetric[]> {
    const out: WireMetric[] = [];
    for await (const page of this.metricHistoryPages(runId, key, pageSize)) for (const m of page) out.push(m);
    return out;
  }

  async searchDatasets(experimentIds: string[]): Promise<DatasetSummary[]> {
    const r = await this.request<{ dataset_summaries?: DatasetSummary[] }>("POST", "/ajax-api/2.0/mlflow/experiments/search-datasets", { experiment_ids: experimentIds });
    return r.dataset_summaries ?? [];
  }

  // ---- artifacts (the proxy: /api/2.0/mlflow-artifacts, paths <experiment_id>/<run_id>/artifacts/…) ----

  /** A run's artifact root as a proxy path; throws when the run keeps its artifacts somewhere the server does not proxy. */
  async runArtifactRoot(run: string | WireRun | RunInfo): Promise<string> {
    const info = typeof run === "string" ? (await this.getRun(run)).info : "info" in run ? run.info : run;
    const root = proxiedArtifactPath(info.artifact_uri);
    if (root === undefined) {
      throw new Error(`Run ${info.run_id} keeps its artifacts at '${info.artifact_uri}', which the server does not serve through its artifact proxy.`);
    }
    return root;
  }

  /** The immediate entries of a directory. */
  async listArtifacts(dir: string, opts: { signal?: AbortSignal } = {}): Promise<ArtifactFile[]> {
    const r = await this.request<{ files?: { path: string; is_dir: boolean; file_size?: number | string }[] }>("GET", `${ARTIFACTS_API}/artifacts`, { path: dir }, opts);
    return (r.files ?? []).map((f) => ({
      path: dir ? `${dir}/${f.path}` : f.path,
      name: f.path,
      is_dir: f.is_dir,
      ...(f.file_size !== undefined ? { file_size: Number(f.file_size) } : {}),
    }));
  }

  /** Every file under a directory, depth first, in listing order. */
  async *walkArtifacts(dir: string): AsyncGenerator<ArtifactFile> {
    for (const e of await this.listArtifacts(dir)) {
      if (e.is_dir) yield* this.walkArtifacts(e.path);
      else yield e;
    }
  }

  /** Streams `body` to `path` (one request; the server stores it atomically). */
  async uploadArtifact(path: string, body: UploadBody, opts: { size?: number; onProgress?: ProgressCallback; signal?: AbortSignal } = {}): Promise<void> {
    const url = `${this.base}${ARTIFACTS_API}/artifacts/${encodePath(path)}`;
    const size = opts.size ?? bodySize(body);
    const payload = opts.onProgress ? counted(toStream(body), 0, size, opts.onProgress) : body;
    const res = await this.fetchRaw("PUT", url, { headers: { "content-type": "application/octet-stream" }, body: payload as FetchBody, signal: opts.signal });
    await this.check(res, "PUT", url);
    await res.body?.cancel();
  }

  /**
   * Opens a download of `path`, from byte `start` when resuming (a Range request). Answers the stream of
   * the remaining bytes, the file's whole size (-1 when the server did not say) and where the stream
   * begins: 0 when the server sent the whole file instead of the range (the caller must then start over).
   * A `start` equal to the size answers an empty stream; one past it, a 416 KeelApiError.
   */
  async downloadArtifact(path: string, opts: { start?: number; onProgress?: ProgressCallback; signal?: AbortSignal } = {}): Promise<{ stream: ReadableStream<Uint8Array>; size: number; start: number }> {
    const url = `${this.base}${ARTIFACTS_API}/artifacts/${encodePath(path)}`;
    const from = opts.start ?? 0;
    const res = await this.fetchRaw("GET", url, { headers: from > 0 ? { range: `bytes=${from}-` } : {}, signal: opts.signal });
    if (res.status === 416) {
      const total = Number(/\/(\d+)$/.exec(res.headers.get("content-range") ?? "")?.[1]);
      await res.body?.cancel();
      if (total === from) {
        opts.onProgress?.({ loaded: total, total });
        return { stream: emptyStream(), size: total, start: total };
      }
      throw new KeelApiError(416, "INVALID_PARAMETER_VALUE", `Cannot resume '${path}' at byte ${from}: the artifact has ${Number.isFinite(total) ? total : "fewer"} bytes.`, `GET ${url}`);
    }
    await this.check(res, "GET", url);
    let start = 0;
    let size = Number(res.headers.get("content-length") ?? Number.NaN);
    if (res.status === 206) {
      const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(res.headers.get("content-range") ?? "");
      if (!m) throw new KeelApiError(206, "INVALID_RESPONSE", `GET ${url}: a partial answer without a usable Content-Range.`, `GET ${url}`);
      start = Number(m[1]);
      size = Number(m[3]);
    }
    const total = Number.isFinite(size) ? size : undefined;
    const stream = counted(res.body ?? emptyStream(), start, total, opts.onProgress);
    return { stream, size: total ?? -1, start };
  }

  async deleteArtifact(path: string): Promise<void> {
    await this.request("DELETE", `${ARTIFACTS_API}/artifacts/${encodePath(path)}`);
  }

  /** MLflow's multipart upload: an upload id and one URL per part. */
  async createMultipartUpload(path: string, numParts: number): Promise<{ upload_id: string; credentials: MultipartCredential[] }> {
    return this.request("POST", `${ARTIFACTS_API}/mpu/create/${encodePath(path)}`, { path, num_parts: numParts });
  }

  /** Sends one part (to the credential's URL when given, else to this server's part route). */
  async uploadPart(
    path: string,
    uploadId: string,
    partNumber: number,
    body: UploadBody,
    opts: { credential?: MultipartCredential; onProgress?: ProgressCallback; signal?: AbortSignal } = {},
  ): Promise<UploadedPart> {
    const url = opts.credential?.url ?? this.url(`${ARTIFACTS_API}/mpu/upload-part/${encodePath(path)}`, { upload_id: uploadId, part_number: partNumber });
    const size = bodySize(body);
    const payload = opts.onProgress ? counted(toStream(body), 0, size, opts.onProgress) : body;
    const res = await this.fetchRaw("PUT", url, { headers: { ...opts.credential?.headers }, body: payload as FetchBody, signal: opts.signal });
    await this.check(res, "PUT", url);
    const text = await res.text();
    let json: { etag?: string; size?: number } = {};
    try {
      json = text ? JSON.parse(text) : {};
    } catch {}
    const etag = (res.headers.get("etag") ?? json.etag ?? "").replace(/"/g, "");
    return { part_number: partNumber, etag, ...(json.size !== undefined ? { size: json.size } : {}) };
  }

  /** Keel's extension: the parts of an unfinished upload that arrived. */
  async listMultipartParts(path: string, uploadId: string): Promise<UploadedPart[]> {
    const r = await this.request<{ parts?: UploadedPart[] }>("GET", `${ARTIFACTS_API}/mpu/parts/${encodePath(path)}`, { upload_id: uploadId });
    return r.parts ?? [];
  }

  async completeMultipartUpload(path: string, uploadId: string, parts: UploadedPart[]): Promise<void> {
    await this.request("POST", `${ARTIFACTS_API}/mpu/complete/${encodePath(path)}`, {
      path,
      upload_id: uploadId,
      parts: parts.map((p) => ({ part_number: p.part_number, etag: p.etag })),
    });
  }

  async abortMultipartUpload(path: string, uploadId: string): Promise<void> {
    await this.request("POST", `${ARTIFACTS_API}/mpu/abort/${encodePath(path)}`, { path, upload_id: uploadId });
  }

  /**
   * A large file in parts, resumable: pass the `uploadId` of an interrupted upload (saved from
   * `onUploadId`) and only the parts that did not arrive (or arrived with another size) are sent again.
   * `readPart(start, end)` yields bytes [start, end) of the file. An upload id the server no longer knows
   * starts a fresh upload.
   */
  async uploadArtifactMultipart(
    path: string,
    opts: {
      size: number;
      partSize: number;
      readPart: (start: number, end: number) => UploadBody | Promise<UploadBody>;
      uploadId?: string;
      onUploadId?: (uploadId: string) => void | Promise<void>;
      onProgress?: ProgressCallback;
      /** Called as each part has arrived (before the upload completes). */
      onPartDone?: (partNumber: number) => void;
      /** Parts in flight at once (default 3). */
      concurrency?: number;
      signal?: AbortSignal;
    },
  ): Promise<{ uploadId: string; parts: UploadedPart[]; reused: number }> {
    if (!(opts.partSize > 0)) throw new RangeError("partSize must be positive");
    const numParts = Math.max(1, Math.ceil(opts.size / opts.partSize));
    const partLength = (n: number) => Math.max(0, Math.min(opts.partSize, opts.size - (n - 1) * opts.partSize));
    let uploadId = opts.uploadId;
    let credentials: MultipartCredential[] = [];
    const done = new Map<number, UploadedPart>();
    if (uploadId) {
      try {
        for (const p of await this.listMultipartParts(path, uploadId)) if (p.part_number <= numParts && p.size === partLength(p.part_number)) done.set(p.part_number, p);
      } catch (err) {
        if (!(err instanceof KeelApiError && err.code === "RESOURCE_DOES_NOT_EXIST")) throw err;
        uploadId = undefined;
      }
    }
    if (!uploadId) {
      const created = await this.createMultipartUpload(path, numParts);
      uploadId = created.upload_id;
      credentials = created.credentials ?? [];
      await opts.onUploadId?.(uploadId);
    }
    const reused = done.size;
    const inFlight = new Map<number, number>();
    let finished = [...done.values()].reduce((n, p) => n + partLength(p.part_number), 0);
    const report = () => opts.onProgress?.({ loaded: finished + [...inFlight.values()].reduce((a, b) => a + b, 0), total: opts.size });
    report();
    const todo = Array.from({ length: numParts }, (_, i) => i + 1).filter((n) => !done.has(n));
    const id = uploadId;
    const worker = async () => {
      for (let n = todo.shift(); n !== undefined; n = todo.shift()) {
        const start = (n - 1) * opts.partSize;
        const body = await opts.readPart(start, start + partLength(n));
        const part = await this.uploadPart(path, id, n, body, {
          credential: credentials.find((c) => c.part_number === n),
          signal: opts.signal,
          onProgress: opts.onProgress
            ? (p) => {
                inFlight.set(n, p.loaded);
                report();
              }
            : undefined,
        });
        inFlight.delete(n);
        finished += partLength(n);
        done.set(n, part);
        report();
        opts.onPartDone?.(n);
      }
    };
    await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? 3, Math.max(1, todo.length)) }, worker));
    const parts = [...done.values()].sort((a, b) => a.part_number - b.part_number);
    await this.completeMultipartUpload(path, id, parts);
    return { uploadId: id, parts, reused };
  }

  // ---- model registry ---------------------------------------------------------------------------

  async createRegisteredModel(name: string, opts: { description?: string; tags?: KeyValue[] } = {}): Promise<RegisteredModel> {
    return (await this.mlflow<{ registered_model: RegisteredModel }>("POST", "/registered-models/create", { name, description: opts.description, tags: opts.tags })).registered_model;
  }

  async getRegisteredModel(name: string, opts: { signal?: AbortSignal } = {}): Promise<RegisteredModel> {
    return (await this.mlflow<{ registered_model: RegisteredModel }>("GET", "/registered-models/get", { name }, opts)).registered_model;
  }

  /** undefined when there is no model of that name. */
  async findRegisteredModel(name: string): Promise<RegisteredModel | undefined> {
    try {
      return await this.getRegisteredModel(name);
    } catch (err) {
      if (err instanceof KeelApiError && err.code === "RESOURCE_DOES_NOT_EXIST") return undefined;
      throw err;
    }
  }

  async renameRegisteredModel(name: string, newName: string): Promise<RegisteredModel> {
    return (await this.mlflow<{ registered_model: RegisteredModel }>("POST", "/registered-models/rename", { name, new_name: newName })).registered_model;
  }

  async updateRegisteredModel(name: string, description: string): Promise<RegisteredModel> {
    return (await this.mlflow<{ registered_model: RegisteredModel }>("PATCH", "/registered-models/update", { name, description })).registered_model;
  }

  async deleteRegisteredModel(name: string): Promise<void> {
    await this.mlflow("DELETE", "/registered-models/delete", { name });
  }

  async searchRegisteredModels(q: SearchQuery = {}) {
    return this.mlflow<{ registered_models?: RegisteredModel[]; next_page_token?: string }>(
      "GET",
      "/registered-models/search",
      { filter: q.filter, order_by: q.orderBy, max_results: q.maxResults, page_token: q.pageToken },
      { signal: q.signal },
    );
  }

  iterateRegisteredModels(q: Omit<SearchQuery, "pageToken"> = {}): AsyncGenerator<RegisteredModel> {
    return this.paginate(async (pageToken) => {
      const r = await this.searchRegisteredModels({ ...q, pageToken });
      return { items: r.registered_models, next_page_token: r.next_page_token };
    });
  }

  async setRegisteredModelTag(name: string, key: string, value: string): Promise<void> {
    await this.mlflow("POST", "/registered-models/set-tag", { name, key, value });
  }

  async deleteRegisteredModelTag(name: string, key: string): Promise<void> {
    await this.mlflow("DELETE", "/registered-models/delete-tag", { name, key });
  }

  async getLatestVersions(name: string, stages: string[] = []): Promise<ModelVersion[]> {
    return (await this.mlflow<{ model_versions?: ModelVersion[] }>("POST", "/registered-models/get-latest-versions", { name, stages })).model_versions ?? [];
  }

  async setRegisteredModelAlias(name: string, alias: string, version: string | number): Promise<void> {
    await this.mlflow("POST", "/registered-models/alias", { name, alias, version: String(version) });
  }

  async deleteRegisteredModelAlias(name: string, alias: string): Promise<void> {
    await this.mlflow("DELETE", "/registered-models/alias", { name, alias });
  }

  async getModelVersionByAlias(name: string, alias: string): Promise<ModelVersion> {
    return (await this.mlflow<{ model_version: ModelVersion }>("GET", "/registered-models/alias", { name, alias })).model_version;
  }

  async createModelVersion(v: { name: string; source: string; runId?: string; runLink?: string; description?: string; tags?: KeyValue[] }): Promise<ModelVersion> {
    const r = await this.mlflow<{ model_version: ModelVersion }>("POST", "/model-versions/create", {
      name: v.name,
      source: v.source,
      run_id: v.runId,
      run_link: v.runLink,
      description: v.description,
      tags: v.tags,
    });
    return r.model_version;
  }

  async getModelVersion(name: string, version: string | number): Promise<ModelVersion> {
    return (await this.mlflow<{ model_version: ModelVersion }>("GET", "/model-versions/get", { name, version: String(version) })).model_version;
  }

  async updateModelVersion(name: string, version: string | number, description: string): Promise<ModelVersion> {
    return (await this.mlflow<{ model_version: ModelVersion }>("PATCH", "/model-versions/update", { name, version: String(version), description })).model_version;
  }

  async deleteModelVersion(name: string, version: string | number): Promise<void> {
    await this.mlflow("DELETE", "/model-versions/delete", { name, version: String(version) });
  }

  async transitionModelVersionStage(name: string, version: string | number, stage: string, archiveExistingVersions = false): Promise<ModelVersion> {
    const r = await this.mlflow<{ model_version: ModelVersion }>("POST", "/model-versions/transition-stage", {
      name,
      version: String(version),
      stage,
      archive_existing_versions: archiveExistingVersions,
    });
    return r.model_version;
  }

  async searchModelVersions(q: SearchQuery = {}) {
    return this.mlflow<{ model_versions?: ModelVersion[]; next_page_token?: string }>(
      "GET",
      "/model-versions/search",
      { filter: q.filter, order_by: q.orderBy, max_results: q.maxResults, page_token: q.pageToken },
      { signal: q.signal },
    );
  }

  iterateModelVersions(q: Omit<SearchQuery, "pageToken"> = {}): AsyncGenerator<ModelVersion> {
    return this.paginate(async (pageToken) => {
      const r = await this.searchModelVersions({ ...q, pageToken });
      return { items: r.model_versions, next_page_token: r.next_page_token };
    });
  }

  /** Every version of one model, oldest first. */
  async modelVersions(name: string, opts: { signal?: AbortSignal } = {}): Promise<ModelVersion[]> {
    const out: ModelVersion[] = [];
    for await (const v of this.iterateModelVersions({ filter: `name = ${filterString(name)}`, maxResults: 10_000, signal: opts.signal })) out.push(v);
    return out.sort((a, b) => Number(a.version) - Number(b.version));
  }

  async setModelVersionTag(name: string, version: string | number, key: string, value: string): Promise<void> {
    await this.mlflow("POST", "/model-versions/set-tag", { name, version: String(version), key, value });
  }

  async deleteModelVersionTag(name: string, version: string | number, key: string): Promise<void> {
    await this.mlflow("DELETE", "/model-versions/delete-tag", { name, version: String(version), key });
  }

  async getModelVersionDownloadUri(name: string, version: string | number): Promise<string> {
    return (await this.mlflow<{ artifact_uri: string }>("GET", "/model-versions/get-download-uri", { name, version: String(version) })).artifact_uri;
  }

  // ---- deployments (/api/keel/v1/deployments) and inference ------------------------------------

  /** Creates a deployment; the server answers once it serves it. */
  async createDeployment(spec: DeploymentSpecInput): Promise<Deployment> {
    return (await this.keel<{ deployment: Deployment }>("POST", "/deployments", spec as unknown as Record<string, unknown>)).deployment;
  }

  async getDeployment(name: string, opts: { signal?: AbortSignal } = {}): Promise<Deployment> {
    return (await this.keel<{ deployment: Deployment }>("GET", `/deployments/${encodeURIComponent(name)}`, undefined, opts)).deployment;
  }

  /** undefined when there is no deployment of that name. */
  async findDeployment(name: string): Promise<Deployment | undefined> {
    try {
      return await this.getDeployment(name);
    } catch (err) {
      if (err instanceof KeelApiError && err.status === 404) return undefined;
      throw err;
    }
  }

  async listDeployments(opts: { signal?: AbortSignal } = {}): Promise<Deployment[]> {
    return (await this.keel<{ deployments?: Deployment[] }>("GET", "/deployments", undefined, opts)).deployments ?? [];
  }

  /** Replaces a deployment's whole spec (weights, variants, shadow, batching…) without dropping requests. */
  async replaceDeployment(spec: DeploymentSpecInput): Promise<Deployment> {
    return (await this.keel<{ deployment: Deployment }>("PUT", `/deployments/${encodeURIComponent(spec.name)}`, spec as unknown as Record<string, unknown>)).deployment;
  }

  async deleteDeployment(name: string): Promise<void> {
    await this.keel("DELETE", `/deployments/${encodeURIComponent(name)}`);
  }

  /**
   * The deployment's live numbers on this server process: cumulative requests by outcome, latency and
   * batch-size histograms (cumulative buckets), queue depth and shadow outcomes per variant. Rates and
   * percentiles are deltas between two reads.
   */
  async deploymentStats(name: string, opts: { signal?: AbortSignal } = {}): Promise<DeploymentStats> {
    return this.keel("GET", `/deployments/${encodeURIComponent(name)}/stats`, undefined, opts);
  }

  /** Recent predictions of a deployment, newest first (`before`: an id from an earlier page; `limit` up to 1000). */
  async deploymentPredictions(name: string, q: { limit?: number; before?: number; signal?: AbortSignal } = {}): Promise<PredictionEntry[]> {
    const r = await this.keel<{ predictions?: PredictionEntry[] }>("GET", `/deployments/${encodeURIComponent(name)}/predictions`, { limit: q.limit, before: q.before }, { signal: q.signal });
    return r.predictions ?? [];
  }

  /** Open Inference Protocol v2 (KServe/Triton): POST /v2/models/{model}[/versions/{version}]/infer with JSON tensors. */
  async infer(model: string, inputs: OipTensor[], opts: { version?: string; outputs?: string[]; headers?: Record<string, string> } = {}): Promise<OipInferResponse> {
    const path = `/v2/models/${encodeURIComponent(model)}${opts.version ? `/versions/${encodeURIComponent(opts.version)}` : ""}/infer`;
    const url = `${this.base}${path}`;
    const body: Record<string, unknown> = { inputs };
    if (opts.outputs) body.outputs = opts.outputs.map((name) => ({ name }));
    const res = await this.fetchRaw("POST", url, { headers: { "content-type": "application/json", ...opts.headers }, body: JSON.stringify(body) });
    await this.check(res, "POST", url);
    return (await res.json()) as OipInferResponse;
  }

  /**
   * MLflow scoring against a deployment (POST /api/keel/v1/deployments/{name}/invocations): `payload` is one
   * of MLflow's formats ({instances}, {inputs}, {dataframe_split}, {dataframe_records}); answers `predictions`.
   */
  async invocations<T = unknown>(deployment: string, payload: Record<string, unknown>): Promise<{ predictions: T }> {
    return this.keel("POST", `/deployments/${encodeURIComponent(deployment)}/invocations`, payload);
  }

  // ---- Keel's API (/api/keel/v1) ----------------------------------------------------------------

  async serverInfo(): Promise<{ status: string; version: string; database: string }> {
    return this.keel("GET", "/health");
  }

  async compareRuns(q: {
    runIds: string[];
    metricKeys: string[];
    maxPoints?: number;
    method?: "lttb" | "minmax";
    xAxis?: "step" | "timestamp";
    fullResolution?: boolean;
    signal?: AbortSignal;
  }) {
    const r = await this.keel<{ series: ComparedSeries[] }>(
      "POST",
      "/runs/compare",
      {
        run_ids: q.runIds,
        metric_keys: q.metricKeys,
        max_points: q.maxPoints,
        method: q.method,
        x_axis: q.xAxis,
        full_resolution: q.fullResolution,
      },
      { signal: q.signal },
    );
    return r.series;
  }

  async experimentKeys(experimentIds: string[], opts: { signal?: AbortSignal } = {}): Promise<{ metrics: string[]; params: string[]; tags: string[] }> {
    return this.keel("GET", "/experiments/keys", { experiment_ids: experimentIds }, opts);
  }

  /** Registry changes after `after`, in commit order; `waitMs` long-polls (up to 30 s) when there are none yet. */
  async events(q: { after?: number; limit?: number; waitMs?: number; signal?: AbortSignal } = {}): Promise<EventsPage> {
    return this.keel("GET", "/events", { after: q.after, limit: q.limit, wait_ms: q.waitMs }, { signal: q.signal });
  }

  async modelVersionSignature(name: string, version: string | number, opts: { signal?: AbortSignal } = {}): Promise<VersionSignature> {
    return this.keel("GET", `/models/${encodeURIComponent(name)}/versions/${encodeURIComponent(String(version))}/signature`, undefined, opts);
  }

  /** Lineage of a model version, a run or a dataset (one of the three). */
  async lineage(
    q: ({ model: string; version: string | number } | { runId: string } | { datasetDigest: string; datasetName?: string }) & { maxResults?: number; pageToken?: string; signal?: AbortSignal },
  ): Promise<Lineage> {
    const query: Record<string, unknown> = { max_results: q.maxResults, page_token: q.pageToken };
    if ("model" in q) Object.assign(query, { model: q.model, version: String(q.version) });
    else if ("runId" in q) query.run_id = q.runId;
    else Object.assign(query, { dataset_digest: q.datasetDigest, dataset_name: q.datasetName });
    return this.keel("GET", "/lineage", query, { signal: q.signal });
  }

  // ---- administration (/api/keel/v1) ------------------------------------------------------------

  async whoami(): Promise<Whoami> {
    return this.keel("GET", "/whoami");
  }

  async listUsers(): Promise<User[]> {
    return (await this.keel<{ users: User[] }>("GET", "/users")).users;
  }

  async createUser(u: { username: string; password?: string; isAdmin?: boolean }): Promise<User> {
    return (await this.keel<{ user: User }>("POST", "/users", { username: u.username, password: u.password, is_admin: u.isAdmin })).user;
  }

  async getUser(username: string): Promise<UserDetail> {
    return this.keel("GET", `/users/${encodeURIComponent(username)}`);
  }

  async updateUser(username: string, change: { password?: string; isAdmin?: boolean }): Promise<void> {
    await this.keel("PATCH", `/users/${encodeURIComponent(username)}`, { password: change.password, is_admin: change.isAdmin });
  }

  async deleteUser(username: string): Promise<void> {
    await this.keel("DELETE", `/users/${encodeURIComponent(username)}`);
  }

  async listGroups(): Promise<Group[]> {
    return (await this.keel<{ groups: Group[] }>("GET", "/groups")).groups;
  }

  async createGroup(name: string): Promise<void> {
    await this.keel("POST", "/groups", { name });
  }

  async deleteGroup(name: string): Promise<void> {
    await this.keel("DELETE", `/groups/${encodeURIComponent(name)}`);
  }

  async addGroupMember(group: string, username: string): Promise<void> {
    await this.keel("PUT", `/groups/${encodeURIComponent(group)}/members/${encodeURIComponent(username)}`);
  }

  async removeGroupMember(group: string, username: string): Promise<void> {
    await this.keel("DELETE", `/groups/${encodeURIComponent(group)}/members/${encodeURIComponent(username)}`);
  }

  /** Your tokens; an admin may ask for another user's. */
  async listTokens(username?: string): Promise<ApiToken[]> {
    return (await this.keel<{ tokens: ApiToken[] }>("GET", "/tokens", { username })).tokens;
  }

  /** A new API token; `token` (the secret) is in this answer only. `expiresIn` like "90d". */
  async createToken(t: { name?: string; expiresIn?: string; username?: string } = {}): Promise<ApiToken & { token: string }> {
    return this.keel("POST", "/tokens", { name: t.name, expires_in: t.expiresIn, username: t.username });
  }

  async revokeToken(id: string | number): Promise<void> {
    await this.keel("DELETE", `/tokens/${encodeURIComponent(String(id))}`);
  }

  /** Who can access `experiment:<id>` or `registered_model:<name>`, and why. */
  async whoCanAccess(resource: string): Promise<ResourceAccess> {
    return this.keel("GET", "/permissions", { resource });
  }

  async setPermission(p: { resource: string; username?: string; group?: string; permission: PermissionLevel }): Promise<void> {
    await this.keel("PUT", "/permissions", { resource: p.resource, username: p.username, group: p.group, permission: p.permission });
  }

  async deletePermission(p: { resource: string; username?: string; group?: string }): Promise<void> {
    await this.keel("DELETE", "/permissions", { resource: p.resource, username: p.username, group: p.group });
  }

  async audit(
    q: {
      actor?: string;
      resource?: string;
      action?: string;
      since?: number;
      until?: number;
      after?: number;
      /** "desc": newest first, paged with `before`. */
      order?: "asc" | "desc";
      before?: number;
      limit?: number;
      signal?: AbortSignal;
    } = {},
  ): Promise<AuditPage> {
    const { signal, ...query } = q;
    return this.keel("GET", "/audit", query, { signal });
  }

  /** Every audit record matching, oldest first, across pages. */
  async *iterateAudit(q: { actor?: string; resource?: string; action?: string; since?: number; until?: number; after?: number; limit?: number } = {}): AsyncGenerator<AuditRecord> {
    let after = q.after ?? 0;
    for (;;) {
      const page = await this.audit({ ...q, after });
      yield* page.records;
      if (page.next_after === undefined) return;
      after = page.next_after;
    }
  }

  async verifyAudit(): Promise<AuditVerification> {
    return this.keel("GET", "/audit/verify");
  }
}

/** JSON has no NaN/Infinity: MLflow sends them as strings. */
export function wireNumber(value: number): number | string {
  return Number.isFinite(value) ? value : Number.isNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity";
}

/** A wire metric value as a number (NaN and ±Infinity from their strings). */
export function metricNumber(value: number | string): number {
  if (typeof value === "number") return value;
  if (value === "NaN") return Number.NaN;
  if (value === "Infinity") return Number.POSITIVE_INFINITY;
  if (value === "-Infinity") return Number.NEGATIVE_INFINITY;
  return Number(value);
}

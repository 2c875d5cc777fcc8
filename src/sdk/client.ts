/**
 * Typed client for a Keel server, shared by the CLI, the UI and users. fetch-based, no dependencies, so it
 * runs in Node and in browsers alike. Errors carry the server's MLflow-style error code.
 */
import type { DatasetInput, DatasetSummary, Experiment, KeyValue, RunInfo, ViewType } from "../tracking/schema.js";

export interface WireMetric {
  key: string;
  value: number | string;
  timestamp: number;
  step: number;
}

export interface WireRun {
  info: RunInfo;
  data: { metrics?: WireMetric[]; params?: KeyValue[]; tags?: KeyValue[] };
  inputs: { dataset_inputs?: DatasetInput[] };
}

export interface ComparedSeries {
  run_id: string;
  metric_key: string;
  total_points: number;
  downsampled: boolean;
  points: { step: number; timestamp: number; value: number | string }[];
}

export class KeelApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "KeelApiError";
  }
}

export interface KeelClientOptions {
  /** Base URL of the server, e.g. http://127.0.0.1:5000 */
  url: string;
  /** Bearer token, sent as MLflow's client does (MLFLOW_TRACKING_TOKEN). */
  token?: string;
  fetch?: typeof fetch;
}

/** --server-url, else KEEL_SERVER_URL, else MLFLOW_TRACKING_URI, else the local default. */
export function resolveServerUrl(flag?: string, env: Record<string, string | undefined> = process.env): string {
  return flag || env.KEEL_SERVER_URL || env.MLFLOW_TRACKING_URI || "http://127.0.0.1:5000";
}

export class KeelClient {
  private readonly base: string;
  private readonly doFetch: typeof fetch;

  constructor(private readonly opts: KeelClientOptions) {
    this.base = opts.url.replace(/\/+$/, "");
    this.doFetch = opts.fetch ?? fetch;
  }

  async request<T>(method: "GET" | "POST", path: string, payload?: Record<string, unknown>): Promise<T> {
    let url = `${this.base}${path}`;
    const headers: Record<string, string> = {};
    if (this.opts.token) headers.authorization = `Bearer ${this.opts.token}`;
    let body: string | undefined;
    if (method === "GET" && payload) {
      const qs = new URLSearchParams();
      for (const [k, v] of Object.entries(payload)) {
        if (v === undefined || v === null) continue;
        for (const x of Array.isArray(v) ? v : [v]) qs.append(k, String(x));
      }
      url += `?${qs}`;
    } else if (method === "POST") {
      headers["content-type"] = "application/json";
      body = JSON.stringify(payload ?? {});
    }
    const res = await this.doFetch(url, { method, headers, body });
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : {};
    } catch {
      json = { message: text };
    }
    if (!res.ok) {
      const e = json as { error_code?: string; message?: string };
      throw new KeelApiError(res.status, e.error_code ?? `HTTP_${res.status}`, e.message ?? res.statusText);
    }
    return json as T;
  }

  private mlflow<T>(method: "GET" | "POST", path: string, payload?: Record<string, unknown>): Promise<T> {
    return this.request<T>(method, `/api/2.0/mlflow${path}`, payload);
  }

  async health(): Promise<boolean> {
    const res = await this.doFetch(`${this.base}/health`);
    return res.ok;
  }

  async createExperiment(name: string, opts: { artifactLocation?: string; tags?: KeyValue[] } = {}): Promise<string> {
    const r = await this.mlflow<{ experiment_id: string }>("POST", "/experiments/create", { name, artifact_location: opts.artifactLocation, tags: opts.tags });
    return r.experiment_id;
  }

  async getExperiment(experimentId: string): Promise<Experiment> {
    return (await this.mlflow<{ experiment: Experiment }>("GET", "/experiments/get", { experiment_id: experimentId })).experiment;
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

  async searchExperiments(q: { filter?: string; orderBy?: string[]; viewType?: ViewType; maxResults?: number; pageToken?: string } = {}) {
    return this.mlflow<{ experiments?: Experiment[]; next_page_token?: string }>("POST", "/experiments/search", {
      filter: q.filter,
      order_by: q.orderBy,
      view_type: q.viewType,
      max_results: q.maxResults,
      page_token: q.pageToken,
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

  async getRun(runId: string): Promise<WireRun> {
    return (await this.mlflow<{ run: WireRun }>("GET", "/runs/get", { run_id: runId })).run;
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

  async logBatch(runId: string, batch: { metrics?: WireMetric[]; params?: KeyValue[]; tags?: KeyValue[] }): Promise<void> {
    await this.mlflow("POST", "/runs/log-batch", { run_id: runId, ...batch });
  }

  async logMetric(runId: string, key: string, value: number, opts: { step?: number; timestamp?: number } = {}): Promise<void> {
    const wire = Number.isFinite(value) ? value : Number.isNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity";
    await this.mlflow("POST", "/runs/log-metric", { run_id: runId, key, value: wire, step: opts.step ?? 0, timestamp: opts.timestamp ?? Date.now() });
  }

  async logParam(runId: string, key: string, value: string): Promise<void> {
    await this.mlflow("POST", "/runs/log-parameter", { run_id: runId, key, value });
  }

  async setTag(runId: string, key: string, value: string): Promise<void> {
    await this.mlflow("POST", "/runs/set-tag", { run_id: runId, key, value });
  }

  async searchRuns(q: { experimentIds: string[]; filter?: string; orderBy?: string[]; viewType?: ViewType; maxResults?: number; pageToken?: string }) {
    return this.mlflow<{ runs?: WireRun[]; next_page_token?: string }>("POST", "/runs/search", {
      experiment_ids: q.experimentIds,
      filter: q.filter,
      order_by: q.orderBy,
      run_view_type: q.viewType,
      max_results: q.maxResults,
      page_token: q.pageToken,
    });
  }

  /** The whole history of one metric, following page tokens. */
  async metricHistory(runId: string, key: string, pageSize = 25000): Promise<WireMetric[]> {
    const out: WireMetric[] = [];
    let token: string | undefined;
    do {
      const r = await this.mlflow<{ metrics?: WireMetric[]; next_page_token?: string }>("GET", "/metrics/get-history", {
        run_id: runId,
        metric_key: key,
        max_results: pageSize,
        page_token: token,
      });
      out.push(...(r.metrics ?? []));
      token = r.next_page_token;
    } while (token);
    return out;
  }

  async searchDatasets(experimentIds: string[]): Promise<DatasetSummary[]> {
    const r = await this.request<{ dataset_summaries?: DatasetSummary[] }>("POST", "/ajax-api/2.0/mlflow/experiments/search-datasets", { experiment_ids: experimentIds });
    return r.dataset_summaries ?? [];
  }

  async compareRuns(q: { runIds: string[]; metricKeys: string[]; maxPoints?: number; method?: "lttb" | "minmax"; xAxis?: "step" | "timestamp"; fullResolution?: boolean }) {
    const r = await this.request<{ series: ComparedSeries[] }>("POST", "/api/keel/v1/runs/compare", {
      run_ids: q.runIds,
      metric_keys: q.metricKeys,
      max_points: q.maxPoints,
      method: q.method,
      x_axis: q.xAxis,
      full_resolution: q.fullResolution,
    });
    return r.series;
  }

  async experimentKeys(experimentIds: string[]): Promise<{ metrics: string[]; params: string[]; tags: string[] }> {
    return this.request("GET", "/api/keel/v1/experiments/keys", { experiment_ids: experimentIds });
  }
}

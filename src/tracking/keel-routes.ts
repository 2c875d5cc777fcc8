import type { FastifyInstance } from "fastify";
import { invalidParam } from "../core/errors.js";
import { lttb, minMax } from "./downsample.js";
import { CompareRequest, CompareResponse, ErrorResponse, KeysQuery, KeysResponse } from "./keel-schema.js";
import { wireValue } from "./schema.js";
import type { TrackingService } from "./service.js";

/** Keel's tracking extensions: chart-ready comparisons and key lists for filter autocomplete. */
export async function registerKeelTrackingRoutes(app: FastifyInstance, svc: TrackingService): Promise<void> {
  app.post<{ Body: CompareRequest }>(
    "/runs/compare",
    {
      schema: {
        summary: "Downsampled metric histories of several runs, for overlaid charts",
        tags: ["tracking"],
        body: CompareRequest,
        response: { 200: CompareResponse, 400: ErrorResponse, 404: ErrorResponse },
      },
    },
    async (req) => {
      const { run_ids, metric_keys, max_points = 1000, method = "lttb", x_axis = "step", full_resolution = false } = req.body;
      if (run_ids.length * metric_keys.length > 400) throw invalidParam(`At most 400 series per request; ${run_ids.length} runs × ${metric_keys.length} keys asked for.`);
      const series = [];
      for (const runId of run_ids) {
        for (const key of metric_keys) {
          const s = await svc.metricSeries(runId, key);
          const n = s.value.length;
          const pick = full_resolution || n <= max_points ? null : (method === "minmax" ? minMax : lttb)({ x: x_axis === "step" ? s.step : s.timestamp, y: s.value }, max_points);
          const indices = pick ?? Array.from({ length: n }, (_, i) => i);
          series.push({
            run_id: runId,
            metric_key: key,
            total_points: n,
            downsampled: pick !== null,
            points: indices.map((i) => ({ step: s.step[i], timestamp: s.timestamp[i], value: wireValue(s.value[i]) })),
          });
        }
      }
      return { series };
    },
  );

  app.get<{ Querystring: { experiment_ids: string | string[] } }>(
    "/experiments/keys",
    {
      schema: {
        summary: "Distinct metric, param and tag keys across experiments (for autocomplete and column choosers)",
        tags: ["tracking"],
        querystring: KeysQuery,
        response: { 200: KeysResponse, 400: ErrorResponse, 404: ErrorResponse },
      },
    },
    async (req) => {
      const ids = Array.isArray(req.query.experiment_ids) ? req.query.experiment_ids : [req.query.experiment_ids];
      return svc.distinctKeys(ids);
    },
  );
}

import type { FastifyInstance } from "fastify";
import { invalidParam } from "../core/errors.js";
import { type Message, missing, preview, stringList } from "../core/validate.js";
import { CompareRequest, CompareResponse, ErrorResponse, KeysQuery, KeysResponse } from "./keel-schema.js";
import { wireValue } from "./schema.js";
import type { TrackingService } from "./service.js";

/** The most points a full-resolution comparison returns (about 100 bytes of JSON each). */
export const FULL_RESOLUTION_MAX_POINTS = 5_000_000;

const MAX_KEY_EXPERIMENTS = 100;

/** `experiment_ids` of a GET: the parameter repeated, each value an experiment ID. */
function experimentIdsParam(query: Message): string[] {
  const ids = stringList(query, "experiment_ids");
  if (!ids.length) throw missing("experiment_ids");
  if (ids.length > MAX_KEY_EXPERIMENTS) throw invalidParam(`At most ${MAX_KEY_EXPERIMENTS} experiment_ids per request; got ${ids.length}.`);
  for (const id of ids) {
    if (!/^\d{1,15}$/.test(id)) {
      throw invalidParam(`Invalid experiment_ids value ${preview(id)}: an experiment ID is a number. For several experiments repeat the parameter: ?experiment_ids=1&experiment_ids=2.`);
    }
  }
  return ids;
}

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
      if (full_resolution) {
        // Every point of every series is built in memory: refuse before reading what would not fit.
        let total = 0;
        for (const runId of run_ids) for (const key of metric_keys) total += await svc.metricPointCount(runId, key);
        if (total > FULL_RESOLUTION_MAX_POINTS)
          throw invalidParam(
            `Full resolution would return ${total.toLocaleString("en-US")} points; one request returns at most ${FULL_RESOLUTION_MAX_POINTS.toLocaleString("en-US")}. Ask for fewer runs or keys, or downsample with max_points (up to 100,000 per series).`,
          );
      }
      const series = [];
      for (const runId of run_ids) {
        for (const key of metric_keys) {
          const c = await svc.chartSeries(runId, key, { maxPoints: max_points, method, xAxis: x_axis, fullResolution: full_resolution });
          const { step, timestamp, value } = c.points;
          series.push({
            run_id: runId,
            metric_key: key,
            total_points: c.total,
            downsampled: c.downsampled,
            points: Array.from(value, (v, i) => ({ step: step[i], timestamp: timestamp[i], value: wireValue(v) })),
          });
        }
      }
      return { series };
    },
  );

  app.get<{ Querystring: Message }>(
    "/experiments/keys",
    {
      schema: {
        summary: "Every metric, param and tag key the experiments' runs have logged (for autocomplete and column choosers)",
        tags: ["tracking"],
        querystring: KeysQuery,
        response: { 200: KeysResponse, 400: ErrorResponse, 404: ErrorResponse },
      },
    },
    async (req) => svc.distinctKeys(experimentIdsParam(req.query)),
  );
}

import { visibleTo } from "../core/visibility.js";
import type { FastifyInstance } from "fastify";
import { invalidParam } from "../core/errors.js";
import { decodePageToken } from "../core/page-token.js";
import { type Message, objectList, optInt, optString, parseMaxResults, reqString, runIdOf, stringList } from "../core/validate.js";
import { type Endpoint, nextPage, registerEndpoints, searchTerms } from "../server/mlflow-endpoints.js";
import { type KeyValue, wireRun } from "./schema.js";
import type { TrackingService } from "./service.js";
import { concatColumns, historyJson, sampleSteps } from "./history-json.js";
import { LIMITS, parseBatch, parseDatasetInputs, parseMetric, parseParam, parseTag, parseViewType, validateKey } from "./validation.js";

function tagList(msg: Message, field = "tags"): KeyValue[] {
  return objectList(msg, field).map(parseTag);
}

/** Every MLflow tracking endpoint, as one table; the plugin registers it under /api/2.0/mlflow and /ajax-api/2.0/mlflow. */
export function trackingEndpoints(svc: TrackingService): Endpoint[] {
  return [
    {
      methods: ["POST"],
      path: "/experiments/create",
      handler: async (m) => ({
        experiment_id: await svc.createExperiment(reqString(m, "name"), optString(m, "artifact_location"), tagList(m)),
      }),
    },
    { methods: ["GET"], path: "/experiments/get", handler: async (m) => ({ experiment: await svc.getExperiment(reqString(m, "experiment_id")) }) },
    {
      methods: ["GET"],
      path: "/experiments/get-by-name",
      handler: async (m) => ({ experiment: await svc.getExperimentByName(reqString(m, "experiment_name")) }),
    },
    {
      methods: ["GET", "POST"],
      path: "/experiments/search",
      handler: async (m) => {
        const limit = parseMaxResults(m, "max_results", 1000, LIMITS.searchMaxResults);
        const offset = decodePageToken(optString(m, "page_token"));
        const { filter, orderBy } = searchTerms(m);
        const page = await svc.searchExperiments({
          viewType: parseViewType(m.view_type, "view_type"),
          filter,
          orderBy,
          offset,
          limit,
          visible: await visibleTo("experiment"),
        });
        return { experiments: page.items, ...nextPage(page.nextOffset) };
      },
    },
    {
      methods: ["POST"],
      path: "/experiments/update",
      handler: async (m) => {
        await svc.renameExperiment(reqString(m, "experiment_id"), reqString(m, "new_name"));
        return {};
      },
    },
    {
      methods: ["POST"],
      path: "/experiments/delete",
      handler: async (m) => {
        await svc.deleteExperiment(reqString(m, "experiment_id"));
        return {};
      },
    },
    {
      methods: ["POST"],
      path: "/experiments/restore",
      handler: async (m) => {
        await svc.restoreExperiment(reqString(m, "experiment_id"));
        return {};
      },
    },
    {
      methods: ["POST"],
      path: "/experiments/set-experiment-tag",
      handler: async (m) => {
        await svc.setExperimentTag(reqString(m, "experiment_id"), parseTag(m));
        return {};
      },
    },
    {
      methods: ["POST"],
      path: "/experiments/search-datasets",
      handler: async (m) => {
        const ids = stringList(m, "experiment_ids");
        if (ids.length < 1 || ids.length > 20) throw invalidParam(`experiment_ids must list between 1 and 20 experiments; got ${ids.length}.`);
        return { dataset_summaries: await svc.searchDatasets(ids) };
      },
    },
    {
      methods: ["POST"],
      path: "/runs/create",
      handler: async (m) => {
        const run = await svc.createRun({
          experimentId: optString(m, "experiment_id"),
          userId: optString(m, "user_id"),
          runName: optString(m, "run_name"),
          startTime: optInt(m, "start_time"),
          tags: tagList(m),
        });
        // MLflow 2.10's CreateRun answers {info, data} only: no `inputs` key (GetRun/SearchRuns carry `inputs`, even when empty).
        const { inputs: _inputs, ...created } = wireRun(run);
        return { run: created };
      },
    },
    {
      methods: ["POST"],
      path: "/runs/update",
      handler: async (m) => ({
        run_info: await svc.updateRun(runIdOf(m), { status: optString(m, "status"), endTime: optInt(m, "end_time"), runName: optString(m, "run_name") }),
      }),
    },
    {
      methods: ["POST"],
      path: "/runs/delete",
      handler: async (m) => {
        await svc.deleteRun(runIdOf(m));
        return {};
      },
    },
    {
      methods: ["POST"],
      path: "/runs/restore",
      handler: async (m) => {
        await svc.restoreRun(runIdOf(m));
        return {};
      },
    },
    { methods: ["GET"], path: "/runs/get", handler: async (m) => ({ run: wireRun(await svc.getRun(runIdOf(m))) }) },
    {
      methods: ["POST"],
      path: "/runs/log-metric",
      handler: async (m) => {
        await svc.logBatch(runIdOf(m), [parseMetric(m)], [], []);
        return {};
      },
    },
    {
      methods: ["POST"],
      path: "/runs/log-parameter",
      handler: async (m) => {
        await svc.logBatch(runIdOf(m), [], [parseParam(m)], []);
        return {};
      },
    },
    {
      methods: ["POST"],
      path: "/runs/set-tag",
      handler: async (m) => {
        await svc.logBatch(runIdOf(m), [], [], [parseTag(m)]);
        return {};
      },
    },
    {
      methods: ["POST"],
      path: "/runs/delete-tag",
      handler: async (m) => {
        await svc.deleteTag(runIdOf(m), validateKey("tag", m.key));
        return {};
      },
    },
    {
      methods: ["POST"],
      path: "/runs/log-batch",
      handler: async (m) => {
        const { metrics, params, tags } = parseBatch(m);
        await svc.logBatch(runIdOf(m), metrics, params, tags);
        return {};
      },
    },
    {
      methods: ["POST"],
      path: "/runs/log-model",
      handler: async (m) => {
        await svc.logModel(runIdOf(m), reqString(m, "model_json"));
        return {};
      },
    },
    {
      methods: ["POST"],
      path: "/runs/log-inputs",
      handler: async (m) => {
        await svc.logInputs(runIdOf(m), parseDatasetInputs(m));
        return {};
      },
    },
    {
      methods: ["POST"],
      path: "/runs/search",
      handler: async (m) => {
        const limit = parseMaxResults(m, "max_results", 1000, LIMITS.searchMaxResults);
        const { filter, orderBy } = searchTerms(m);
        const page = await svc.searchRuns({
          experimentIds: stringList(m, "experiment_ids"),
          filter,
          viewType: parseViewType(m.run_view_type, "run_view_type"),
          orderBy,
          offset: decodePageToken(optString(m, "page_token")),
          limit,
        });
        return { runs: page.items.map(wireRun), ...nextPage(page.nextOffset) };
      },
    },
    {
      methods: ["GET"],
      path: "/metrics/get-history",
      handler: async (m) => {
        const key = reqString(m, "metric_key");
        const limit = parseMaxResults(m, "max_results", 1_000_000, 1_000_000);
        const page = await svc.metricHistoryPage({ runIds: [runIdOf(m)], key, offset: decodePageToken(optString(m, "page_token")), limit }, false);
        return historyJson(page, false, nextPage(page.nextOffset));
      },
    },
    {
      methods: ["GET"],
      path: "/metrics/get-history-bulk",
      handler: async (m) => {
        const runIds = stringList(m, "run_id");
        if (runIds.length < 1 || runIds.length > 20) throw invalidParam(`GetMetricHistoryBulk requests must specify between 1 and 20 run_id values; got ${runIds.length}.`);
        const key = reqString(m, "metric_key");
        const limit = parseMaxResults(m, "max_results", 25000, 25000);
        const page = await svc.metricHistoryPage({ runIds, key, offset: 0, limit }, true);
        return historyJson(page, true);
      },
    },
    {
      methods: ["GET"],
      path: "/metrics/get-history-bulk-interval",
      handler: async (m) => {
        const runIds = stringList(m, "run_ids");
        if (runIds.length < 1 || runIds.length > 100) throw invalidParam(`run_ids must list between 1 and 100 runs; got ${runIds.length}.`);
        const key = reqString(m, "metric_key");
        const startStep = optInt(m, "start_step");
        const endStep = optInt(m, "end_step");
        if ((startStep === undefined) !== (endStep === undefined)) throw invalidParam("start_step and end_step must be given together.");
        if (startStep !== undefined && endStep !== undefined && startStep > endStep) {
          throw invalidParam(`end_step (${endStep}) must be greater than or equal to start_step (${startStep}).`);
        }
        const perRun = parseMaxResults(m, "max_results", 2500, 2500);
        const parts = [];
        for (const runId of runIds) {
          const page = await svc.metricHistory({ runIds: [runId], key, startStep, endStep, offset: 0, limit: 10_000_000 });
          parts.push(sampleSteps(page.columns, perRun));
        }
        return historyJson({ columns: concatColumns(key, runIds, parts) }, true);
      },
    },
  ];
}

export async function registerTrackingRoutes(app: FastifyInstance, svc: TrackingService): Promise<void> {
  await registerEndpoints(app, trackingEndpoints(svc));
}

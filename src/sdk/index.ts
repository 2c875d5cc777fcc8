export { type ComparedSeries, KeelApiError, KeelClient, type KeelClientOptions, resolveServerUrl, type WireMetric, type WireRun } from "./client.js";

import type { Database } from "../db/database.js";
import type { RegistryService } from "../registry/service.js";
import { createDeliveryWorker, type DeliveryOptions, type DeliveryWorker } from "./delivery.js";
import { createWebhookService, type WebhookService } from "./service.js";
import { createWebhookStore } from "./store-sql.js";

export type { DeliveryWorker } from "./delivery.js";
export type { WebhookService } from "./service.js";

export type WebhookTuning = Pick<DeliveryOptions, "retryBaseMs" | "maxAttempts" | "timeoutMs" | "pollMs" | "concurrency">;

/** Webhooks read the registry's event feed through its service and deliver from their own tables. */
export function createWebhooks(opts: {
  database: Database;
  registry: RegistryService;
  now: () => number;
  userAgent: string;
  tuning?: WebhookTuning;
  onError?: (err: unknown) => void;
}): { service: WebhookService; worker: DeliveryWorker } {
  const store = createWebhookStore(opts.database);
  const service = createWebhookService({ store, lastEventSeq: () => opts.registry.lastEventSeq(), now: opts.now });
  const worker = createDeliveryWorker({
    store,
    readEvents: (after, limit) => opts.registry.events(after, limit, 0),
    now: opts.now,
    userAgent: opts.userAgent,
    onError: opts.onError,
    ...opts.tuning,
  });
  return { service, worker };
}

import { randomBytes } from "node:crypto";
import { KeelError, notFound } from "../core/errors.js";
import type { RegistryEvent } from "../registry/schema.js";
import type { WebhookRow, WebhookStore } from "./store-sql.js";
import { checkEventTypes, checkSecret, checkWebhookName, checkWebhookUrl } from "./validation.js";

export interface WebhookInput {
  name: unknown;
  url: unknown;
  events?: unknown;
  model?: unknown;
  secret?: unknown;
  active?: unknown;
  /** Start after this event (0: replay the whole feed); default: only events from now on. */
  from_seq?: unknown;
}

export const wireWebhook = (w: WebhookRow) => ({
  name: w.name,
  url: w.url,
  events: JSON.parse(w.events) as string[],
  ...(w.model_name ? { model: w.model_name } : {}),
  active: w.active === 1,
  cursor: w.cursor,
  created_by: w.created_by,
  creation_time: w.creation_time,
});

/** Does this webhook want this event? */
export function wants(w: WebhookRow, e: RegistryEvent): boolean {
  const types = JSON.parse(w.events) as string[];
  return (types.includes("*") || types.includes(e.type)) && (!w.model_name || w.model_name === e.name);
}

export function createWebhookService(deps: { store: WebhookStore; lastEventSeq: () => Promise<number>; now: () => number }) {
  const { store, now } = deps;

  async function byName(name: string): Promise<WebhookRow> {
    const w = await store.byName(name);
    if (!w) throw notFound(`No webhook named '${name}'.`);
    return w;
  }

  function optModel(raw: unknown): string | null {
    if (raw === undefined || raw === null) return null;
    if (typeof raw !== "string" || raw.length === 0 || raw.length > 256) throw new KeelError("INVALID_PARAMETER_VALUE", "model must be a registered model name.");
    return raw;
  }

  function optActive(raw: unknown): number | undefined {
    if (raw === undefined) return undefined;
    if (typeof raw !== "boolean") throw new KeelError("INVALID_PARAMETER_VALUE", "active must be true or false.");
    return raw ? 1 : 0;
  }

  return {
    /** The secret is in this answer only. */
    async create(input: WebhookInput, createdBy: string) {
      const name = checkWebhookName(input.name);
      const secret = checkSecret(input.secret) ?? randomBytes(32).toString("hex");
      let cursor: number;
      if (input.from_seq === undefined) cursor = await deps.lastEventSeq();
      else if (typeof input.from_seq === "number" && Number.isSafeInteger(input.from_seq) && input.from_seq >= 0) cursor = input.from_seq;
      else throw new KeelError("INVALID_PARAMETER_VALUE", "from_seq must be a non-negative event sequence number.");
      const row = await store.create({
        name,
        url: checkWebhookUrl(input.url),
        secret,
        events: JSON.stringify(checkEventTypes(input.events)),
        model_name: optModel(input.model),
        active: optActive(input.active) ?? 1,
        cursor,
        created_by: createdBy,
        creation_time: now(),
      });
      if (!row) throw new KeelError("RESOURCE_ALREADY_EXISTS", `A webhook named '${name}' already exists.`);
      return { webhook: wireWebhook(row), secret };
    },
    list: async () => (await store.list()).map(wireWebhook),
    get: async (name: string) => wireWebhook(await byName(name)),
    async update(name: string, input: Partial<WebhookInput>) {
      const w = await byName(name);
      const set: Parameters<WebhookStore["update"]>[1] = {};
      if (input.url !== undefined) set.url = checkWebhookUrl(input.url);
      if (input.events !== undefined) set.events = JSON.stringify(checkEventTypes(input.events));
      if (input.model !== undefined) set.model_name = optModel(input.model);
      const active = optActive(input.active);
      if (active !== undefined) set.active = active;
      if (!Object.keys(set).length) throw new KeelError("INVALID_PARAMETER_VALUE", "Nothing to change: send url, events, model and/or active.");
      await store.update(w.webhook_id, set);
      return wireWebhook((await store.byName(name)) as WebhookRow);
    },
    async remove(name: string) {
      await store.remove((await byName(name)).webhook_id);
    },
    async deliveries(name: string, q: { status?: string; after: number; limit: number }) {
      const w = await byName(name);
      if (q.status !== undefined && !["pending", "delivered", "failed"].includes(q.status)) {
        throw new KeelError("INVALID_PARAMETER_VALUE", "status must be pending, delivered or failed.");
      }
      if (!Number.isSafeInteger(q.limit) || q.limit < 1 || q.limit > 1000) throw new KeelError("INVALID_PARAMETER_VALUE", "limit must be from 1 to 1000.");
      const rows = await store.deliveries(w.webhook_id, q);
      const attempts = await store.attemptsOf(rows.map((r) => r.delivery_id));
      return {
        deliveries: rows.map((d) => ({
          id: d.delivery_id,
          event_seq: d.event_seq,
          status: d.status,
          attempts: d.attempts,
          next_attempt_time: d.status === "pending" ? d.next_attempt_time : undefined,
          creation_time: d.creation_time,
          finished_time: d.finished_time ?? undefined,
          event: (JSON.parse(d.body) as { event: unknown }).event,
          log: attempts
            .filter((a) => a.delivery_id === d.delivery_id)
            .map((a) => ({
              attempt: a.attempt,
              time: a.time,
              duration_ms: a.duration_ms,
              status_code: a.status_code ?? undefined,
              error: a.error ?? undefined,
              response: a.response_excerpt ?? undefined,
            })),
        })),
        ...(rows.length === q.limit ? { next_after: rows.at(-1)?.delivery_id } : {}),
      };
    },
    async redeliver(name: string, deliveryId: number) {
      const w = await byName(name);
      if (!(await store.redeliver(w.webhook_id, deliveryId, now()))) throw notFound(`Webhook '${name}' has no delivery ${deliveryId}.`);
    },
  };
}

export type WebhookService = ReturnType<typeof createWebhookService>;

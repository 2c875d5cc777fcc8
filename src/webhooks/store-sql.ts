import { sql } from "kysely";
import type { Database } from "../db/database.js";
import { isUniqueViolation } from "../db/dialect.js";
import { writeTx } from "../db/write-tx.js";
import type { WebhookAttemptsTable, WebhookDeliveriesTable, WebhooksTable } from "../db/types.js";

export type WebhookRow = Omit<WebhooksTable, "webhook_id"> & { webhook_id: number };
export type DeliveryRow = Omit<WebhookDeliveriesTable, "delivery_id"> & { delivery_id: number };
export type AttemptRow = WebhookAttemptsTable;

const numeric = <T extends Record<string, unknown>>(r: T, keys: string[]): T => {
  const o: Record<string, unknown> = { ...r };
  for (const k of keys) if (o[k] !== null && o[k] !== undefined) o[k] = Number(o[k]);
  return o as T;
};
const hook = (r: Record<string, unknown>) => numeric(r, ["webhook_id", "active", "cursor", "creation_time"]) as unknown as WebhookRow;
const delivery = (r: Record<string, unknown>) =>
  numeric(r, ["delivery_id", "webhook_id", "event_seq", "attempts", "next_attempt_time", "locked_until", "creation_time", "finished_time"]) as unknown as DeliveryRow;

export function createWebhookStore(database: Database) {
  const db = database.db;
  const pg = database.kind === "postgres";
  return {
    async create(w: Omit<WebhookRow, "webhook_id">): Promise<WebhookRow | undefined> {
      try {
        return hook(await writeTx(database, (tx) => tx.insertInto("webhooks").values(w).returningAll().executeTakeFirstOrThrow()));
      } catch (err) {
        if (isUniqueViolation(err)) return undefined;
        throw err;
      }
    },
    async byName(name: string): Promise<WebhookRow | undefined> {
      const r = await db.selectFrom("webhooks").selectAll().where("name", "=", name).executeTakeFirst();
      return r ? hook(r) : undefined;
    },
    async list(activeOnly = false): Promise<WebhookRow[]> {
      let q = db.selectFrom("webhooks").selectAll().orderBy("name");
      if (activeOnly) q = q.where("active", "=", 1);
      return (await q.execute()).map(hook);
    },
    async update(id: number, set: Partial<Pick<WebhookRow, "url" | "events" | "model_name" | "active">>): Promise<void> {
      await writeTx(database, (tx) => tx.updateTable("webhooks").set(set).where("webhook_id", "=", id).execute());
    },
    async remove(id: number): Promise<void> {
      await writeTx(database, (tx) => tx.deleteFrom("webhooks").where("webhook_id", "=", id).execute());
    },

    /** Deliveries for the events a webhook wants, then its cursor: one transaction, safe to run on every replica. */
    async enqueue(webhookId: number, upTo: number, items: { seq: number; body: string }[], now: number): Promise<void> {
      await writeTx(database, async (tx) => {
        for (const it of items) {
          await tx
            .insertInto("webhook_deliveries")
            .values({ webhook_id: webhookId, event_seq: it.seq, body: it.body, status: "pending", attempts: 0, next_attempt_time: now, locked_until: 0, creation_time: now })
            .onConflict((oc) => oc.columns(["webhook_id", "event_seq"]).doNothing())
            .execute();
        }
        await tx.updateTable("webhooks").set({ cursor: upTo }).where("webhook_id", "=", webhookId).where("cursor", "<", upTo).execute();
      });
    },

    /** Takes up to `limit` due deliveries for `leaseMs`; another process skips them meanwhile. */
    async claimDue(now: number, leaseMs: number, limit: number): Promise<(DeliveryRow & { url: string; secret: string; name: string })[]> {
      const due = sql`select delivery_id from webhook_deliveries where status = 'pending' and next_attempt_time <= ${now} and locked_until <= ${now}
        order by delivery_id limit ${limit}${sql.raw(pg ? " for update skip locked" : "")}`;
      const claimed = await writeTx(database, (tx) =>
        sql<Record<string, unknown>>`update webhook_deliveries set locked_until = ${now + leaseMs} where delivery_id in (${due}) returning *`.execute(tx),
      );
      if (!claimed.rows.length) return [];
      const hooks = new Map((await this.list()).map((h) => [h.webhook_id, h]));
      return claimed.rows
        .map(delivery)
        .filter((d) => hooks.has(d.webhook_id))
        .map((d) => {
          const h = hooks.get(d.webhook_id) as WebhookRow;
          return { ...d, url: h.url, secret: h.secret, name: h.name };
        })
        .sort((a, b) => a.delivery_id - b.delivery_id);
    },

    /** One attempt's outcome, in the log and on the delivery. */
    async recordAttempt(d: DeliveryRow, attempt: AttemptRow, next: { status: string; nextAttempt: number; finished?: number }): Promise<void> {
      await writeTx(database, async (tx) => {
        await tx.insertInto("webhook_attempts").values(attempt).execute();
        await tx
          .updateTable("webhook_deliveries")
          .set({ status: next.status, attempts: attempt.attempt, next_attempt_time: next.nextAttempt, locked_until: 0, finished_time: next.finished ?? null })
          .where("delivery_id", "=", d.delivery_id)
          .execute();
      });
    },

    /** When the next pending delivery falls due (undefined when none is pending). */
    async nextDue(): Promise<number | undefined> {
      const row = await db
        .selectFrom("webhook_deliveries")
        .select((eb) => eb.fn.min("next_attempt_time").as("t"))
        .where("status", "=", "pending")
        .executeTakeFirst();
      return row?.t === null || row?.t === undefined ? undefined : Number(row.t);
    },

    async deliveries(webhookId: number, q: { status?: string; after: number; limit: number }): Promise<DeliveryRow[]> {
      let query = db.selectFrom("webhook_deliveries").selectAll().where("webhook_id", "=", webhookId).where("delivery_id", ">", q.after);
      if (q.status) query = query.where("status", "=", q.status);
      return (await query.orderBy("delivery_id").limit(q.limit).execute()).map(delivery);
    },

    async attemptsOf(deliveryIds: number[]): Promise<AttemptRow[]> {
      if (!deliveryIds.length) return [];
      const rows = await db.selectFrom("webhook_attempts").selectAll().where("delivery_id", "in", deliveryIds).orderBy("delivery_id").orderBy("attempt").execute();
      return rows.map((r) => numeric(r, ["delivery_id", "attempt", "time", "duration_ms", "status_code"]) as AttemptRow);
    },

    async redeliver(webhookId: number, deliveryId: number, now: number): Promise<boolean> {
      const res = await writeTx(database, (tx) =>
        tx
          .updateTable("webhook_deliveries")
          .set({ status: "pending", next_attempt_time: now, locked_until: 0, finished_time: null })
          .where("webhook_id", "=", webhookId)
          .where("delivery_id", "=", deliveryId)
          .executeTakeFirst(),
      );
      return Number(res.numUpdatedRows) > 0;
    },
  };
}

export type WebhookStore = ReturnType<typeof createWebhookStore>;

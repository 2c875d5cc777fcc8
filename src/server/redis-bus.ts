import { randomUUID } from "node:crypto";
import type { FastifyBaseLogger } from "fastify";
import type { RegistryService } from "../registry/service.js";

const CHANNEL = "keel:registry-events";

/**
 * With --redis-url, each process publishes its registry commits and wakes on the others', so long-poll
 * readers and webhook delivery on every replica learn of an event at once instead of at their next
 * database poll. Redis carries only the nudge; the events themselves are always read from the database,
 * so a lost message delays nothing beyond that poll.
 */
export async function connectRedisBus(url: string, registry: RegistryService, log: FastifyBaseLogger): Promise<{ close(): Promise<void> }> {
  const { Redis } = await import("ioredis");
  const options = { lazyConnect: true, maxRetriesPerRequest: 2, connectTimeout: 5000, enableOfflineQueue: false };
  const pub = new Redis(url, options);
  const sub = new Redis(url, options);
  for (const [name, client] of [
    ["publisher", pub],
    ["subscriber", sub],
  ] as const) {
    client.on("error", (err: Error) => log.warn({ err: err.message, redis: name }, "redis: connection problem (events still arrive through the database poll)"));
  }
  try {
    await Promise.all([pub.connect(), sub.connect()]);
    await sub.subscribe(CHANNEL);
  } catch (err) {
    pub.disconnect();
    sub.disconnect();
    throw new Error(`cannot connect to Redis at ${url.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:***@")}: ${(err as Error).message}`);
  }
  const origin = randomUUID();
  sub.on("message", (channel: string, message: string) => {
    if (channel !== CHANNEL) return;
    try {
      if ((JSON.parse(message) as { origin?: string }).origin === origin) return;
    } catch {
      return;
    }
    registry.notifyRemote();
  });
  const off = registry.onLocalCommit(() => {
    pub.publish(CHANNEL, JSON.stringify({ origin })).catch((err: Error) => log.warn({ err: err.message }, "redis: publish failed"));
  });
  return {
    async close() {
      off();
      await Promise.allSettled([sub.quit(), pub.quit()]);
    },
  };
}

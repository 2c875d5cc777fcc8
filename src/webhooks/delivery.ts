import type { RegistryEvent } from "../registry/schema.js";
import { wants } from "./service.js";
import { SIGNATURE_HEADER, signatureHeader } from "./signing.js";
import type { DeliveryRow, WebhookStore } from "./store-sql.js";

export interface DeliveryOptions {
  store: WebhookStore;
  /** Registry events after `after` (no waiting). */
  readEvents(after: number, limit: number): Promise<RegistryEvent[]>;
  now: () => number;
  userAgent: string;
  /** First retry after this long, doubling each time (with ±10 % jitter), capped at an hour. */
  retryBaseMs?: number;
  maxAttempts?: number;
  timeoutMs?: number;
  /** Look for work this often even without a notification (events from other processes). */
  pollMs?: number;
  concurrency?: number;
  onError?: (err: unknown) => void;
}

export interface DeliveryWorker {
  start(): void;
  /** Something happened (a local commit, a remote notification): look for work now. */
  kick(): void;
  /** One full pass (tests). */
  runOnce(): Promise<void>;
  stop(): Promise<void>;
}

const LEASE_MS = 60_000;
const MAX_BACKOFF_MS = 3_600_000;

/**
 * Delivers webhooks from the database, so every replica may run one: enqueueing is idempotent (one
 * delivery per webhook and event) and a delivery is leased to one process while it is tried. A
 * delivery succeeds on any 2xx; anything else (including a redirect, which is not followed, or a
 * timeout) schedules a retry with exponential backoff until maxAttempts, then it is marked failed.
 */
export function createDeliveryWorker(opts: DeliveryOptions): DeliveryWorker {
  const retryBaseMs = opts.retryBaseMs ?? 1000;
  const maxAttempts = opts.maxAttempts ?? 8;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const concurrency = opts.concurrency ?? 4;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = false;
  const inFlight = new Set<AbortController>();

  async function enqueue(): Promise<void> {
    for (const w of await opts.store.list(true)) {
      for (;;) {
        const events = await opts.readEvents(w.cursor, 500);
        if (!events.length) break;
        const wanted = events.filter((e) => wants(w, e)).map((e) => ({ seq: e.seq, body: JSON.stringify({ webhook: w.name, event: e }) }));
        const upTo = (events.at(-1) as RegistryEvent).seq;
        await opts.store.enqueue(w.webhook_id, upTo, wanted, opts.now());
        w.cursor = upTo;
        if (events.length < 500) break;
      }
    }
  }

  async function attempt(d: DeliveryRow & { url: string; secret: string; name: string }): Promise<void> {
    const n = d.attempts + 1;
    const started = opts.now();
    const t0 = performance.now();
    const abort = new AbortController();
    inFlight.add(abort);
    const timeout = setTimeout(() => abort.abort(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
    let statusCode: number | null = null;
    let error: string | null = null;
    let excerpt: string | null = null;
    try {
      const event = (JSON.parse(d.body) as { event: RegistryEvent }).event;
      const res = await fetch(d.url, {
        method: "POST",
        redirect: "manual",
        signal: abort.signal,
        headers: {
          "content-type": "application/json",
          "user-agent": opts.userAgent,
          [SIGNATURE_HEADER]: signatureHeader(d.secret, d.body, Math.floor(started / 1000)),
          "keel-event": event.type,
          "keel-event-seq": String(event.seq),
          "keel-delivery": String(d.delivery_id),
          "keel-webhook": d.name,
        },
        body: d.body,
      });
      statusCode = res.status;
      excerpt = (await res.text()).slice(0, 500);
      if (res.status < 200 || res.status >= 300) error = `HTTP ${res.status}${res.status >= 300 && res.status < 400 ? " (redirects are not followed)" : ""}`;
    } catch (err) {
      const e = err as Error & { cause?: { code?: string; message?: string } };
      error = abort.signal.aborted ? String((abort.signal.reason as Error)?.message ?? "aborted") : (e.cause?.code ?? e.cause?.message ?? e.message);
    } finally {
      clearTimeout(timeout);
      inFlight.delete(abort);
    }
    const done = opts.now();
    const ok = error === null;
    const backoff = Math.min(MAX_BACKOFF_MS, retryBaseMs * 2 ** (n - 1)) * (0.9 + Math.random() * 0.2);
    await opts.store.recordAttempt(
      d,
      { delivery_id: d.delivery_id, attempt: n, time: started, duration_ms: Math.round(performance.now() - t0), status_code: statusCode, error, response_excerpt: excerpt },
      ok
        ? { status: "delivered", nextAttempt: done, finished: done }
        : n >= maxAttempts
          ? { status: "failed", nextAttempt: done, finished: done }
          : { status: "pending", nextAttempt: done + Math.round(backoff) },
    );
  }

  async function deliverDue(): Promise<void> {
    for (;;) {
      const batch = await opts.store.claimDue(opts.now(), LEASE_MS, concurrency * 4);
      if (!batch.length || stopped) return;
      const queue = [...batch];
      await Promise.all(
        Array.from({ length: Math.min(concurrency, queue.length) }, async () => {
          for (let d = queue.shift(); d; d = queue.shift()) await attempt(d);
        }),
      );
    }
  }

  let retryTimer: NodeJS.Timeout | undefined;

  /** A retry due before the next poll gets its own wake-up, so backoff is kept to the millisecond, not the poll. */
  async function scheduleNextRetry(): Promise<void> {
    const due = await opts.store.nextDue();
    if (due === undefined || stopped) return;
    const wait = Math.max(0, due - opts.now());
    if (wait >= (opts.pollMs ?? 1000)) return;
    clearTimeout(retryTimer);
    retryTimer = setTimeout(kick, wait + 1);
    retryTimer.unref();
  }

  async function pass(): Promise<void> {
    try {
      await enqueue();
      await deliverDue();
      await scheduleNextRetry();
    } catch (err) {
      opts.onError?.(err);
    }
  }

  function kick(): void {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = (async () => {
      do {
        again = false;
        await pass();
      } while (again && !stopped);
    })().finally(() => {
      running = undefined;
    });
  }

  return {
    start() {
      if (timer || stopped) return;
      timer = setInterval(kick, opts.pollMs ?? 1000);
      timer.unref();
      kick();
    },
    kick,
    async runOnce() {
      await running;
      await pass();
    },
    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      clearTimeout(retryTimer);
      for (const a of inFlight) a.abort(new Error("server closing"));
      await running;
    },
  };
}

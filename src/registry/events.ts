import type { RegistryEvent } from "./schema.js";

/**
 * Waiting for registry events. Readers ask for events after a sequence number; when there are none they
 * wait until one commits, their time runs out, they hang up, or the server closes. Writes in this process
 * wake waiters at once (`notify`); writes by other processes sharing the database are seen by one shared
 * poll of the newest sequence number every `pollMs` while anyone waits. Later consumers (webhooks, a
 * Redis fan-out) read the same table from their own cursor; this is only the in-process waiting room.
 */
export interface EventFeedDeps {
  read(after: number, limit: number): Promise<RegistryEvent[]>;
  lastSeq(): Promise<number>;
  pollMs?: number;
}

export interface EventFeed {
  /** Events with seq > after (at most `limit`), waiting up to `waitMs` for the first when there are none. */
  wait(after: number, limit: number, waitMs: number, signal?: AbortSignal): Promise<RegistryEvent[]>;
  /** A write in this process committed: wake the waiters now instead of at the next poll. */
  notify(): void;
  /** Another process says it committed (Redis pub/sub): wake the waiters, but do not pass it on again. */
  notifyRemote(): void;
  /** Called on every local commit (to publish it to other processes). Returns an unsubscribe function. */
  onLocalCommit(listener: () => void): () => void;
  /** Called on every local commit and every remote notification (consumers such as webhook delivery). */
  onChange(listener: () => void): () => void;
  /** Ends every wait (each answers with what it has) and refuses to start new ones. */
  close(): void;
  /** Readers waiting now (for metrics, and to check that hung-up readers are let go). */
  waiting(): number;
}

interface Waiter {
  after: number;
  wake(): void;
}

export function createEventFeed({ read, lastSeq, pollMs = 200 }: EventFeedDeps): EventFeed {
  const waiters = new Set<Waiter>();
  const localListeners = new Set<() => void>();
  const changeListeners = new Set<() => void>();
  const subscribe = (set: Set<() => void>, l: () => void) => {
    set.add(l);
    return () => void set.delete(l);
  };
  const call = (set: Set<() => void>) => {
    for (const l of set) {
      try {
        l();
      } catch {
        // A listener's failure is its own; the write has committed.
      }
    }
  };
  let poller: NodeJS.Timeout | undefined;
  let polling = false;
  let closed = false;

  function wakeAll(): void {
    for (const w of waiters) w.wake();
  }

  async function poll(): Promise<void> {
    if (polling) return;
    polling = true;
    try {
      const seq = await lastSeq();
      for (const w of waiters) if (seq > w.after) w.wake();
    } catch {
      // A database hiccup: the waiters keep waiting and the next poll tries again.
    } finally {
      polling = false;
    }
  }

  function sleep(after: number, ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const w: Waiter = {
        after,
        wake: () => {
          clearTimeout(timer);
          signal?.removeEventListener("abort", w.wake);
          waiters.delete(w);
          if (!waiters.size && poller) {
            clearInterval(poller);
            poller = undefined;
          }
          resolve();
        },
      };
      timer = setTimeout(w.wake, ms);
      signal?.addEventListener("abort", w.wake, { once: true });
      waiters.add(w);
      if (!poller) {
        poller = setInterval(() => void poll(), pollMs);
        poller.unref();
      }
    });
  }

  return {
    async wait(after, limit, waitMs, signal) {
      const deadline = Date.now() + waitMs;
      for (;;) {
        const events = await read(after, limit);
        const left = deadline - Date.now();
        if (events.length || left <= 0 || closed || signal?.aborted) return events;
        await sleep(after, left, signal);
      }
    },
    notify() {
      wakeAll();
      call(localListeners);
      call(changeListeners);
    },
    notifyRemote() {
      wakeAll();
      call(changeListeners);
    },
    onLocalCommit: (l) => subscribe(localListeners, l),
    onChange: (l) => subscribe(changeListeners, l),
    close() {
      closed = true;
      wakeAll();
    },
    waiting: () => waiters.size,
  };
}

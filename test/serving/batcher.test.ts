/**
 * The dynamic batcher's rules one by one, on a fake clock (vitest's fake timers drive both the batcher's
 * timers and the fake executor's compute time), plus a few checks with real timers.
 */
import { execFileSync } from "node:child_process";
import { getEventListeners } from "node:events";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type BatcherOptions, type BatchInfo, BatcherError, createBatcher } from "../../src/serving/batcher.js";
import { monotonicMs } from "../../src/core/clock.js";

interface Req {
  id: number;
  rows: number;
}

interface Settled {
  state: "pending" | "ok" | "err";
  value?: string;
  err?: unknown;
  at?: number;
}

function track(p: Promise<string>): Settled {
  const s: Settled = { state: "pending" };
  p.then(
    (value) => Object.assign(s, { state: "ok", value, at: Date.now() }),
    (err) => Object.assign(s, { state: "err", err, at: Date.now() }),
  );
  return s;
}

const T0 = 1_000_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A batcher whose executor records each call and takes `compute` ms (on whichever clock is active). */
function harness(opts: Partial<BatcherOptions<Req, string>> & { compute?: number } = {}) {
  const calls: { at: number; ids: number[]; rows: number }[] = [];
  const infos: BatchInfo[] = [];
  const compute = opts.compute ?? 10;
  let nextId = 0;
  const b = createBatcher<Req, string>({
    maxBatchSize: 8,
    maxQueueDelayMs: 10,
    maxQueueSize: 100,
    rowsOf: (r) => r.rows,
    execute: async (batch) => {
      calls.push({ at: Date.now(), ids: batch.map((r) => r.id), rows: batch.reduce((a, r) => a + r.rows, 0) });
      await sleep(compute);
      return batch.map((r) => `out-${r.id}`);
    },
    onBatch: (i) => infos.push(i),
    now: () => Date.now(),
    ...opts,
  });
  const submit = (rows: number, so?: Parameters<typeof b.submit>[1]) => {
    const id = nextId++;
    return { id, s: track(b.submit({ id, rows }, so)) };
  };
  return { b, calls, infos, submit };
}

const advance = (ms: number) => vi.advanceTimersByTimeAsync(ms);

describe("batcher on a fake clock", () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: T0, toFake: ["setTimeout", "clearTimeout", "setImmediate", "clearImmediate", "Date"] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("coalesces requests along dim 0 until the oldest has waited the delay, and splits the results back", async () => {
    const { calls, infos, submit } = harness();
    const a = submit(2);
    await advance(3);
    const b2 = submit(3);
    await advance(6);
    expect(calls).toEqual([]);
    await advance(1); // the oldest arrived 10 ms ago
    expect(calls).toEqual([{ at: T0 + 10, ids: [0, 1], rows: 5 }]);
    await advance(10);
    expect(a.s).toMatchObject({ state: "ok", value: "out-0" });
    expect(b2.s).toMatchObject({ state: "ok", value: "out-1" });
    expect(infos).toEqual([{ size: 2, rows: 5, queueWaitsMs: [10, 7], computeMs: 10, ok: true }]);
  });

  it("dispatches a full batch at once, and a prefix at once when the next request would not fit", async () => {
    const { calls, submit } = harness({ maxConcurrentBatches: 4 });
    for (let i = 0; i < 4; i++) submit(2);
    expect(calls).toEqual([{ at: T0, ids: [0, 1, 2, 3], rows: 8 }]); // synchronously, in the 4th submit
    submit(5);
    await advance(2);
    submit(4); // 5 + 4 > 8: the 5-row request goes now, the 4-row one waits for its own delay
    expect(calls[1]).toEqual({ at: T0 + 2, ids: [4], rows: 5 });
    await advance(9);
    expect(calls.length).toBe(2);
    await advance(1);
    expect(calls[2]).toEqual({ at: T0 + 12, ids: [5], rows: 4 });
  });

  it("never splits a request; one larger than the max batch size runs alone in its FIFO turn", async () => {
    const { calls, infos, submit } = harness({ maxConcurrentBatches: 2 });
    submit(3);
    const big = submit(20);
    submit(1);
    await advance(0);
    // [0] goes because the next does not fit; the 20-row request goes alone without waiting for company.
    expect(calls.slice(0, 2)).toEqual([
      { at: T0, ids: [0], rows: 3 },
      { at: T0, ids: [1], rows: 20 },
    ]);
    await advance(30);
    expect(calls[2]).toEqual({ at: T0 + 10, ids: [2], rows: 1 });
    expect(big.s).toMatchObject({ state: "ok", value: "out-1" });
    expect(infos.map((i) => i.rows)).toEqual([3, 20, 1]);
  });

  it("with preferred sizes, dispatches once a FIFO prefix reaches one (the longest), never cutting after the delay", async () => {
    const { b, calls, submit } = harness({ maxBatchSize: 16, maxQueueDelayMs: 50, preferredBatchSizes: [4, 6], compute: 20 });
    submit(1);
    submit(2);
    expect(calls).toEqual([]);
    submit(1); // 4 rows: preferred
    expect(calls).toEqual([{ at: T0, ids: [0, 1, 2], rows: 4 }]);
    // While that batch computes, 2+1+2+1 rows queue (prefix sums 2, 3, 5, 6): on completion, 6 is the longest preferred prefix.
    for (const r of [2, 1, 2, 1, 3]) submit(r);
    await advance(20);
    expect(calls[1]).toEqual({ at: T0 + 20, ids: [3, 4, 5, 6], rows: 6 });
    expect(b.depth()).toEqual({ requests: 1, rows: 3 });
    // The 3-row request (sum 3, not preferred) waits for its own delay: arrived at T0, due at T0 + 50.
    await advance(29);
    expect(calls.length).toBe(2);
    await advance(1);
    expect(calls[2]).toEqual({ at: T0 + 50, ids: [7], rows: 3 });

    // After the delay has expired the batcher takes everything that fits, even past a preferred size.
    const h = harness({ maxBatchSize: 16, maxQueueDelayMs: 5, preferredBatchSizes: [2], compute: 20 });
    h.submit(2); // preferred: runs T0+50 .. T0+70
    h.submit(1);
    h.submit(1);
    h.submit(1);
    await advance(20);
    expect(h.calls.map((c) => c.ids)).toEqual([[0], [1, 2, 3]]);
  });

  it("re-plans when a request leaves the queue out of turn: the rest may now form a preferred batch", async () => {
    const { calls, submit } = harness({ maxBatchSize: 16, maxQueueDelayMs: 100, preferredBatchSizes: [3] });
    const ac = new AbortController();
    submit(2);
    submit(2, { signal: ac.signal });
    submit(1); // prefix sums 2, 4, 5: nothing preferred yet
    await advance(5);
    expect(calls).toEqual([]);
    ac.abort(); // now 2, 3
    expect(calls).toEqual([{ at: T0 + 5, ids: [0, 2], rows: 3 }]);

    const h = harness({ maxBatchSize: 16, maxQueueDelayMs: 100, preferredBatchSizes: [3] });
    const t1 = Date.now();
    h.submit(2);
    h.submit(2, { deadline: t1 + 20 });
    h.submit(1);
    await advance(19);
    expect(h.calls).toEqual([]);
    await advance(1); // the deadline timer removes the middle request; 2 + 1 is preferred
    expect(h.calls).toEqual([{ at: t1 + 20, ids: [0, 2], rows: 3 }]);
  });

  it("bounds queue waits by the delay plus one batch's compute: an expired request goes in the very next batch", async () => {
    const { infos, calls, submit } = harness({ maxQueueDelayMs: 5, compute: 20 });
    submit(1); // waits 5, runs T0+5 .. T0+25
    await advance(7);
    submit(1); // arrives at T0+7 while the batch computes; its delay expires at T0+12, the slot frees at T0+25
    await advance(17);
    submit(1); // arrives at T0+24: joins the next batch since the oldest's delay has expired
    await advance(1);
    expect(calls.map((c) => [c.at - T0, c.ids])).toEqual([
      [5, [0]],
      [25, [1, 2]],
    ]);
    await advance(20);
    expect(infos.map((i) => i.queueWaitsMs)).toEqual([[5], [18, 1]]);
    for (const w of infos.flatMap((i) => i.queueWaitsMs)) expect(w).toBeLessThanOrEqual(5 + 20);
  });

  it("with more than one slot, a batch forms while another computes", async () => {
    const { calls, submit } = harness({ maxConcurrentBatches: 2, maxQueueDelayMs: 5, compute: 30 });
    submit(1);
    await advance(5);
    submit(1);
    submit(1);
    await advance(5);
    submit(1);
    await advance(5);
    expect(calls.map((c) => [c.at - T0, c.ids])).toEqual([
      [5, [0]],
      [10, [1, 2]],
    ]);
    await advance(20); // slot 1 frees at T0+35: request 3 (expired at T0+15) goes at once
    expect(calls[2]).toEqual({ at: T0 + 35, ids: [3], rows: 1 });
  });

  it("with delay 0, only requests submitted in the same event-loop turn share a batch", async () => {
    const { calls, submit } = harness({ maxQueueDelayMs: 0, maxConcurrentBatches: 4 });
    submit(1);
    submit(1);
    submit(1);
    expect(calls).toEqual([]);
    await advance(0);
    submit(1);
    await advance(0);
    expect(calls.map((c) => c.ids)).toEqual([[0, 1, 2], [3]]);
  });

  it("rejects at once with 429 and a Retry-After estimate from recent throughput when the queue is full", async () => {
    const { b, submit } = harness({ maxBatchSize: 4, maxQueueSize: 4, maxQueueDelayMs: 0, compute: 40 });
    for (let i = 0; i < 4; i++) submit(1); // full: dispatched at once (10 ms per request)
    const queued = [submit(1), submit(1), submit(1), submit(1)];
    const over = submit(1);
    await advance(0);
    expect(over.s.state).toBe("err");
    expect(over.s.at).toBe(T0);
    expect(over.s.err).toBeInstanceOf(BatcherError);
    expect(over.s.err).toMatchObject({ status: 429, code: "REQUEST_LIMIT_EXCEEDED", reason: "queue_full", retryAfterMs: 1000 });
    expect(b.depth()).toEqual({ requests: 4, rows: 4 });
    await advance(40); // the first batch done; the 4 queued ones were dispatched
    for (let i = 0; i < 4; i++) submit(1);
    const over2 = submit(1);
    await advance(0);
    expect(over2.s.err).toMatchObject({ status: 429, retryAfterMs: 40 }); // 4 waiting × 10 ms
    expect((over2.s.err as Error).message).toMatch(/full \(4 requests waiting\); retry in about 40 ms/);
    await advance(200);
    expect(queued.every((q) => q.s.state === "ok")).toBe(true);
  });

  it("rejects a request whose deadline passes while queued with 503, promptly and without running it", async () => {
    const { b, calls, submit } = harness({ maxQueueDelayMs: 20, compute: 50 });
    const early = submit(1, { deadline: T0 + 3 });
    const ok = submit(1, { deadline: T0 + 1000 });
    await advance(3);
    expect(early.s).toMatchObject({ state: "err", at: T0 + 3 }); // the deadline timer, not the batch, told it
    expect(early.s.err).toMatchObject({ status: 503, code: "TEMPORARILY_UNAVAILABLE", reason: "deadline_exceeded" });
    expect(b.depth()).toEqual({ requests: 1, rows: 1 });
    await advance(17);
    expect(calls.map((c) => c.ids)).toEqual([[1]]); // runs T0+20 .. T0+70
    // Queued behind the running batch, its deadline passes before the slot frees.
    const behind = submit(1, { deadline: T0 + 60 });
    const after = submit(1);
    await advance(40);
    expect(behind.s).toMatchObject({ state: "err", at: T0 + 60 });
    await advance(10);
    expect(calls.map((c) => c.ids)).toEqual([[1], [3]]);
    const past = submit(1, { deadline: Date.now() });
    await advance(0);
    expect(past.s.err).toMatchObject({ status: 503, reason: "deadline_exceeded" });
    await advance(100);
    expect(ok.s.state).toBe("ok");
    expect(after.s.state).toBe("ok");
    expect(calls.flatMap((c) => c.ids)).not.toContain(early.id);
    expect(calls.flatMap((c) => c.ids)).not.toContain(behind.id);
  });

  it("keeps one timer for all deadlines and none once the queue is empty", async () => {
    const { submit } = harness({ maxBatchSize: 1000, maxQueueSize: 1000, maxQueueDelayMs: 10, compute: 5 });
    const rs = [];
    for (let i = 0; i < 200; i++) rs.push(submit(1, { deadline: T0 + 5000 - i }));
    expect(vi.getTimerCount()).toBe(2); // the delay timer and the earliest-deadline timer
    await advance(10);
    expect(vi.getTimerCount()).toBe(1); // the executor's compute; the queue is empty
    await advance(5);
    expect(vi.getTimerCount()).toBe(0);
    expect(rs.every((r) => r.s.state === "ok")).toBe(true);
  });

  it("removes an aborted request from the queue; an abort after dispatch changes nothing", async () => {
    const { b, calls, submit } = harness({ compute: 10 });
    const ac = new AbortController();
    const a = submit(2, { signal: ac.signal });
    const keep = submit(1);
    expect(b.depth()).toEqual({ requests: 2, rows: 3 });
    ac.abort();
    await advance(0);
    expect(a.s).toMatchObject({ state: "err", at: T0 });
    expect((a.s.err as Error).name).toBe("AbortError");
    expect(b.depth()).toEqual({ requests: 1, rows: 1 });
    expect(getEventListeners(ac.signal, "abort")).toHaveLength(0);

    const pre = new AbortController();
    pre.abort(new Error("gone"));
    const already = submit(1, { signal: pre.signal });
    await advance(0);
    expect(already.s.err).toMatchObject({ message: "gone" });

    const late = new AbortController();
    const running = submit(1, { signal: late.signal });
    await advance(10);
    expect(calls.map((c) => c.ids)).toEqual([[1, 3]]);
    expect(getEventListeners(late.signal, "abort")).toHaveLength(0);
    late.abort();
    await advance(10);
    expect(running.s).toMatchObject({ state: "ok", value: "out-3" });
    expect(keep.s.state).toBe("ok");
  });

  it("accepts a lightweight abort signal (no AbortController on the hot path)", async () => {
    const { b, calls, submit } = harness();
    const listeners = new Set<{ handleEvent(): void }>();
    const sig = {
      aborted: false,
      reason: undefined as unknown,
      addEventListener: (_t: "abort", l: { handleEvent(): void }) => listeners.add(l),
      removeEventListener: (_t: "abort", l: { handleEvent(): void }) => listeners.delete(l),
      fire(reason: unknown) {
        this.aborted = true;
        this.reason = reason;
        for (const l of [...listeners]) l.handleEvent();
      },
    };
    const a = submit(1, { signal: sig });
    const other = submit(1, { signal: { ...sig, addEventListener: () => {}, removeEventListener: () => {} } });
    expect(listeners.size).toBe(1);
    sig.fire("client went away");
    await advance(0);
    expect(a.s).toMatchObject({ state: "err", err: "client went away" });
    expect(listeners.size).toBe(0);
    expect(b.depth()).toEqual({ requests: 1, rows: 1 });
    await advance(30);
    expect(calls.map((c) => c.ids)).toEqual([[other.id]]);
  });

  it("rejects every request of a failed batch with its error and keeps working", async () => {
    let n = 0;
    const boom = new Error("boom");
    const { calls, submit } = harness({
      maxQueueDelayMs: 0,
      execute: async (batch) => {
        calls.push({ at: Date.now(), ids: batch.map((r) => r.id), rows: batch.length });
        n++;
        if (n === 1) throw boom;
        if (n === 2) return ["just one"];
        if (n === 3) throw new TypeError("sync-ish");
        return batch.map((r) => `out-${r.id}`);
      },
    });
    const first = [submit(1), submit(1)];
    await advance(0);
    const second = [submit(1), submit(1)];
    await advance(0);
    const third = submit(1);
    await advance(0);
    const fourth = [submit(1), submit(1)];
    await advance(0);
    for (const r of first) expect(r.s.err).toBe(boom);
    for (const r of second) expect(r.s.err).toMatchObject({ status: 500, code: "INTERNAL_ERROR", reason: "bad_result" });
    expect((second[0].s.err as Error).message).toMatch(/returned 1 results for a batch of 2 requests/);
    expect(third.s.err).toBeInstanceOf(TypeError);
    expect(fourth.map((r) => r.s.value)).toEqual(["out-5", "out-6"]);
  });

  it("an executor that throws synchronously fails only its batch", async () => {
    let n = 0;
    const { submit } = harness({
      maxQueueDelayMs: 0,
      execute: (batch) => {
        if (n++ === 0) throw new Error("sync");
        return Promise.resolve(batch.map((r) => `out-${r.id}`));
      },
    });
    const a = submit(1);
    await advance(0);
    const b2 = submit(1);
    await advance(0);
    expect(a.s.err).toMatchObject({ message: "sync" });
    expect(b2.s.value).toBe("out-1");
  });

  it("update() changes settings at run time without dropping queued requests", async () => {
    const { b, calls, submit } = harness({ maxBatchSize: 8, maxQueueDelayMs: 100 });
    submit(3);
    submit(3);
    await advance(10);
    b.update({ maxQueueDelayMs: 20 }); // the oldest arrived 10 ms ago: now due at T0+20
    await advance(9);
    expect(calls).toEqual([]);
    await advance(1);
    expect(calls.map((c) => [c.at - T0, c.ids])).toEqual([[20, [0, 1]]]);

    submit(4);
    submit(4);
    b.update({ maxBatchSize: 2 }); // both now larger than a batch: each runs alone, nothing is dropped
    await advance(100);
    expect(calls.slice(1).map((c) => c.ids)).toEqual([[2], [3]]);

    expect(() => b.update({ maxBatchSize: 0 })).toThrow(expect.objectContaining({ status: 400 }));
    expect(() => b.update({ preferredBatchSizes: [4] })).toThrow(/preferred batch size/);
    expect(b.settings()).toEqual({ maxBatchSize: 2, maxQueueDelayMs: 20, preferredBatchSizes: [], maxQueueSize: 100, maxConcurrentBatches: 1 });
    b.update({ maxBatchSize: 8, preferredBatchSizes: [2] });
    submit(1);
    submit(1);
    expect(calls.at(-1)?.ids).toEqual([4, 5]);
  });

  it("drain() stops accepting, flushes the queue without waiting for the delay, and resolves when all ran", async () => {
    const { b, calls, submit } = harness({ maxBatchSize: 2, maxQueueDelayMs: 1000, compute: 10 });
    const queued = [submit(1), submit(1), submit(1)];
    expect(calls.map((c) => c.ids)).toEqual([[0, 1]]);
    let drained = false;
    b.drain().then(() => {
      drained = true;
    });
    const late = submit(1);
    await advance(0);
    expect(late.s.err).toMatchObject({ status: 503, reason: "draining" });
    await advance(10);
    expect(calls.map((c) => [c.at - T0, c.ids])).toEqual([
      [0, [0, 1]],
      [10, [2]],
    ]);
    expect(drained).toBe(false);
    await advance(10);
    expect(drained).toBe(true);
    expect(queued.every((q) => q.s.state === "ok")).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("close() rejects what is queued; running batches still answer; later submits get 503", async () => {
    const { b, submit } = harness({ maxBatchSize: 1, compute: 10 });
    const running = submit(1);
    const queued = submit(1, { deadline: T0 + 5000 });
    const why = new Error("model unloaded");
    b.close(why);
    const after = submit(1);
    await advance(10);
    expect(running.s.value).toBe("out-0");
    expect(queued.s.err).toBe(why);
    expect(after.s.err).toMatchObject({ status: 503, reason: "closed" });
    expect(vi.getTimerCount()).toBe(0);
    await expect(b.drain()).resolves.toBeUndefined();
  });

  it("validates settings and row counts with 400s", async () => {
    const base = { maxBatchSize: 4, maxQueueDelayMs: 1, maxQueueSize: 10, rowsOf: (r: Req) => r.rows, execute: async (b: Req[]) => b.map(() => "") };
    expect(() => createBatcher({ ...base, maxBatchSize: 1.5 })).toThrow(expect.objectContaining({ status: 400 }));
    expect(() => createBatcher({ ...base, maxQueueDelayMs: -1 })).toThrow(/queue delay/);
    expect(() => createBatcher({ ...base, maxQueueSize: 0 })).toThrow(/queue size/);
    expect(() => createBatcher({ ...base, maxConcurrentBatches: 0 })).toThrow(/concurrent/);
    expect(() => createBatcher({ ...base, preferredBatchSizes: [5] })).toThrow(/preferred/);
    const b = createBatcher({ ...base });
    for (const rows of [-1, 1.5, Number.NaN]) {
      await expect(b.submit({ id: 0, rows })).rejects.toMatchObject({ status: 400 });
    }
    expect(b.depth()).toEqual({ requests: 0, rows: 0 });
  });

  it("survives a throwing metrics hook and an executor that submits synchronously", async () => {
    let inner: Settled | undefined;
    const h = harness({
      maxQueueDelayMs: 0,
      onBatch: () => {
        throw new Error("metrics down");
      },
    });
    const b = createBatcher<Req, string>({
      maxBatchSize: 4,
      maxQueueDelayMs: 0,
      maxQueueSize: 10,
      rowsOf: (r) => r.rows,
      execute: (batch) => {
        if (batch[0].id === 0) inner = track(b.submit({ id: 1, rows: 1 }));
        return Promise.resolve(batch.map((r) => `out-${r.id}`));
      },
    });
    const outer = track(b.submit({ id: 0, rows: 1 }));
    const viaHarness = h.submit(1);
    await advance(20);
    expect(outer.value).toBe("out-0");
    expect(inner?.value).toBe("out-1");
    expect(viaHarness.s.value).toBe("out-0");
  });
});

describe("batcher on the real clock", () => {
  it("keeps measured queue waits within the delay plus one batch's compute", async () => {
    const delay = 5;
    const waits: number[] = [];
    let maxCompute = 0;
    const b = createBatcher<number, number>({
      maxBatchSize: 16,
      maxQueueDelayMs: delay,
      maxQueueSize: 1000,
      rowsOf: () => 1,
      execute: async (batch) => {
        await sleep(8);
        return batch;
      },
      onBatch: (i) => {
        waits.push(...i.queueWaitsMs);
        maxCompute = Math.max(maxCompute, i.computeMs);
      },
    });
    // How late this thread's timers fire meanwhile (a loaded machine deschedules it): that much more wait is
    // the machine's, not the batcher's.
    let late = 0;
    let probing = true;
    const probe = (async () => {
      while (probing) {
        const t = performance.now();
        await sleep(1);
        late = Math.max(late, performance.now() - t - 1);
      }
    })();
    const all: Promise<number>[] = [];
    for (let i = 0; i < 120; i++) {
      all.push(b.submit(i));
      if (i % 3 === 0) await sleep(i % 7);
    }
    expect(await Promise.all(all)).toEqual(all.map((_, i) => i));
    probing = false;
    await probe;
    expect(Math.max(...waits), `timers ran up to ${late.toFixed(1)} ms late`).toBeLessThanOrEqual(delay + maxCompute + late + 5);
    expect(waits.length).toBe(120);
  });

  it("deadlines are on a monotonic clock: a wall-clock step (NTP) neither expires nor extends queued requests", async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => {
      release = r;
    });
    const b = createBatcher<number, number>({
      maxBatchSize: 1,
      maxQueueDelayMs: 0,
      maxQueueSize: 10,
      rowsOf: () => 1,
      execute: async (x) => {
        await held;
        return x;
      },
    });
    const running = b.submit(1, { deadline: monotonicMs() + 60_000 });
    const queued = b.submit(2, { deadline: monotonicMs() + 60_000 });
    const short = b.submit(3, { deadline: monotonicMs() + 30 }).catch((err: unknown) => err);
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      vi.setSystemTime(Date.now() - 3_600_000); // the wall clock goes back an hour: the short one still expires
      expect(await short).toMatchObject({ status: 503, reason: "deadline_exceeded" });
      vi.setSystemTime(Date.now() + 7_200_000); // then an hour ahead: the queued one is still run
      release();
      expect(await running).toBe(1);
      expect(await queued).toBe(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it("a pending delay timer keeps a process alive until its request is answered (an unref'd one exits with code 13)", () => {
    const script = [
      `import { createBatcher } from ${JSON.stringify(fileURLToPath(new URL("../../src/serving/batcher.ts", import.meta.url)))};`,
      "const b = createBatcher({ maxBatchSize: 8, maxQueueDelayMs: 50, maxQueueSize: 10, rowsOf: () => 1, execute: async (x) => x.map((v) => v * 2) });",
      "console.log(await b.submit(21));",
    ].join("\n");
    const out = execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { encoding: "utf8", timeout: 30_000 });
    expect(out.trim()).toBe("42");
  });
});

/**
 * Property tests of the dynamic batcher on a fake clock: random arrival schedules, sizes (including empty
 * and oversized requests), deadlines, aborts, small queues, compute times and failing batches. From the
 * recorded trace (every submit, abort, batch start and end, and settlement, each with its time and a
 * sequence number) the test rebuilds the queue at any instant and checks:
 * - every request settles exactly once, with its own result, or with the error its history explains;
 * - FIFO: each batch is exactly the head of the queue at its start, so order holds within and across batches;
 * - no batch exceeds maxBatchSize rows, except one oversized request alone;
 * - each batch had a reason to go (full, the oldest's delay reached, or the longest preferred prefix);
 * - work conservation: at no instant is a slot free while the queue holds a batch that is due;
 * - hence the latency bound: a wait beyond delay + one compute only under overload;
 * - 429 exactly when maxQueueSize requests are waiting; deadlines fire at the deadline; no timer is left.
 */
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type BatchInfo, createBatcher } from "../../src/serving/batcher.js";

interface Req {
  id: number;
  rows: number;
}

interface Scenario {
  maxBatchSize: number;
  maxQueueDelayMs: number;
  preferred: number[];
  concurrency: number;
  maxQueueSize: number;
  requests: { gap: number; rows: number; deadlineIn: number | null; abortIn: number | null }[];
  computes: number[];
  outcomes: ("ok" | "fail" | "bad")[];
}

const scenarioArb: fc.Arbitrary<Scenario> = fc.integer({ min: 1, max: 10 }).chain((max) =>
  fc.record({
    maxBatchSize: fc.constant(max),
    maxQueueDelayMs: fc.integer({ min: 0, max: 20 }),
    preferred: fc.subarray(Array.from({ length: max }, (_, i) => i + 1), { maxLength: Math.min(3, max) }),
    concurrency: fc.integer({ min: 1, max: 3 }),
    maxQueueSize: fc.oneof(fc.constant(1000), fc.integer({ min: 1, max: 8 })),
    requests: fc.array(
      fc.record({
        gap: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 15 })),
        rows: fc.oneof({ weight: 10, arbitrary: fc.integer({ min: 1, max }) }, { weight: 1, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: max + 1, max: max + 4 }) }),
        deadlineIn: fc.option(fc.integer({ min: 1, max: 60 }), { freq: 3 }),
        abortIn: fc.option(fc.integer({ min: 0, max: 40 }), { freq: 5 }),
      }),
      { maxLength: 40, size: "max" },
    ),
    computes: fc.array(fc.integer({ min: 1, max: 25 }), { minLength: 1, maxLength: 5 }),
    outcomes: fc.array(fc.constantFrom<("ok" | "fail" | "bad")[]>("ok", "ok", "ok", "ok", "fail", "bad"), { minLength: 1, maxLength: 5 }),
  }),
);

interface Rec {
  id: number;
  rows: number;
  arrival: number;
  submitSeq: number;
  deadline?: number;
  abortSeq?: number;
  abortAt?: number;
  reason?: unknown;
  batch?: number;
  settled?: { ok: boolean; value?: unknown; err?: unknown; at: number };
}

interface BatchRec {
  index: number;
  seq: number;
  start: number;
  end: number;
  ids: number[];
  rows: number;
  outcome: "ok" | "fail" | "bad";
  error: Error;
}

const T0 = 5_000_000;

async function simulate(sc: Scenario) {
  let seq = 0;
  const recs: Rec[] = [];
  const batches: BatchRec[] = [];
  const infos: BatchInfo[] = [];
  const b = createBatcher<Req, { id: number }>({
    maxBatchSize: sc.maxBatchSize,
    maxQueueDelayMs: sc.maxQueueDelayMs,
    preferredBatchSizes: sc.preferred,
    maxConcurrentBatches: sc.concurrency,
    maxQueueSize: sc.maxQueueSize,
    rowsOf: (r) => r.rows,
    now: () => Date.now(),
    onBatch: (i) => infos.push(i),
    execute: (batch) => {
      const index = batches.length;
      const compute = sc.computes[index % sc.computes.length];
      const outcome = sc.outcomes[index % sc.outcomes.length];
      const start = Date.now();
      const rec: BatchRec = { index, seq: seq++, start, end: start + compute, ids: batch.map((r) => r.id), rows: batch.reduce((a, r) => a + r.rows, 0), outcome, error: new Error(`batch ${index} failed`) };
      batches.push(rec);
      for (const r of batch) recs[r.id].batch = index;
      return new Promise((resolve, reject) =>
        setTimeout(() => {
          if (outcome === "fail") reject(rec.error);
          else if (outcome === "bad") resolve(batch.slice(1).map((r) => ({ id: r.id })));
          else resolve(batch.map((r) => ({ id: r.id })));
        }, compute),
      );
    },
  });
  const abortTimers: ReturnType<typeof setTimeout>[] = [];
  for (const [id, q] of sc.requests.entries()) {
    await vi.advanceTimersByTimeAsync(q.gap);
    const now = Date.now();
    const rec: Rec = { id, rows: q.rows, arrival: now, submitSeq: seq++ };
    recs.push(rec);
    const ac = q.abortIn === null ? undefined : new AbortController();
    if (q.deadlineIn !== null) rec.deadline = now + q.deadlineIn;
    if (ac !== undefined) {
      rec.reason = new Error(`abort ${id}`);
      abortTimers.push(
        setTimeout(() => {
          rec.abortSeq = seq++;
          rec.abortAt = Date.now();
          ac.abort(rec.reason);
        }, q.abortIn!),
      );
    }
    b.submit({ id, rows: q.rows }, { deadline: rec.deadline, signal: ac?.signal }).then(
      (value) => {
        expect(rec.settled).toBeUndefined();
        rec.settled = { ok: true, value, at: Date.now() };
      },
      (err) => {
        expect(rec.settled).toBeUndefined();
        rec.settled = { ok: false, err, at: Date.now() };
      },
    );
  }
  const finished = () => recs.every((r) => r.settled) && batches.every((x) => x.end <= Date.now());
  for (let i = 0; !finished() && i < 10_000; i++) await vi.advanceTimersToNextTimerAsync();
  expect(finished()).toBe(true);
  for (const t of abortTimers) clearTimeout(t);
  expect(vi.getTimerCount()).toBe(0); // nothing armed once idle
  expect(b.depth()).toEqual({ requests: 0, rows: 0 });
  return { recs, batches, infos };
}

function check(sc: Scenario, recs: Rec[], batches: BatchRec[], infos: BatchInfo[]): void {
  const { maxBatchSize: max, maxQueueDelayMs: delay, concurrency } = sc;
  const prefs = new Set(sc.preferred);
  const maxCompute = Math.max(...sc.computes);
  const errReason = (r: Rec) => (r.settled?.err as { reason?: string } | undefined)?.reason;
  const accepted = recs.filter((r) => errReason(r) !== "queue_full");

  /** The queue just before sequence point `seq` at time `t`, oldest first. */
  const pendingAt = (seq: number, t: number) =>
    accepted.filter(
      (r) =>
        r.submitSeq < seq &&
        !(r.batch !== undefined && batches[r.batch].seq < seq) &&
        !(r.abortSeq !== undefined && r.abortSeq < seq) &&
        !(r.deadline !== undefined && r.deadline <= t),
    );
  const busyAt = (t: number) => batches.filter((x) => x.start <= t && t < x.end).length;
  /** The batch due from this queue at time t, or undefined if the batcher should wait. */
  const due = (q: Rec[], t: number): number | undefined => {
    if (q.length === 0) return undefined;
    if (q[0].rows > max) return 1;
    let rows = 0;
    let k = 0;
    let pref = 0;
    while (k < q.length && rows + q[k].rows <= max && rows < max) {
      rows += q[k++].rows;
      if (prefs.has(rows)) pref = k;
    }
    if (rows === max || k < q.length || q[0].arrival + delay <= t) return k;
    return pref > 0 ? pref : undefined;
  };

  // Each request: its own result, or an error its history explains.
  for (const r of recs) {
    const s = r.settled!;
    if (r.batch !== undefined) {
      const x = batches[r.batch];
      if (r.abortSeq !== undefined) expect(r.abortSeq).toBeGreaterThan(x.seq);
      if (r.deadline !== undefined) expect(x.start).toBeLessThan(r.deadline);
      expect(s.at).toBe(x.end);
      if (x.outcome === "ok") expect(s).toMatchObject({ ok: true, value: { id: r.id } });
      else if (x.outcome === "fail") expect(s.err).toBe(x.error);
      else expect(s.err).toMatchObject({ status: 500, reason: "bad_result" });
      continue;
    }
    expect(s.ok).toBe(false);
    const reason = errReason(r);
    if (reason === "queue_full") {
      expect(s.at).toBe(r.arrival);
      expect(s.err).toMatchObject({ status: 429 });
      expect((s.err as { retryAfterMs: number }).retryAfterMs).toBeGreaterThanOrEqual(1);
    } else if (reason === "deadline_exceeded") {
      expect(s.err).toMatchObject({ status: 503 });
      expect(s.at).toBe(r.deadline);
      if (r.abortAt !== undefined) expect(r.abortAt).toBeGreaterThanOrEqual(r.deadline!);
    } else {
      expect(s.err).toBe(r.reason);
      expect(s.at).toBe(r.abortAt);
      if (r.deadline !== undefined) expect(r.abortAt).toBeLessThanOrEqual(r.deadline);
    }
  }

  // The bounded queue: 429 exactly when maxQueueSize requests were waiting.
  for (const r of recs) {
    const waiting = pendingAt(r.submitSeq, r.arrival).length;
    if (errReason(r) === "queue_full") expect(waiting).toBeGreaterThanOrEqual(sc.maxQueueSize);
    else expect(waiting).toBeLessThan(sc.maxQueueSize);
  }

  // Each batch: the head of the queue, within the size limit, and due when it started.
  for (const x of batches) {
    const q = pendingAt(x.seq, x.start);
    expect(x.ids).toEqual(q.slice(0, x.ids.length).map((r) => r.id));
    expect(x.rows <= max || x.ids.length === 1).toBe(true);
    expect(due(q, x.start)).toBe(x.ids.length);
  }
  // FIFO across batches too.
  const order = batches.flatMap((x) => x.ids);
  expect(order).toEqual([...order].sort((a, c) => a - c));

  // Work conservation, at every instant something can change.
  const times = new Set<number>();
  for (const r of recs) {
    times.add(r.arrival);
    times.add(r.arrival + delay);
    if (r.deadline !== undefined) times.add(r.deadline);
    if (r.abortAt !== undefined) times.add(r.abortAt);
  }
  for (const x of batches) {
    times.add(x.start);
    times.add(x.end);
  }
  for (const t of times) {
    if (busyAt(t) >= concurrency) continue;
    const q = accepted.filter(
      (r) =>
        r.arrival <= t &&
        !(r.batch !== undefined && batches[r.batch].start <= t) &&
        !(r.abortAt !== undefined && r.abortAt <= t) &&
        !(r.deadline !== undefined && r.deadline <= t),
    );
    expect(due(q, t), `a slot is free at ${t - T0} while a batch is due`).toBeUndefined();
  }

  // The latency bound: beyond delay + one compute only when a batch without it went in between (overload).
  for (const r of recs) {
    if (r.batch === undefined) continue;
    const start = batches[r.batch].start;
    if (start - r.arrival <= delay + maxCompute) continue;
    const overtaken = batches.some((x) => x.start >= r.arrival + delay && x.start < start);
    expect(overtaken, `request ${r.id} waited ${start - r.arrival} ms`).toBe(true);
  }

  // The metrics hook saw each batch (in completion order) with the waits measured here.
  const key = (i: BatchInfo) => JSON.stringify(i);
  const expected = batches.map((x) =>
    key({ size: x.ids.length, rows: x.rows, queueWaitsMs: x.ids.map((id) => x.start - recs[id].arrival), computeMs: x.end - x.start, ok: x.outcome === "ok" }),
  );
  expect(infos.map(key).sort()).toEqual(expected.sort());
}

describe("batcher properties (fake clock)", () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: T0, toFake: ["setTimeout", "clearTimeout", "setImmediate", "clearImmediate", "Date"] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("every request gets its own result, FIFO, within the size limit, due when dispatched, work-conserving", async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb, async (sc) => {
        vi.setSystemTime(T0);
        const { recs, batches, infos } = await simulate(sc);
        check(sc, recs, batches, infos);
      }),
      { numRuns: Number(process.env.KEEL_FUZZ_RUNS ?? 150) },
    );
  });
});

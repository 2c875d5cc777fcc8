/**
 * The per-model dynamic batcher: requests coalesce along dim 0 into one executor call, FIFO, never split.
 * Generic and free of onnxruntime: the runtime passes `rowsOf` and `execute`, so the rules are testable
 * with a fake clock and a fake executor.
 *
 * When a batch goes (decided whenever a batch slot is free, walking the queue from its oldest request):
 * - full: the queued rows reach `maxBatchSize`, or the next request would not fit → now;
 * - the oldest request has waited `maxQueueDelayMs` (counted from its own arrival, so one that arrived
 *   while every slot was busy goes in the very next batch), or the batcher is draining → now, with
 *   everything that fits;
 * - otherwise, if some FIFO prefix of the queue sums to a preferred batch size → now, with the longest
 *   such prefix (Triton's rule; the rest keeps waiting for its own delay);
 * - otherwise wait, with one timer for the oldest request's delay.
 * Hence the latency bound: a request waits at most its delay plus the rest of one batch's compute, unless
 * the queue holds more than a batch's worth of rows ahead of it (overload, which the bounded queue caps).
 *
 * Choices:
 * - `maxQueueSize` counts requests (as Triton's max_queue_size does): it is what a 429 rejects, and a
 *   request's rows are already bounded by the protocol layer's body limit.
 * - A request with more rows than `maxBatchSize` is not rejected: it runs alone, as its own batch, in its
 *   FIFO turn and without waiting for the delay. `maxBatchSize` is a batching knob, not a model limit
 *   (dynamic dim 0); MLflow's scoring clients send whole dataframes and expect them scored. Shrinking
 *   `maxBatchSize` with update() therefore never strands a queued request.
 * - An abort after dispatch has no effect: the batch runs and the promise resolves with its result.
 * - Timers exist only while requests are queued. The delay timer is kept ref'd (it is at most
 *   `maxQueueDelayMs` long and a queued request is pending work: a script awaiting submit() must not exit
 *   under it); the earliest-deadline timer is unref'd and cleared when the queue empties.
 */
import { invalidParam } from "../core/errors.js";
import {
  type AbortSignalLike,
  type Batcher,
  BatcherError,
  type BatcherOptions,
  type BatcherSettings,
  type BatchInfo,
  type SubmitOptions,
  validateBatcherSettings,
} from "./batcher-api.js";
import { Ring } from "./batcher-ring.js";
import { monotonicMs } from "../core/clock.js";

export * from "./batcher-api.js";

export function createBatcher<Req, Res>(opts: BatcherOptions<Req, Res>): Batcher<Req, Res> {
  return new BatcherImpl(opts);
}

function copyList(v: readonly number[]): number[] {
  if (!Array.isArray(v)) throw invalidParam("The preferred batch sizes must be a list of integers.");
  return [...v];
}

const QUEUED = 0;
const DISPATCHED = 1;
const DONE = 2;
/** setTimeout's limit; a later deadline is re-armed when this fires. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** Retry hint before any batch has completed. */
const DEFAULT_RETRY_AFTER_MS = 1000;

class Entry<Req, Res> {
  state = QUEUED;
  resolve!: (res: Res) => void;
  reject!: (err: unknown) => void;
  constructor(
    readonly owner: BatcherImpl<Req, Res>,
    readonly req: Req,
    readonly rows: number,
    readonly arrival: number,
    readonly deadline: number,
    readonly signal: AbortSignalLike | undefined,
  ) {}
  /** The abort listener: the entry itself, so a signal costs no closure. */
  handleEvent(): void {
    this.owner.abortEntry(this);
  }
}

// One shared Promise executor (no closure per request): submit() sets `capturing` just before `new Promise`.
let capturing: Entry<unknown, unknown> | undefined;
function capture(resolve: (v: unknown) => void, reject: (e: unknown) => void): void {
  capturing!.resolve = resolve;
  capturing!.reject = reject;
}

class BatcherImpl<Req, Res> implements Batcher<Req, Res> {
  private s: BatcherSettings;
  private prefs: Set<number> | undefined;
  private readonly queue = new Ring<Entry<Req, Res>>();
  /** Queued requests and rows, not counting cancelled entries still in the ring. */
  private live = 0;
  private liveRows = 0;
  private inFlight = 0;
  private pumping = false;
  private delayTimer: NodeJS.Timeout | undefined;
  private delayImmediate: NodeJS.Immediate | undefined;
  private delayDue = Number.POSITIVE_INFINITY;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private deadlineDue = Number.POSITIVE_INFINITY;
  private deadlineFireAt = 0;
  private draining = false;
  private closed = false;
  private drained: Promise<void> | undefined;
  private resolveDrained: (() => void) | undefined;
  /** Moving average of compute ms per request (successful batches), for the 429 retry hint; < 0 = none yet. */
  private msPerRequest = -1;
  /** Set by plan(): live requests and rows in the batch it chose. */
  private planCount = 0;
  private planRows = 0;
  private readonly now: () => number;
  private readonly rowsOf: (req: Req) => number;
  private readonly execute: (batch: Req[]) => Promise<Res[]>;
  private readonly onBatch: ((info: BatchInfo) => void) | undefined;
  private readonly label: string;

  constructor(opts: BatcherOptions<Req, Res>) {
    this.s = {
      maxBatchSize: opts.maxBatchSize,
      maxQueueDelayMs: opts.maxQueueDelayMs,
      preferredBatchSizes: copyList(opts.preferredBatchSizes ?? []),
      maxQueueSize: opts.maxQueueSize,
      maxConcurrentBatches: opts.maxConcurrentBatches ?? 1,
    };
    validateBatcherSettings(this.s);
    this.prefs = this.s.preferredBatchSizes.length ? new Set(this.s.preferredBatchSizes) : undefined;
    this.now = opts.now ?? monotonicMs;
    this.rowsOf = opts.rowsOf;
    this.execute = opts.execute;
    this.onBatch = opts.onBatch;
    this.label = opts.name === undefined ? "the model" : `model '${opts.name}'`;
  }

  submit(req: Req, opts?: SubmitOptions): Promise<Res> {
    if (this.closed || this.draining) return Promise.reject(this.stoppedError());
    let rows: number;
    try {
      rows = this.rowsOf(req);
    } catch (err) {
      return Promise.reject(err);
    }
    if (!Number.isSafeInteger(rows) || rows < 0) return Promise.reject(invalidParam(`The request's batch dimension must be a non-negative integer (got ${rows}).`));
    const t = this.now();
    const deadline = opts?.deadline ?? Number.POSITIVE_INFINITY;
    if (deadline <= t) return Promise.reject(this.deadlineError(0));
    const signal = opts?.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const s = this.s;
    if (this.live >= s.maxQueueSize) return Promise.reject(this.queueFullError());

    const e = new Entry<Req, Res>(this, req, rows, t, deadline, signal);
    capturing = e as Entry<unknown, unknown>;
    const promise = new Promise<Res>(capture as (resolve: (v: Res) => void, reject: (e: unknown) => void) => void);
    capturing = undefined;
    this.queue.push(e);
    this.live++;
    this.liveRows += rows;
    if (signal !== undefined) signal.addEventListener("abort", e);
    if (deadline < this.deadlineDue) this.armDeadline(deadline, t);
    if (this.inFlight < s.maxConcurrentBatches && !this.pumping) {
      // The queue was waiting (no prefix full or preferred) and still all fits: only the new total is new.
      if (this.liveRows >= s.maxBatchSize || this.prefs?.has(this.liveRows)) this.pump(t);
      else this.armDelay(this.queue.at(0).arrival + s.maxQueueDelayMs, t);
    }
    return promise;
  }

  depth(): { requests: number; rows: number } {
    return { requests: this.live, rows: this.liveRows };
  }

  settings(): BatcherSettings {
    return { ...this.s, preferredBatchSizes: [...this.s.preferredBatchSizes] };
  }

  update(settings: Partial<BatcherSettings>): void {
    const cur = this.s;
    const next: BatcherSettings = {
      maxBatchSize: settings.maxBatchSize ?? cur.maxBatchSize,
      maxQueueDelayMs: settings.maxQueueDelayMs ?? cur.maxQueueDelayMs,
      preferredBatchSizes: copyList(settings.preferredBatchSizes ?? cur.preferredBatchSizes),
      maxQueueSize: settings.maxQueueSize ?? cur.maxQueueSize,
      maxConcurrentBatches: settings.maxConcurrentBatches ?? cur.maxConcurrentBatches,
    };
    validateBatcherSettings(next);
    this.s = next;
    this.prefs = next.preferredBatchSizes.length ? new Set(next.preferredBatchSizes) : undefined;
    this.clearDelay(); // the delay may have shrunk; pump re-arms
    if (this.live > 0) this.pump(this.now());
  }

  drain(): Promise<void> {
    if (this.drained === undefined) {
      this.draining = true;
      this.drained = new Promise<void>((resolve) => {
        this.resolveDrained = resolve;
      });
      if (this.live > 0) this.pump(this.now());
      this.maybeDrained();
    }
    return this.drained;
  }

  close(err?: unknown): void {
    if (this.closed) return;
    this.closed = true;
    const reason = err ?? new BatcherError("TEMPORARILY_UNAVAILABLE", "closed", `The batch queue of ${this.label} was closed; retry the request.`);
    this.clearDelay();
    this.clearDeadline();
    const q = this.queue;
    while (q.size > 0) {
      const e = q.shift();
      if (e.state === QUEUED) this.remove(e, reason);
    }
    this.maybeDrained();
  }

  /** Called by an entry's abort listener. */
  abortEntry(e: Entry<Req, Res>): void {
    if (e.state !== QUEUED) return;
    this.remove(e, e.signal!.reason);
    this.afterRemoval();
  }

  // ---- Dispatch -------------------------------------------------------------------------------------

  /** Dispatches every batch that is due while slots are free; then waits on the oldest request's delay. */
  private pump(t: number): void {
    if (this.pumping) return; // execute() called submit() synchronously: the loop below picks it up
    this.pumping = true;
    try {
      while (this.live > 0 && this.inFlight < this.s.maxConcurrentBatches) {
        const slots = this.plan(t);
        if (slots === 0) break;
        this.dispatch(slots, t);
      }
      this.trimHead();
      if (this.live === 0) this.idle();
      else if (this.inFlight < this.s.maxConcurrentBatches) this.armDelay(this.queue.at(0).arrival + this.s.maxQueueDelayMs, t);
    } finally {
      this.pumping = false;
    }
  }

  /**
   * Chooses the next batch (the rules are in the file comment): returns how many ring slots it spans from
   * the head (0: wait) and sets planCount/planRows. Rejects requests whose deadline has passed on the way.
   */
  private plan(t: number): number {
    const max = this.s.maxBatchSize;
    const q = this.queue;
    const size = q.size;
    const prefs = this.prefs;
    let rows = 0;
    let n = 0;
    let i = 0;
    let full = false;
    let headArrival = 0;
    let prefSlots = 0;
    let prefN = 0;
    let prefRows = 0;
    for (; i < size; i++) {
      const e = q.at(i);
      if (e.state !== QUEUED) continue;
      if (e.deadline <= t) {
        this.remove(e, this.deadlineError(t - e.arrival));
        continue;
      }
      if (n === 0) {
        headArrival = e.arrival;
        if (e.rows > max) {
          this.planCount = 1;
          this.planRows = e.rows;
          return i + 1;
        }
      }
      if (rows + e.rows > max) {
        full = true;
        break;
      }
      rows += e.rows;
      n++;
      if (rows === max) {
        i++;
        full = true;
        break;
      }
      if (prefs?.has(rows)) {
        prefSlots = i + 1;
        prefN = n;
        prefRows = rows;
      }
    }
    if (n === 0) return 0;
    if (full || this.draining || headArrival + this.s.maxQueueDelayMs <= t) {
      this.planCount = n;
      this.planRows = rows;
      return i;
    }
    if (prefSlots > 0) {
      this.planCount = prefN;
      this.planRows = prefRows;
      return prefSlots;
    }
    return 0;
  }

  private dispatch(slots: number, t: number): void {
    const n = this.planCount;
    const rows = this.planRows;
    const q = this.queue;
    const reqs = new Array<Req>(n);
    const entries = new Array<Entry<Req, Res>>(n);
    const waits = this.onBatch === undefined ? undefined : new Array<number>(n);
    let k = 0;
    for (let i = 0; i < slots; i++) {
      const e = q.shift();
      if (e.state !== QUEUED) continue;
      e.state = DISPATCHED;
      if (e.signal !== undefined) e.signal.removeEventListener("abort", e);
      reqs[k] = e.req;
      entries[k] = e;
      if (waits !== undefined) waits[k] = t - e.arrival;
      k++;
    }
    this.live -= n;
    this.liveRows -= rows;
    this.inFlight++;
    let p: Promise<Res[]>;
    try {
      p = Promise.resolve(this.execute(reqs));
    } catch (err) {
      p = Promise.reject(err);
    }
    p.then(
      (results) => this.finish(entries, rows, waits, t, results, undefined, false),
      (err) => this.finish(entries, rows, waits, t, undefined, err, true),
    );
  }

  private finish(entries: Entry<Req, Res>[], rows: number, waits: number[] | undefined, start: number, results: Res[] | undefined, err: unknown, failed: boolean): void {
    this.inFlight--;
    const t = this.now();
    const computeMs = Math.max(0, t - start);
    const n = entries.length;
    if (!failed && (!Array.isArray(results) || results.length !== n)) {
      failed = true;
      const got = Array.isArray(results) ? `${results.length} results` : typeof results;
      err = new BatcherError("INTERNAL_ERROR", "bad_result", `The executor of ${this.label} returned ${got} for a batch of ${n} requests.`);
    }
    for (let i = 0; i < n; i++) {
      const e = entries[i];
      e.state = DONE;
      if (failed) e.reject(err);
      else e.resolve((results as Res[])[i]);
    }
    if (!failed && n > 0) {
      const sample = computeMs / n;
      this.msPerRequest = this.msPerRequest < 0 ? sample : 0.8 * this.msPerRequest + 0.2 * sample;
    }
    if (this.onBatch !== undefined) {
      try {
        this.onBatch({ size: n, rows, queueWaitsMs: waits as number[], computeMs, ok: !failed });
      } catch {
        // a metrics hook must never break serving
      }
    }
    if (this.live > 0) this.pump(t);
    else this.maybeDrained();
  }

  // ---- Removal, timers, errors ------------------------------------------------------------------------

  private remove(e: Entry<Req, Res>, err: unknown): void {
    e.state = DONE;
    this.live--;
    this.liveRows -= e.rows;
    if (e.signal !== undefined) e.signal.removeEventListener("abort", e);
    e.reject(err);
  }

  /** After requests left the queue out of turn: drop dead slots and re-plan (a prefix may now be due). */
  private afterRemoval(): void {
    this.trimHead();
    const dead = this.queue.size - this.live;
    if (dead > 64 && dead > this.live) this.queue.retain((e) => e.state === QUEUED);
    if (this.live === 0) this.idle();
    else if (this.inFlight < this.s.maxConcurrentBatches) this.pump(this.now());
  }

  private trimHead(): void {
    const q = this.queue;
    while (q.size > 0 && q.at(0).state !== QUEUED) q.shift();
  }

  private idle(): void {
    this.clearDelay();
    this.clearDeadline();
    this.maybeDrained();
  }

  private maybeDrained(): void {
    if (this.resolveDrained !== undefined && this.live === 0 && this.inFlight === 0) {
      this.resolveDrained();
      this.resolveDrained = undefined;
    }
  }

  private armDelay(due: number, t: number): void {
    if (this.delayDue <= due) return; // an armed timer fires first; it re-plans and re-arms
    this.clearDelay();
    this.delayDue = due;
    if (due <= t) this.delayImmediate = setImmediate(this.onDelay);
    else this.delayTimer = setTimeout(this.onDelay, due - t);
  }

  private clearDelay(): void {
    if (this.delayTimer !== undefined) clearTimeout(this.delayTimer);
    if (this.delayImmediate !== undefined) clearImmediate(this.delayImmediate);
    this.delayTimer = undefined;
    this.delayImmediate = undefined;
    this.delayDue = Number.POSITIVE_INFINITY;
  }

  private readonly onDelay = (): void => {
    const due = this.delayDue;
    this.delayTimer = undefined;
    this.delayImmediate = undefined;
    this.delayDue = Number.POSITIVE_INFINITY;
    // Timers and the clock may disagree by a fraction of a ms: the timer's due time counts as reached.
    if (this.live > 0 && this.inFlight < this.s.maxConcurrentBatches) this.pump(Math.max(this.now(), due));
  };

  private armDeadline(deadline: number, t: number): void {
    if (this.deadlineTimer !== undefined) clearTimeout(this.deadlineTimer);
    const wait = Math.min(Math.max(0, deadline - t), MAX_TIMER_MS);
    this.deadlineDue = deadline;
    this.deadlineFireAt = t + wait;
    this.deadlineTimer = setTimeout(this.onDeadline, wait);
    this.deadlineTimer.unref();
  }

  private clearDeadline(): void {
    if (this.deadlineTimer !== undefined) clearTimeout(this.deadlineTimer);
    this.deadlineTimer = undefined;
    this.deadlineDue = Number.POSITIVE_INFINITY;
  }

  /** The one deadline timer: rejects every queued request past its deadline, then re-arms for the earliest left. */
  private readonly onDeadline = (): void => {
    this.deadlineTimer = undefined;
    this.deadlineDue = Number.POSITIVE_INFINITY;
    const now = this.now();
    const t = Math.max(now, this.deadlineFireAt);
    const q = this.queue;
    let earliest = Number.POSITIVE_INFINITY;
    for (let i = 0; i < q.size; i++) {
      const e = q.at(i);
      if (e.state !== QUEUED) continue;
      if (e.deadline <= t) this.remove(e, this.deadlineError(t - e.arrival));
      else if (e.deadline < earliest) earliest = e.deadline;
    }
    if (earliest !== Number.POSITIVE_INFINITY) this.armDeadline(earliest, now);
    this.afterRemoval();
  };

  private deadlineError(waitedMs: number): BatcherError {
    return new BatcherError("TEMPORARILY_UNAVAILABLE", "deadline_exceeded", `The request's deadline passed after ${Math.round(waitedMs)} ms in the queue of ${this.label}; it was not run.`);
  }

  private queueFullError(): BatcherError {
    const est = this.msPerRequest < 0 ? DEFAULT_RETRY_AFTER_MS : (this.live * this.msPerRequest) / this.s.maxConcurrentBatches;
    const retryAfterMs = Math.max(1, Math.ceil(est));
    return new BatcherError(
      "REQUEST_LIMIT_EXCEEDED",
      "queue_full",
      `The queue of ${this.label} is full (${this.live} requests waiting); retry in about ${retryAfterMs} ms.`,
      retryAfterMs,
    );
  }

  private stoppedError(): BatcherError {
    return this.closed
      ? new BatcherError("TEMPORARILY_UNAVAILABLE", "closed", `The batch queue of ${this.label} is closed; retry the request.`)
      : new BatcherError("TEMPORARILY_UNAVAILABLE", "draining", `The batch queue of ${this.label} is draining (the model is being replaced); retry the request.`);
  }
}

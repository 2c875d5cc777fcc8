/**
 * The batcher's public surface: settings, options, the Batcher interface, its error type and the settings
 * check (which the deployments layer can call on its own to answer a bad spec with 400).
 */
import { type ErrorCode, invalidParam, KeelError } from "../core/errors.js";

/** The settings a deployment can change at run time (update()). */
export interface BatcherSettings {
  /** Rows (dim 0) per batch; a request with more rows runs alone. */
  maxBatchSize: number;
  /** How long the oldest queued request may wait for company (0: only what arrived in the same event-loop turn). */
  maxQueueDelayMs: number;
  /** Batch sizes the model runs best at: a queue prefix reaching one is dispatched without waiting. */
  preferredBatchSizes: readonly number[];
  /** Requests waiting (not rows); one more is rejected at once with 429. */
  maxQueueSize: number;
  /** Batches executing at once. */
  maxConcurrentBatches: number;
}

export interface BatchInfo {
  /** Requests in the batch. */
  size: number;
  rows: number;
  /** Per request, in batch order: dispatch time − arrival time. */
  queueWaitsMs: number[];
  computeMs: number;
  /** False when execute() failed or returned the wrong number of results. */
  ok: boolean;
}

export interface BatcherOptions<Req, Res> extends Omit<BatcherSettings, "preferredBatchSizes" | "maxConcurrentBatches"> {
  preferredBatchSizes?: readonly number[];
  /** Default 1. */
  maxConcurrentBatches?: number;
  /** A request's size along dim 0 (a non-negative integer). */
  rowsOf(req: Req): number;
  /** Runs one batch; must return one result per request, in the same order. */
  execute(batch: Req[]): Promise<Res[]>;
  /** Milliseconds on the clock deadlines are given in; default monotonicMs (src/core/clock.ts). */
  now?: () => number;
  /** Metrics hook, called after each batch; exceptions from it are ignored. */
  onBatch?(info: BatchInfo): void;
  /** Named in error messages, e.g. the model or deployment. */
  name?: string;
}

/**
 * What submit() needs of an AbortSignal; a real one fits. Node 20 spends ~4 µs creating an AbortController,
 * a sixth of a request's budget at 40k req/s, so a hot path may pass a lighter object instead (e.g. one
 * fired by the socket's 'close'). Listeners are objects with handleEvent(), as EventTarget accepts.
 */
export interface AbortSignalLike {
  readonly aborted: boolean;
  readonly reason?: unknown;
  addEventListener(type: "abort", listener: { handleEvent(): void }): void;
  removeEventListener(type: "abort", listener: { handleEvent(): void }): void;
}

export interface SubmitOptions {
  /** On the batcher's clock (monotonicMs by default); if it passes while the request is queued, the request is rejected (503) and never run. */
  deadline?: number;
  /** Aborting removes the request from the queue; its promise rejects with the signal's reason. */
  signal?: AbortSignalLike;
}

export interface Batcher<Req, Res> {
  submit(req: Req, opts?: SubmitOptions): Promise<Res>;
  depth(): { requests: number; rows: number };
  settings(): BatcherSettings;
  /** Changes settings at run time; queued requests stay queued. Throws (400) on invalid settings. */
  update(settings: Partial<BatcherSettings>): void;
  /** Stops accepting (503), dispatches what is queued without waiting for the delay, resolves when all ran. */
  drain(): Promise<void>;
  /** Stops accepting and rejects what is queued with `err` (default a 503); batches already running finish. */
  close(err?: unknown): void;
}

export type BatcherErrorReason = "queue_full" | "deadline_exceeded" | "draining" | "closed" | "bad_result";

/** A KeelError (so the error mapping gives its status) with the batcher's reason and, for 429, a retry hint. */
export class BatcherError extends KeelError {
  readonly reason: BatcherErrorReason;
  /** For queue_full: an estimate of when the queue will have room, for a Retry-After header. */
  readonly retryAfterMs: number | undefined;
  constructor(code: ErrorCode, reason: BatcherErrorReason, message: string, retryAfterMs?: number) {
    // No stack: these are answers, not bugs, and under overload capturing one cost ~4 µs per 429.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      super(code, message);
    } finally {
      Error.stackTraceLimit = limit;
    }
    this.name = "BatcherError";
    this.reason = reason;
    this.retryAfterMs = retryAfterMs;
  }
}

/** Checks a complete settings object; throws a 400 KeelError naming the bad value. */
export function validateBatcherSettings(s: BatcherSettings): void {
  const int = (v: number, lo: number, hi: number, what: string) => {
    if (!Number.isInteger(v) || v < lo || v > hi) throw invalidParam(`${what} must be an integer from ${lo} to ${hi} (got ${v}).`);
  };
  int(s.maxBatchSize, 1, 1_000_000, "The max batch size");
  if (!(Number.isFinite(s.maxQueueDelayMs) && s.maxQueueDelayMs >= 0 && s.maxQueueDelayMs <= 60_000)) {
    throw invalidParam(`The max queue delay must be from 0 to 60000 ms (got ${s.maxQueueDelayMs}).`);
  }
  int(s.maxQueueSize, 1, 10_000_000, "The max queue size");
  int(s.maxConcurrentBatches, 1, 1024, "The max number of concurrent batches");
  if (!Array.isArray(s.preferredBatchSizes)) throw invalidParam("The preferred batch sizes must be a list of integers.");
  for (const p of s.preferredBatchSizes) int(p, 1, s.maxBatchSize, "Each preferred batch size (at most the max batch size)");
}

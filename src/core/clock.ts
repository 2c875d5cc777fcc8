/**
 * The clock of request deadlines. Monotonic, not the wall clock: a wall clock stepped by NTP (common on a
 * machine that has just booted) would expire every queued request at once, or keep them past their time.
 * Deadlines never leave the process (the wire carries Keel-Timeout-Ms, a duration), so any origin will do.
 */
export const monotonicMs = (): number => performance.now();

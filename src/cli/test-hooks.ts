/**
 * Crash points for tests of resumable commands: KEEL_TEST_CRASH_AT=<point>:<n> kills this process with
 * SIGKILL (as `kill -9` would, no cleanup runs) the n-th time <point> is reached. Unset, it costs a lookup.
 */
const counts = new Map<string, number>();

export function crashPoint(point: string): void {
  const spec = process.env.KEEL_TEST_CRASH_AT;
  if (!spec) return;
  const [name, n] = spec.split(":");
  if (name !== point) return;
  const seen = (counts.get(point) ?? 0) + 1;
  counts.set(point, seen);
  if (seen === Number(n ?? "1")) process.kill(process.pid, "SIGKILL");
}

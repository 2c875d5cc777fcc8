import type { FastifyInstance } from "fastify";

/**
 * SIGTERM/SIGINT drain: stop accepting, let in-flight requests finish (at most `timeoutMs`, then exit 1),
 * run `cleanup`, exit 0. Returns the stop function (callers may stop the server themselves); a second
 * signal while stopping does nothing.
 */
export function gracefulStop(app: FastifyInstance, timeoutMs: number, cleanup: () => Promise<void>): (signal: string) => Promise<void> {
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, "shutting down: draining in-flight requests");
    const force = setTimeout(() => {
      app.log.warn("shutdown timeout reached; exiting with requests still in flight");
      process.exit(1);
    }, timeoutMs);
    force.unref();
    await app.close();
    await cleanup();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
  return stop;
}

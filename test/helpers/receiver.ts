import { createServer, type IncomingHttpHeaders, type Server } from "node:http";

export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  time: number;
}

/** A real HTTP receiver on 127.0.0.1 that records requests and answers with `respond(n)` (n: 0-based request count). */
export async function startReceiver(respond: (n: number) => number = () => 200): Promise<{ url: string; got: Received[]; close(): Promise<void>; server: Server }> {
  const got: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const status = respond(got.length);
      got.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8"), time: Date.now() });
      res.writeHead(status, { "content-type": "text/plain" });
      res.end(status < 300 ? "thanks" : "not now");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const addr = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${addr.port}/hook`,
    got,
    server,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

export async function until<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

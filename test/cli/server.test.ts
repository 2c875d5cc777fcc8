/**
 * `keel server` as users run it: the compiled CLI in a child process, on a fresh data dir (or a fresh
 * Postgres database when KEEL_TEST_DATABASE_URL is set).
 */
import { Agent, request } from "node:http";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "../../src/db/database.js";
import { dbKind, freshDb, type TestDb } from "../helpers/app.js";
import { CliProcess, freePort, type LogLine, requireBuiltCli, runCli } from "../helpers/cli.js";

let tdb: TestDb;
const running: CliProcess[] = [];

beforeAll(async () => {
  requireBuiltCli();
  tdb = await freshDb();
});
afterEach(async () => {
  for (const p of running.splice(0)) await p.stop();
});
afterAll(async () => tdb?.cleanup());

const dbArgs = () => ["--data", tdb.dataDir, ...(tdb.databaseUrl ? ["--database-url", tdb.databaseUrl] : [])];

/** Starts `keel server …args` and waits for its "listening" log line; returns the process and its URL. */
async function startServer(args: string[], env: Record<string, string> = {}): Promise<{ p: CliProcess; url: string; port: number }> {
  const p = new CliProcess(["server", ...dbArgs(), ...args], env);
  running.push(p);
  const line = await p.waitForLine((l) => typeof l.address === "string", "the listening line with its address");
  const port = Number(new URL(line.address).port);
  return { p, url: `http://127.0.0.1:${port}`, port };
}

/** Resolves once `url` refuses connections (ECONNREFUSED), polling; rejects after timeoutMs. */
async function refused(url: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const code = await fetch(url).then(
      () => "answered",
      (err: Error & { cause?: { code?: string } }) => err.cause?.code ?? err.message,
    );
    if (code === "ECONNREFUSED") return;
    if (Date.now() > deadline) throw new Error(`${url} still accepts connections (last outcome: ${code})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Every flag `keel server` has, and the variable that sets it. */
const FLAGS: [string, string][] = [
  ["--host", "KEEL_HOST"],
  ["--port", "KEEL_PORT"],
  ["--data", "KEEL_DATA"],
  ["--database-url", "KEEL_DATABASE_URL"],
  ["--durability", "KEEL_DURABILITY"],
  ["--log-level", "KEEL_LOG_LEVEL"],
  ["--pool-size", "KEEL_DB_POOL_SIZE"],
  ["--shutdown-timeout", "KEEL_SHUTDOWN_TIMEOUT_MS"],
  ["--insecure-no-auth", "KEEL_INSECURE_NO_AUTH"],
  ["--auth", "KEEL_AUTH"],
  ["--default-permission", "KEEL_DEFAULT_PERMISSION"],
  ["--tls-cert", "KEEL_TLS_CERT"],
  ["--tls-key", "KEEL_TLS_KEY"],
  ["--redis-url", "KEEL_REDIS_URL"],
];

describe(`keel server (${dbKind})`, () => {
  it("--help lists every flag with its KEEL_* variable", async () => {
    const r = await runCli(["server", "--help"]);
    expect(r.code, r.stderr).toBe(0);
    // One entry per option: its first line starts with "  -", continuation lines are indented further.
    const entries: string[] = [];
    for (const line of r.stdout.split("\n")) {
      if (/^ {2}-/.test(line)) entries.push(line.trim());
      else if (/^ {3,}\S/.test(line) && entries.length) entries[entries.length - 1] += ` ${line.trim()}`;
    }
    const options = entries.filter((e) => !e.startsWith("-h, --help"));
    const byFlag = new Map(options.map((e) => [e.split(/[ ,]/)[0], e.replace(/\s+/g, " ")]));
    for (const [flag, env] of FLAGS) {
      expect(byFlag.get(flag), `${flag} in --help`).toBeDefined();
      expect(byFlag.get(flag), `${flag} names ${env}`).toContain(`env: ${env}`);
    }
    // And no flag without one: a new flag must document its variable too.
    for (const [flag, text] of byFlag) expect(text, `${flag} names its KEEL_* variable`).toMatch(/env: KEEL_[A-Z_]+/);
  });

  it("starts on KEEL_PORT, answers /health and logs requests as JSON lines; --port beats KEEL_PORT; a taken port fails clearly", async () => {
    const envPort = await freePort();
    const { p, url, port } = await startServer([], { KEEL_PORT: String(envPort) });
    expect(port).toBe(envPort);
    const health = await fetch(`${url}/health`);
    expect(health.status).toBe(200);
    expect(await health.text()).toBe("OK");
    const deep = await fetch(`${url}/api/keel/v1/health`);
    expect(deep.status).toBe(200);
    expect(await deep.json()).toMatchObject({ status: "ok", database: dbKind });

    // Structured request logs: every stdout line is JSON; a request has an "incoming" line (req) and a "completed" one (res).
    const done = await p.waitForLine((l) => l.res?.statusCode === 200 && typeof l.reqId === "string", "a request-completed log line");
    const incoming = p.json().find((l) => l.reqId === done.reqId && l.req);
    expect(incoming?.req).toMatchObject({ method: "GET", url: expect.stringMatching(/health$/) });
    expect(typeof done.responseTime).toBe("number");
    expect(typeof done.time).toBe("number");

    // With KEEL_PORT still pointing at the busy port: without a flag, a clear "in use" failure; with --port, the flag wins.
    const flagPort = await freePort();
    const [clash, fromFlag] = await Promise.all([
      runCli(["server", ...dbArgs()], { env: { KEEL_PORT: String(envPort) } }),
      startServer(["--port", String(flagPort)], { KEEL_PORT: String(envPort) }),
    ]);
    expect(clash.code, clash.stderr).not.toBe(0);
    expect(clash.stderr).toMatch(new RegExp(`${envPort}.*in use`));
    expect(fromFlag.port).toBe(flagPort);
    expect((await fetch(`${fromFlag.url}/health`)).status).toBe(200);

    p.proc.kill("SIGTERM");
    expect(await p.exited).toEqual({ code: 0, signal: null });
  });

  it("refuses a non-loopback --host (or KEEL_HOST) without --insecure-no-auth, and starts with it", async () => {
    const refusals = [
      [["--host", "0.0.0.0"], {}],
      [[], { KEEL_HOST: "0.0.0.0" }],
    ] as [string[], Record<string, string>][];
    const [allowed, ...refused] = await Promise.all([
      startServer(["--host", "0.0.0.0", "--port", "0", "--insecure-no-auth"]),
      ...refusals.map(([args, env]) => runCli(["server", ...dbArgs(), "--port", "0", ...args], { env })),
    ]);
    for (const r of refused) {
      expect(r.code, r.stdout).not.toBe(0);
      expect(r.code).not.toBeNull();
      expect(r.stderr).toContain("--insecure-no-auth");
      expect(r.stderr).toContain("0.0.0.0");
    }
    expect((await fetch(`${allowed.url}/health`)).status).toBe(200);
    allowed.p.proc.kill("SIGTERM");
    expect((await allowed.p.exited).code).toBe(0);
  });

  it("rejects a bad --port (flag or KEEL_PORT) with a clear message", async () => {
    const cases = [
      [["--port", "abc"], {}, "abc"],
      [["--port", "70000"], {}, "70000"],
      [[], { KEEL_PORT: "abc" }, "abc"],
    ] as [string[], Record<string, string>, string][];
    const results = await Promise.all(cases.map(([args, env]) => runCli(["server", ...dbArgs(), ...args], { env })));
    results.forEach((r, i) => {
      const [args, env, bad] = cases[i];
      expect(r.code, `${args} ${JSON.stringify(env)}`).not.toBe(0);
      expect(r.code).not.toBeNull();
      expect(r.stderr).toContain("--port");
      expect(r.stderr).toContain(`'${bad}'`);
      expect(r.stderr).toMatch(/integer from 0 to 65535/);
      expect(r.stdout).not.toMatch(/listening/);
    });
  });

  it("on SIGTERM refuses new connections, finishes the request in flight (200, durable), and exits 0", async () => {
    const { p, url, port } = await startServer(["--port", "0"]);
    const runId = await newRun(url, "drain");
    // `agent: false` sends "Connection: close"; the keep-alive case is the next test.
    const inFlight = await startInFlightLogBatch(p, port, runId, false);

    p.proc.kill("SIGTERM");
    await p.waitForLine((l) => /shutting down/.test(String(l.msg)), "the shutdown log line");
    await refused(`${url}/health`);
    expect(p.proc.exitCode, "still draining").toBeNull();

    const res = await inFlight.finish();
    expect({ status: res.status, text: res.text }, "the in-flight request completes").toEqual({ status: 200, text: "{}" });
    expect(await p.exited).toEqual({ code: 0, signal: null });
    expect(p.lines.some((l) => /shutdown timeout/.test(l)), "no forced exit").toBe(false);

    // Acknowledged means stored: all 1000 points are in the database the server left behind.
    expect(await metricCount(runId)).toBe(1000);
  });

  // A keep-alive client (the MLflow client's requests.Session) must not hold the process open after its answer.
  it("on SIGTERM also lets a keep-alive client's in-flight request finish and exits 0 promptly", async () => {
    const { p, url, port } = await startServer(["--port", "0", "--shutdown-timeout", "3000"]);
    const runId = await newRun(url, "drain-keepalive");
    const agent = new Agent({ keepAlive: true });
    try {
      const inFlight = await startInFlightLogBatch(p, port, runId, agent);
      p.proc.kill("SIGTERM");
      await p.waitForLine((l) => /shutting down/.test(String(l.msg)), "the shutdown log line");
      const sent = Date.now();
      const res = await inFlight.finish();
      expect(res.status).toBe(200);
      expect(await metricCount(runId)).toBe(1000);
      expect(await p.exited).toEqual({ code: 0, signal: null });
      expect(Date.now() - sent).toBeLessThan(2000);
    } finally {
      agent.destroy();
    }
  });
});

async function newRun(url: string, experimentName: string): Promise<string> {
  const post = async <T>(path: string, body: unknown): Promise<T> => {
    const r = await fetch(`${url}/api/2.0/mlflow/${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    expect(r.status, path).toBe(200);
    return (await r.json()) as T;
  };
  const exp = await post<{ experiment_id: string }>("experiments/create", { name: experimentName });
  const run = await post<{ run: { info: { run_id: string } } }>("runs/create", { experiment_id: exp.experiment_id });
  return run.run.info.run_id;
}

/**
 * A 1000-metric log-batch sent in two halves: resolves once the server has logged receiving the request (so
 * it is in flight before any SIGTERM); `finish()` sends the rest of the body and resolves with the answer.
 */
async function startInFlightLogBatch(p: CliProcess, port: number, runId: string, agent: Agent | false) {
  const body = Buffer.from(
    JSON.stringify({ run_id: runId, metrics: Array.from({ length: 1000 }, (_, i) => ({ key: "m", value: i / 7, timestamp: 1000 + i, step: i })) }),
  );
  const half = Math.floor(body.length / 2);
  const path = `/api/2.0/mlflow/runs/log-batch?in-flight=${runId}`;
  let end = () => {};
  const response = new Promise<{ status: number; text: string; connection?: string }>((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port, method: "POST", path, agent, headers: { "content-type": "application/json", "content-length": body.length } },
      (res) => {
        let text = "";
        res.on("data", (d) => {
          text += d;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text, connection: res.headers.connection }));
      },
    );
    req.on("error", reject);
    req.write(body.subarray(0, half));
    end = () => req.end(body.subarray(half));
  });
  await p.waitForLine((l: LogLine) => l.req?.url === path, "the in-flight log-batch to be received");
  return {
    finish: () => {
      end();
      return response;
    },
  };
}

async function metricCount(runId: string): Promise<number> {
  const database = await openDatabase({ dataDir: tdb.dataDir, databaseUrl: tdb.databaseUrl });
  try {
    const row = await database.db
      .selectFrom("metrics")
      .select((eb) => eb.fn.countAll<string | number>().as("n"))
      .where("run_uuid", "=", runId)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  } finally {
    await database.close();
  }
}

/**
 * The serving benchmark's baseline server, run as its own node process like keel: a bare Fastify app whose
 * OIP-shaped infer route parses the JSON body (Fastify's default parser, as any JSON route would) and
 * answers a constant. No model, no validation, no metrics, no logging.
 *
 *   node --import tsx bench/serving-bare.ts <port>
 */
import Fastify from "fastify";

const port = Number(process.argv[2]);
const app = Fastify({ logger: false, bodyLimit: 64 * 1024 * 1024, keepAliveTimeout: 65_000 });
const ANSWER = JSON.stringify({ model_name: "bare", id: "1", outputs: [{ name: "output", datatype: "FP32", shape: [1, 2], data: [0.1, 0.2] }] });
app.get("/health", async () => "OK");
app.post("/v2/models/:model/infer", async (req, reply) => {
  const body = req.body as { inputs?: unknown[] } | undefined;
  if (!body || !Array.isArray(body.inputs)) return reply.status(400).send({ error: "no inputs" });
  return reply.type("application/json").send(ANSWER);
});
await app.listen({ port, host: "127.0.0.1" });
for (const sig of ["SIGTERM", "SIGINT"] as const) process.on(sig, () => void app.close().then(() => process.exit(0)));

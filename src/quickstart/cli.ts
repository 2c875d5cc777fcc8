/** `keel quickstart`'s body: the server (as `keel server` starts it), the demo through it, and what to print. */
import { resolve } from "node:path";
import { startServer } from "../cli/run-server.js";
import { KeelClient } from "../sdk/client.js";
import { IRIS_CLASSES, IRIS_FEATURES } from "./iris.js";
import { QUICKSTART, runDemo } from "./demo.js";

export interface QuickstartOptions {
  host: string;
  port: number;
  dataDir: string;
  logLevel: string;
  /** Keep serving after the demo (until SIGINT/SIGTERM). */
  serve: boolean;
}

export async function runQuickstart(o: QuickstartOptions): Promise<void> {
  const say = (line = "") => console.log(line);
  say(`Keel quickstart: data in ${resolve(o.dataDir)}`);
  const server = await startServer(
    {
      host: o.host,
      port: o.port,
      dataDir: o.dataDir,
      durability: "normal",
      logLevel: o.logLevel,
      poolSize: 10,
      shutdownTimeoutMs: 15_000,
      insecureNoAuth: false,
      auth: false,
      defaultPermission: "READ",
    },
    "keel quickstart",
  );
  const url = server.address;
  say(`Keel server listening at ${url}`);
  const client = new KeelClient({ url });
  let r: Awaited<ReturnType<typeof runDemo>>;
  try {
    r = await runDemo(client, (line) => say(`  ${line}`));
  } catch (err) {
    console.error(`keel quickstart: ${(err as Error).message}`);
    await server.app.close();
    await server.database.close();
    process.exit(1);
  }
  const p = (v: number[]) => `[${v.map((x) => x.toFixed(4)).join(", ")}]`;
  const species = (label: number) => IRIS_CLASSES[label] ?? String(label);
  const features = IRIS_FEATURES.map((f, i) => `${f}=${r.sample.features[i]}`).join(", ");
  say();
  say(`Prediction for held-out flower #${r.sample.row + 1} (${features}; true species: ${r.sample.species}):`);
  say(`  OIP          POST /v2/models/${QUICKSTART.deployment}/infer                      → ${species(r.oip.label)}  probabilities ${p(r.oip.probabilities)}`);
  say(`  MLflow       POST /api/keel/v1/deployments/${QUICKSTART.deployment}/invocations → ${species(r.invocations.label)}  probabilities ${p(r.invocations.probabilities)}`);
  say(`  TypeScript   the model trained in this process                → ${species(r.local.label)}  probabilities ${p(r.local.probabilities)}`);
  say("  All three agree (within 1e-5).");
  say();
  const seg = encodeURIComponent;
  say(`  Server:      ${url}   (MLflow clients: export MLFLOW_TRACKING_URI=${url})`);
  say(`  Web UI:      ${url}/experiments/${r.experimentId}/runs/${r.runId}   (the run: charts, params, artifacts)`);
  say(`               ${url}/models/${seg(QUICKSTART.model)}   (models:/${QUICKSTART.model}@${QUICKSTART.alias} = version ${r.version})`);
  say(`               ${url}/deployments/${seg(QUICKSTART.deployment)}   (traffic, latency, batches)`);
  say(`  API docs:    ${url}/docs`);
  say("  The same over the API:");
  say(`    Run:         ${url}/api/2.0/mlflow/runs/get?run_id=${r.runId}`);
  say(`    Metrics:     ${url}/api/2.0/mlflow/metrics/get-history?run_id=${r.runId}&metric_key=train_loss`);
  say(`    Model:       ${url}/api/2.0/mlflow/registered-models/alias?name=${QUICKSTART.model}&alias=${QUICKSTART.alias}`);
  say(`    Deployment:  ${url}/api/keel/v1/deployments/${QUICKSTART.deployment}`);
  say();
  say("Try it:");
  say(
    `  curl -s ${url}/v2/models/${QUICKSTART.deployment}/infer -H 'content-type: application/json' -d '{"inputs":[{"name":"features","datatype":"FP32","shape":[1,4],"data":[6.3,2.9,5.6,1.8]}]}'`,
  );
  say(`  curl -s ${url}/api/keel/v1/deployments/${QUICKSTART.deployment}/invocations -H 'content-type: application/json' -d '{"instances":[[5.1,3.5,1.4,0.2]]}'`);
  if (!o.serve) {
    await server.stop("quickstart --no-serve");
    return;
  }
  say();
  say("Serving until Ctrl-C.");
}

/**
 * The `keel quickstart` demo against a running Keel server, over HTTP with the SDK, as an MLflow user would:
 * train (in process), log the run (params, per-epoch metrics, tags, the dataset input, the model and data as
 * artifacts), register the model, point the `champion` alias at it, deploy it, and score one flower over
 * the Open Inference Protocol and over MLflow's /invocations.
 *
 * Idempotent: training is deterministic, so the run is identified by the SHA-256 of the .onnx it produces
 * (tag `keel.quickstart.model_sha256`). A second quickstart on the same data finds that finished run and
 * reuses it, its model version, the alias and the deployment; it logs and registers nothing new. Only when
 * the trained model differs (the trainer or its defaults changed) does it log a new run and register one
 * new version, to which `champion` then moves (the deployment follows the alias).
 */
import { createHash } from "node:crypto";
import type { KeelClient } from "../sdk/client.js";
import type { Deployment, KeyValue, ModelVersion, WireMetric, WireRun } from "../sdk/types.js";
import { IRIS_CLASSES, IRIS_FEATURES, datasetDigest, parseIris, readIrisCsv } from "./iris.js";
import { argmax, predictProba, softmaxRegressionOnnx, type TrainResult, trainSoftmaxRegression } from "./train.js";
import { userInfo } from "node:os";

export const QUICKSTART = {
  experiment: "quickstart-iris",
  runName: "iris-softmax-regression",
  /** Runs logged beside the served one, so the experiment has runs to compare. */
  comparisonLearningRates: [0.05, 0.1],
  model: "iris-classifier",
  alias: "champion",
  deployment: "iris",
  shaTag: "keel.quickstart.model_sha256",
} as const;

export interface DemoResult {
  experimentId: string;
  runId: string;
  /** False when an earlier quickstart's run was reused. */
  newRun: boolean;
  version: string;
  newVersion: boolean;
  newDeployment: boolean;
  training: TrainResult;
  sample: { row: number; features: number[]; species: string };
  /** The TS model's own answer for the sample. */
  local: { probabilities: number[]; label: number };
  oip: { probabilities: number[]; label: number };
  invocations: { probabilities: number[]; label: number };
}

type Log = (line: string) => void;

const fmt = (p: number[]) => `[${p.map((v) => v.toFixed(4)).join(", ")}]`;

export async function runDemo(client: KeelClient, log: Log = () => {}): Promise<DemoResult> {
  // 1. Train in process (deterministic: the same data and options always give the same model).
  const csv = readIrisCsv();
  const data = parseIris(csv.text);
  const training = trainSoftmaxRegression(data);
  const o = training.options;
  log(
    `Trained softmax regression on Iris (${training.train.size} train / ${training.test.size} test rows, lr=${o.learningRate}, epochs=${o.epochs}, seed=${o.seed}): ` +
      `test accuracy ${training.test.accuracy.toFixed(4)}, test log loss ${training.test.logLoss.toFixed(4)}`,
  );

  // 2. The experiment and the runs: first two with smaller learning rates (something for the UI's Compare
  // page to compare), then the one registered and served.
  const experimentId = (await client.getExperimentByName(QUICKSTART.experiment))?.experiment_id ?? (await client.createExperiment(QUICKSTART.experiment));
  const logged: string[] = [];
  for (const learningRate of QUICKSTART.comparisonLearningRates) {
    const t = trainSoftmaxRegression(data, { learningRate });
    const { created } = await findOrLogRun(client, experimentId, t, exported(t, `, lr=${learningRate}`), csv.text, `${QUICKSTART.runName}-lr-${learningRate}`);
    if (created) logged.push(`lr=${learningRate}: test accuracy ${t.test.accuracy.toFixed(4)}`);
  }
  if (logged.length) log(`Logged ${logged.length} runs with smaller learning rates to compare with (${logged.join("; ")})`);
  const { run, created: newRun } = await findOrLogRun(client, experimentId, training, exported(training), csv.text, QUICKSTART.runName);
  const runId = run.info.run_id;
  log(newRun ? `Logged run ${runId} in experiment '${QUICKSTART.experiment}' (${experimentId})` : `Reusing run ${runId} from an earlier quickstart (same model)`);

  // 3. Register it and point the alias at it.
  if (!(await client.findRegisteredModel(QUICKSTART.model))) {
    await client.createRegisteredModel(QUICKSTART.model, { description: "Iris species from sepal and petal measurements (keel quickstart)." });
  }
  let version: ModelVersion | undefined = (await client.modelVersions(QUICKSTART.model)).find((v) => v.run_id === runId);
  const newVersion = !version;
  if (!version) version = await client.createModelVersion({ name: QUICKSTART.model, source: `runs:/${runId}/model`, runId });
  await client.setRegisteredModelAlias(QUICKSTART.model, QUICKSTART.alias, version.version);
  log(`${newVersion ? "Registered" : "Found"} model '${QUICKSTART.model}' version ${version.version}; alias '${QUICKSTART.alias}' → version ${version.version}`);

  // 4. Deploy it (following the alias), or wait for the existing deployment to serve this version.
  const existing = await client.findDeployment(QUICKSTART.deployment);
  const newDeployment = !existing;
  if (!existing) {
    await client.createDeployment({ name: QUICKSTART.deployment, variants: [{ model: QUICKSTART.model, alias: QUICKSTART.alias }] });
  }
  await waitServing(client, version.version);
  log(`Deployment '${QUICKSTART.deployment}' ${newDeployment ? "created" : "exists"}: serves models:/${QUICKSTART.model}@${QUICKSTART.alias} (version ${version.version})`);

  // 5. Score one held-out flower both ways and check both against the model trained here.
  const row = training.testIndices.find((i) => data.y[i] === 1) ?? training.testIndices[0];
  const features = data.x[row];
  const localP = predictProba(training.model, [features])[0];
  const local = { probabilities: localP, label: argmax(localP) };
  const inferred = await client.infer(QUICKSTART.deployment, [{ name: "features", datatype: "FP32", shape: [1, features.length], data: features }]);
  const out = (name: string) => {
    const t = inferred.outputs.find((x) => x.name === name);
    if (!t) throw new Error(`The OIP answer has no '${name}' output.`);
    return t.data as number[];
  };
  const oip = { probabilities: out("probabilities"), label: Number(out("label")[0]) };
  const scored = await client.invocations<{ probabilities: number[][]; label: number[] }>(QUICKSTART.deployment, { instances: [features] });
  const invocations = { probabilities: scored.predictions.probabilities[0], label: Number(scored.predictions.label[0]) };
  for (const [what, got] of [
    ["OIP", oip],
    ["/invocations", invocations],
  ] as const) {
    const off = Math.max(...got.probabilities.map((p, k) => Math.abs(p - local.probabilities[k])));
    if (got.probabilities.length !== IRIS_CLASSES.length || !(off <= 1e-5) || got.label !== local.label) {
      throw new Error(`The ${what} prediction ${fmt(got.probabilities)} (label ${got.label}) differs from the trained model's ${fmt(local.probabilities)} (label ${local.label}).`);
    }
  }
  return {
    experimentId,
    runId,
    newRun,
    version: version.version,
    newVersion,
    newDeployment,
    training,
    sample: { row, features, species: IRIS_CLASSES[data.y[row]] },
    local,
    oip,
    invocations,
  };
}

/** The trained model as ONNX, and its SHA-256 (the run's tag that finds it again on a rerun). `note` goes in its doc string. */
function exported(t: TrainResult, note = ""): { onnx: Uint8Array; sha: string } {
  const onnx = softmaxRegressionOnnx(t.model, { docString: `Softmax regression on Fisher's Iris${note}; classes: ${IRIS_CLASSES.join(", ")}` });
  return { onnx, sha: createHash("sha256").update(onnx).digest("hex") };
}

/** The finished run of this exact model from an earlier quickstart, or a new one logged now. */
async function findOrLogRun(
  client: KeelClient,
  experimentId: string,
  t: TrainResult,
  m: { onnx: Uint8Array; sha: string },
  csvText: string,
  runName: string,
): Promise<{ run: WireRun; created: boolean }> {
  const found = await findFinishedRun(client, experimentId, m.sha);
  if (found) return { run: found, created: false };
  return { run: await logRun(client, experimentId, t, m.onnx, m.sha, csvText, runName), created: true };
}

async function findFinishedRun(client: KeelClient, experimentId: string, sha: string): Promise<WireRun | undefined> {
  for await (const r of client.iterateRuns({ experimentIds: [experimentId], maxResults: 1000 })) {
    if (r.info.status === "FINISHED" && r.data.tags?.some((t) => t.key === QUICKSTART.shaTag && t.value === sha)) return r;
  }
  return undefined;
}

/** The OS account's name; "keel" where the OS has none for this process (some containers). */
function osUser(): string {
  try {
    return userInfo().username || "keel";
  } catch {
    return process.env.USER || "keel";
  }
}

async function logRun(client: KeelClient, experimentId: string, training: TrainResult, onnx: Uint8Array, sha: string, csvText: string, runName: string): Promise<WireRun> {
  const o = training.options;
  const started = Date.now();
  const run = await client.createRun(experimentId, {
    runName,
    startTime: started,
    tags: [
      // Who ran it, as MLflow's client records (its fluent API tags the OS user).
      { key: "mlflow.user", value: osUser() },
      { key: "mlflow.source.name", value: "keel quickstart" },
      { key: "mlflow.source.type", value: "LOCAL" },
      { key: "mlflow.note.content", value: "Multinomial logistic regression on Fisher's Iris, trained in TypeScript by `keel quickstart`." },
      { key: "model_type", value: "softmax_regression" },
      { key: "dataset", value: "iris" },
      { key: QUICKSTART.shaTag, value: sha },
    ],
  });
  const runId = run.info.run_id;
  try {
    const params: KeyValue[] = [
      { key: "learning_rate", value: String(o.learningRate) },
      { key: "epochs", value: String(o.epochs) },
      { key: "seed", value: String(o.seed) },
      { key: "test_fraction", value: String(o.testFraction) },
      { key: "l2", value: String(o.l2) },
      { key: "optimizer", value: "full-batch gradient descent" },
      { key: "standardize", value: "true" },
    ];
    const t = started;
    const metrics: WireMetric[] = [
      ...training.lossHistory.map((value, step) => ({ key: "train_loss", value, step, timestamp: t })),
      ...training.accuracyHistory.map((value, step) => ({ key: "train_accuracy", value, step, timestamp: t })),
      { key: "test_accuracy", value: training.test.accuracy, step: o.epochs, timestamp: t },
      { key: "test_log_loss", value: training.test.logLoss, step: o.epochs, timestamp: t },
      { key: "train_log_loss", value: training.train.logLoss, step: o.epochs, timestamp: t },
    ];
    // MLflow's limits per log-batch: 100 params, 1000 metrics.
    await client.logBatch(runId, { params });
    for (let i = 0; i < metrics.length; i += 1000) await client.logBatch(runId, { metrics: metrics.slice(i, i + 1000) });

    const digest = datasetDigest(csvText);
    await client.logInputs(runId, [
      {
        tags: [{ key: "mlflow.data.context", value: "training" }],
        dataset: {
          name: "iris",
          digest,
          source_type: "local",
          source: JSON.stringify({ uri: "data/iris.csv" }),
          schema: JSON.stringify({
            mlflow_colspec: [...IRIS_FEATURES.map((name) => ({ type: "double", name, required: true })), { type: "string", name: "species", required: true }],
          }),
          profile: JSON.stringify({ num_rows: csvText.trim().split(/\r?\n/).length - 1, num_elements: (csvText.trim().split(/\r?\n/).length - 1) * 5 }),
        },
      },
    ]);

    const root = await client.runArtifactRoot(run);
    await client.uploadArtifact(`${root}/model/model.onnx`, onnx);
    await client.uploadArtifact(`${root}/model/MLmodel`, new TextEncoder().encode(mlmodel(runId, sha, onnx.length)));
    await client.uploadArtifact(`${root}/data/iris.csv`, new TextEncoder().encode(csvText));
    await client.updateRun(runId, { status: "FINISHED", endTime: Date.now() });
  } catch (err) {
    await client.updateRun(runId, { status: "FAILED", endTime: Date.now() }).catch(() => {});
    throw err;
  }
  return client.getRun(runId);
}

/** The MLmodel MLflow would write for an ONNX model, with its tensor signature (JSON strings, as MLflow writes them). */
export function mlmodel(runId: string, sha: string, size: number): string {
  const inputs = JSON.stringify([{ type: "tensor", "tensor-spec": { dtype: "float32", shape: [-1, IRIS_FEATURES.length] }, name: "features" }]);
  const outputs = JSON.stringify([
    { type: "tensor", "tensor-spec": { dtype: "float32", shape: [-1, IRIS_CLASSES.length] }, name: "probabilities" },
    { type: "tensor", "tensor-spec": { dtype: "int64", shape: [-1] }, name: "label" },
  ]);
  return [
    "artifact_path: model",
    "flavors:",
    "  onnx:",
    "    code: null",
    "    data: model.onnx",
    "    providers:",
    "    - CPUExecutionProvider",
    "metadata:",
    `  classes: [${IRIS_CLASSES.join(", ")}]`,
    `  features: [${IRIS_FEATURES.join(", ")}]`,
    `  model_sha256: ${sha}`,
    `  model_size_bytes: ${size}`,
    "  producer: keel quickstart",
    `run_id: ${runId}`,
    "signature:",
    `  inputs: '${inputs}'`,
    `  outputs: '${outputs}'`,
    "  params: null",
    `utc_time_created: '${new Date().toISOString().replace("T", " ").replace("Z", "")}'`,
    "",
  ].join("\n");
}

/** Waits (up to 30 s) until the deployment answers with `version` on a ready, non-shadow variant. */
async function waitServing(client: KeelClient, version: string): Promise<Deployment> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const d = await client.getDeployment(QUICKSTART.deployment);
    const serving = d.variants.filter((v) => !v.shadow && v.weight > 0);
    if (serving.length && serving.every((v) => v.ready && v.model === QUICKSTART.model && v.version === version)) return d;
    if (Date.now() > deadline) {
      throw new Error(
        `Deployment '${QUICKSTART.deployment}' does not serve ${QUICKSTART.model} version ${version}: its variants are ${JSON.stringify(d.variants)}. ` +
          `Delete it (curl -X DELETE <server>/api/keel/v1/deployments/${QUICKSTART.deployment}) and run the quickstart again.`,
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Multinomial logistic regression (softmax regression) trained by full-batch gradient descent, in plain
 * TypeScript, deterministic for a given seed: a stratified train/test split, features standardized with the
 * training split's mean and standard deviation, weights initialised from a seeded PRNG. Exported as ONNX with
 * the standardization inside the graph, so the served model takes raw measurements.
 */
import { encodeOnnxModel } from "../onnx/index.js";
import type { Dataset } from "./iris.js";

export interface TrainOptions {
  learningRate: number;
  epochs: number;
  seed: number;
  /** Share of each class held out for testing. */
  testFraction: number;
  /** L2 penalty on the weights (not the bias). */
  l2: number;
}

export const DEFAULT_TRAIN_OPTIONS: TrainOptions = { learningRate: 0.5, epochs: 200, seed: 42, testFraction: 0.2, l2: 0.001 };

/** A trained model. Parameters are rounded to float32, as the .onnx file stores them, so both compute the same. */
export interface SoftmaxModel {
  mean: number[];
  std: number[];
  /** [features][classes] */
  weights: number[][];
  bias: number[];
}

export interface TrainResult {
  model: SoftmaxModel;
  /** Training-set cross-entropy (with the L2 term) before each epoch's step, and after the last: epochs + 1 points. */
  lossHistory: number[];
  /** Training-set accuracy per epoch, as lossHistory. */
  accuracyHistory: number[];
  train: { size: number; accuracy: number; logLoss: number };
  test: { size: number; accuracy: number; logLoss: number };
  testIndices: number[];
  options: TrainOptions;
}

/** mulberry32: a small, fast 32-bit PRNG with a seed (uniform in [0, 1)). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle<T>(items: T[], rand: () => number): T[] {
  const a = items.slice();
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

/** Row indices of the held-out test split: `fraction` of each class, picked with the seed; sorted. */
export function stratifiedTestIndices(y: number[], fraction: number, seed: number): number[] {
  const rand = seededRandom(seed);
  const classes = [...new Set(y)].sort((a, b) => a - b);
  const test: number[] = [];
  for (const c of classes) {
    const rows = shuffle(
      y.flatMap((v, i) => (v === c ? [i] : [])),
      rand,
    );
    test.push(...rows.slice(0, Math.round(rows.length * fraction)));
  }
  return test.sort((a, b) => a - b);
}

/** Class probabilities for each row of raw features (standardized with the model's mean and std). */
export function predictProba(model: SoftmaxModel, x: number[][]): number[][] {
  const classes = model.bias.length;
  return x.map((row) => {
    const z = model.bias.slice();
    row.forEach((v, f) => {
      const s = (v - model.mean[f]) / model.std[f];
      for (let k = 0; k < classes; k++) z[k] += s * model.weights[f][k];
    });
    return softmax(z);
  });
}

export function argmax(p: number[]): number {
  let best = 0;
  for (let k = 1; k < p.length; k++) if (p[k] > p[best]) best = k;
  return best;
}

function softmax(z: number[]): number[] {
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

/** Mean cross-entropy (clipped at 1e-15, as scikit-learn's log_loss) and accuracy of probabilities against labels. */
export function evaluate(probs: number[][], y: number[]): { accuracy: number; logLoss: number } {
  let loss = 0;
  let correct = 0;
  probs.forEach((p, i) => {
    loss -= Math.log(Math.min(Math.max(p[y[i]], 1e-15), 1 - 1e-15));
    if (argmax(p) === y[i]) correct++;
  });
  return { accuracy: correct / y.length, logLoss: loss / y.length };
}

export function trainSoftmaxRegression(data: Dataset, opts: Partial<TrainOptions> = {}): TrainResult {
  const o: TrainOptions = { ...DEFAULT_TRAIN_OPTIONS, ...opts };
  const testIdx = stratifiedTestIndices(data.y, o.testFraction, o.seed);
  const isTest = new Set(testIdx);
  const trainIdx = data.y.map((_, i) => i).filter((i) => !isTest.has(i));
  const features = data.x[0].length;
  const classes = Math.max(...data.y) + 1;

  // Standardize with the training split's statistics (population std; 1 where a feature is constant).
  const mean = Array.from({ length: features }, (_, f) => trainIdx.reduce((a, i) => a + data.x[i][f], 0) / trainIdx.length);
  const std = mean.map((m, f) => Math.sqrt(trainIdx.reduce((a, i) => a + (data.x[i][f] - m) ** 2, 0) / trainIdx.length) || 1);
  const xs = trainIdx.map((i) => data.x[i].map((v, f) => (v - mean[f]) / std[f]));
  const ys = trainIdx.map((i) => data.y[i]);

  const rand = seededRandom(o.seed ^ 0x9e3779b9);
  const W = Array.from({ length: features }, () => Array.from({ length: classes }, () => (rand() - 0.5) * 0.02));
  const b = new Array<number>(classes).fill(0);
  const n = xs.length;
  const lossHistory: number[] = [];
  const accuracyHistory: number[] = [];

  const forward = (): number[][] =>
    xs.map((row) => {
      const z = b.slice();
      row.forEach((s, f) => {
        for (let k = 0; k < classes; k++) z[k] += s * W[f][k];
      });
      return softmax(z);
    });
  const record = (probs: number[][]) => {
    const { accuracy, logLoss } = evaluate(probs, ys);
    const penalty = (o.l2 / 2) * W.reduce((a, row) => a + row.reduce((s, w) => s + w * w, 0), 0);
    lossHistory.push(logLoss + penalty);
    accuracyHistory.push(accuracy);
  };

  for (let epoch = 0; epoch < o.epochs; epoch++) {
    const probs = forward();
    record(probs);
    // Gradient of the mean cross-entropy: (p - onehot(y)) averaged, plus the L2 term on W.
    const gW = W.map((row) => row.map((w) => o.l2 * w));
    const gb = new Array<number>(classes).fill(0);
    probs.forEach((p, i) => {
      for (let k = 0; k < classes; k++) {
        const d = (p[k] - (ys[i] === k ? 1 : 0)) / n;
        gb[k] += d;
        for (let f = 0; f < features; f++) gW[f][k] += d * xs[i][f];
      }
    });
    for (let f = 0; f < features; f++) for (let k = 0; k < classes; k++) W[f][k] -= o.learningRate * gW[f][k];
    for (let k = 0; k < classes; k++) b[k] -= o.learningRate * gb[k];
  }
  record(forward());

  const model: SoftmaxModel = {
    mean: mean.map(Math.fround),
    std: std.map(Math.fround),
    weights: W.map((row) => row.map(Math.fround)),
    bias: b.map(Math.fround),
  };
  const trainEval = evaluate(predictProba(model, trainIdx.map((i) => data.x[i])), ys);
  const testEval = evaluate(
    predictProba(
      model,
      testIdx.map((i) => data.x[i]),
    ),
    testIdx.map((i) => data.y[i]),
  );
  return {
    model,
    lossHistory,
    accuracyHistory,
    train: { size: trainIdx.length, ...trainEval },
    test: { size: testIdx.length, ...testEval },
    testIndices: testIdx,
    options: o,
  };
}

/**
 * The model as an .onnx file (opset 13): input `features` FLOAT [batch, F] of raw measurements;
 * (features - mean) / std → MatMul W → Add b → Softmax gives `probabilities` FLOAT [batch, C], and ArgMax
 * gives `label` INT64 [batch], the index of the most likely class.
 */
export function softmaxRegressionOnnx(model: SoftmaxModel, opts: { producerVersion?: string; docString?: string } = {}): Uint8Array {
  const features = model.mean.length;
  const classes = model.bias.length;
  return encodeOnnxModel({
    producerName: "keel",
    producerVersion: opts.producerVersion ?? "",
    docString: opts.docString,
    graph: {
      name: "softmax_regression",
      nodes: [
        { opType: "Sub", inputs: ["features", "mean"], outputs: ["centered"], name: "center" },
        { opType: "Div", inputs: ["centered", "std"], outputs: ["standardized"], name: "scale" },
        { opType: "MatMul", inputs: ["standardized", "W"], outputs: ["xW"], name: "matmul" },
        { opType: "Add", inputs: ["xW", "b"], outputs: ["logits"], name: "add" },
        { opType: "Softmax", inputs: ["logits"], outputs: ["probabilities"], name: "softmax", attributes: { axis: { i: 1 } } },
        { opType: "ArgMax", inputs: ["logits"], outputs: ["label"], name: "argmax", attributes: { axis: { i: 1 }, keepdims: { i: 0 } } },
      ],
      initializers: [
        { name: "mean", dtype: "FLOAT", dims: [features], data: model.mean },
        { name: "std", dtype: "FLOAT", dims: [features], data: model.std },
        { name: "W", dtype: "FLOAT", dims: [features, classes], data: model.weights.flat() },
        { name: "b", dtype: "FLOAT", dims: [classes], data: model.bias },
      ],
      inputs: [{ name: "features", dtype: "FLOAT", shape: ["batch", features] }],
      outputs: [
        { name: "probabilities", dtype: "FLOAT", shape: ["batch", classes] },
        { name: "label", dtype: "INT64", shape: ["batch"] },
      ],
    },
  });
}

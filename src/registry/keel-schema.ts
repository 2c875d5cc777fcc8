import { type Static, Type } from "@sinclair/typebox";
import { EVENT_TYPES } from "./schema.js";
import { LIMITS } from "./validation.js";

/** Keel's registry API (under /api/keel/v1): request and response schemas, also the OpenAPI at /docs. */
export const EventsQuery = Type.Object(
  {
    after: Type.Optional(
      Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, default: 0, description: "Return events with a sequence number above this (0: from the start)" }),
    ),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: LIMITS.eventsPerRead, default: 100, description: "Most events in one answer" })),
    wait_ms: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: LIMITS.eventWaitMs,
        default: 0,
        description: `When there are no events yet, wait up to this long for one (long polling; at most ${LIMITS.eventWaitMs} ms)`,
      }),
    ),
  },
  { additionalProperties: false },
);
export type EventsQuery = Static<typeof EventsQuery>;

const RegistryEvent = Type.Object({
  seq: Type.Integer({ description: "Position in the feed; increases with every committed change" }),
  time: Type.Integer({ description: "Epoch milliseconds" }),
  type: Type.Union(EVENT_TYPES.map((t) => Type.Literal(t))),
  name: Type.String({ description: "Registered model name (the new name for model_renamed)" }),
  version: Type.Optional(Type.String()),
  alias: Type.Optional(Type.String()),
  payload: Type.Record(Type.String(), Type.Unknown(), { description: "Details of the change" }),
});

export const EventsResponse = Type.Object({
  events: Type.Array(RegistryEvent),
  next_after: Type.Integer({ description: "Pass as `after` to continue from here" }),
});

export const ErrorResponse = Type.Object({ error_code: Type.String(), message: Type.String() });

// ---- Signatures and lineage ---------------------------------------------------------------------

export const SignatureParams = Type.Object({
  name: Type.String({ description: "Registered model name" }),
  version: Type.String({ description: "Version number" }),
});
export type SignatureParams = Static<typeof SignatureParams>;

const Dim = Type.Union([Type.Number(), Type.String(), Type.Null()], { description: "A fixed size, a symbolic dimension (e.g. 'batch'), or null when unknown" });

const SignatureValue = Type.Object({
  name: Type.Union([Type.String(), Type.Null()], { description: "Null for an unnamed MLflow column or tensor" }),
  dtype: Type.String({ description: "ONNX element type name (FLOAT, INT64, DOUBLE, STRING, …), or the MLflow type upper-cased where ONNX has none" }),
  datatype: Type.Union([Type.String(), Type.Null()], { description: "Open Inference Protocol v2 datatype (FP32, INT64, BYTES, …), or null" }),
  shape: Type.Union([Type.Array(Dim), Type.Null()], { description: "Null when the rank is unknown; [] for a scalar; [null] for an MLflow column (one value per row)" }),
  kind: Type.Optional(Type.String({ description: "Absent for a plain tensor; 'column' for an MLflow column spec; e.g. 'sequence<tensor>' for ONNX containers" })),
  mlflow_type: Type.Optional(Type.String({ description: "The type as the MLmodel wrote it (e.g. 'double', 'float32')" })),
  required: Type.Optional(Type.Boolean()),
});

export const SignatureResponse = Type.Object({
  name: Type.String(),
  version: Type.String(),
  captured_timestamp: Type.Integer({ description: "When the signature was read (epoch ms)" }),
  source: Type.Union([Type.Literal("onnx"), Type.Literal("mlmodel"), Type.Literal("none")], {
    description: "Where it was read from: the model's .onnx file, its MLmodel signature, or neither",
  }),
  file: Type.Optional(Type.String({ description: "The file read, relative to the version's source ('' when the source is that file)" })),
  error: Type.Optional(Type.String({ description: "Why no signature could be read (the version registered regardless)" })),
  inputs: Type.Array(SignatureValue),
  outputs: Type.Array(SignatureValue),
  params: Type.Optional(Type.Array(Type.Unknown(), { description: "MLflow inference params, as the MLmodel lists them" })),
  onnx: Type.Optional(
    Type.Object({
      ir_version: Type.Number(),
      opset: Type.Union([Type.Number(), Type.Null()], { description: "Opset of the default (ai.onnx) domain" }),
      opset_imports: Type.Array(Type.Object({ domain: Type.String(), version: Type.Number() })),
      producer: Type.Object({ name: Type.String(), version: Type.String() }),
    }),
  ),
});

export const LineageQuery = Type.Object(
  {
    model: Type.Optional(Type.String({ description: "Registered model name (with version)" })),
    version: Type.Optional(Type.String({ description: "Model version (with model)" })),
    run_id: Type.Optional(Type.String({ description: "A run: its datasets and the versions made from it" })),
    dataset_digest: Type.Optional(Type.String({ description: "A dataset's digest (as log-inputs recorded it): the runs that used it and their versions" })),
    dataset_name: Type.Optional(Type.String({ description: "Narrows dataset_digest to the dataset of this name" })),
    max_results: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100, description: "Items per list in one page" })),
    page_token: Type.Optional(Type.String({ description: "next_page_token of the previous page" })),
  },
  { additionalProperties: false },
);
export type LineageQuery = Static<typeof LineageQuery>;

const LineageRun = Type.Object({
  run_id: Type.String(),
  run_name: Type.String(),
  experiment_id: Type.String(),
  experiment_name: Type.Optional(Type.String()),
  status: Type.String(),
  lifecycle_stage: Type.String(),
  start_time: Type.Integer(),
  end_time: Type.Optional(Type.Integer()),
});

const LineageDataset = Type.Object({
  name: Type.String(),
  digest: Type.String(),
  source_type: Type.String(),
  source: Type.String(),
  context: Type.Optional(Type.String({ description: "The input's mlflow.data.context tag (training, evaluation, …)" })),
});

const LineageVersion = Type.Object({
  name: Type.String(),
  version: Type.String(),
  source: Type.String(),
  run_id: Type.String(),
  current_stage: Type.String(),
  creation_timestamp: Type.Integer(),
});

export const LineageResponse = Type.Object({
  model_version: Type.Optional(LineageVersion),
  run: Type.Optional(Type.Union([LineageRun, Type.Null()], { description: "Null when the version names no run, or it is gone or not readable by the caller" })),
  dataset: Type.Optional(Type.Object({ digest: Type.String(), name: Type.Optional(Type.String()) })),
  datasets: Type.Optional(Type.Array(LineageDataset)),
  runs: Type.Optional(Type.Array(Type.Object({ ...LineageRun.properties, datasets: Type.Array(LineageDataset, { description: "The run's inputs of this dataset" }) }))),
  model_versions: Type.Optional(Type.Array(LineageVersion)),
  next_page_token: Type.Optional(Type.String({ description: "Present while any list has more: pass as page_token" })),
});

import { type Static, Type } from "@sinclair/typebox";

/** Keel's own tracking API (under /api/keel/v1): request and response schemas, also the OpenAPI at /docs. */
export const CompareRequest = Type.Object(
  {
    run_ids: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { minItems: 1, maxItems: 100, description: "Runs to compare (at most 100)" }),
    metric_keys: Type.Array(Type.String({ minLength: 1, maxLength: 250 }), { minItems: 1, maxItems: 20, description: "Metric keys (at most 20)" }),
    max_points: Type.Optional(Type.Integer({ minimum: 3, maximum: 100000, default: 1000, description: "Points per series after downsampling" })),
    method: Type.Optional(Type.Union([Type.Literal("lttb"), Type.Literal("minmax")], { default: "lttb" })),
    x_axis: Type.Optional(Type.Union([Type.Literal("step"), Type.Literal("timestamp")], { default: "step", description: "Axis the downsampler keeps shape along" })),
    full_resolution: Type.Optional(Type.Boolean({ default: false, description: "Return every point (ignores max_points)" })),
  },
  { additionalProperties: false },
);
export type CompareRequest = Static<typeof CompareRequest>;

const Point = Type.Object({ step: Type.Number(), timestamp: Type.Number(), value: Type.Union([Type.Number(), Type.String()]) });
export const CompareResponse = Type.Object({
  series: Type.Array(
    Type.Object({
      run_id: Type.String(),
      metric_key: Type.String(),
      total_points: Type.Integer(),
      downsampled: Type.Boolean(),
      points: Type.Array(Point),
    }),
  ),
});

/** Checked by the route itself (experimentIdsParam), whose messages say how to fix a bad list; this is the documentation. */
export const KeysQuery = Type.Object({
  experiment_ids: Type.Optional(
    Type.Union([Type.String(), Type.Array(Type.String())], { description: "Experiment IDs, the parameter repeated for each (at most 100): ?experiment_ids=1&experiment_ids=2" }),
  ),
});
export const KeysResponse = Type.Object({
  metrics: Type.Array(Type.String()),
  params: Type.Array(Type.String()),
  tags: Type.Array(Type.String()),
});

export const ErrorResponse = Type.Object({ error_code: Type.String(), message: Type.String() });

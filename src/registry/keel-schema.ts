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

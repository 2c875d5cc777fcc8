/**
 * MLflow's search grammars for runs/search and experiments/search (`filter` and `order_by`); the scanner
 * and parser they share live in core/search-grammar.ts.
 */
import {
  type Comparison,
  EQ_IN_OPS,
  type EntityType,
  type Field,
  type Grammar,
  LIKE_OPS,
  NULL_OPS,
  num,
  ORDER_ONLY,
  type OrderBy,
  orderAttrs,
  parseFilter,
  parseOrder,
  prefixes,
  STRING_OPS,
  str,
} from "../core/search-grammar.js";

export type { Comparator, Comparison, EntityType, OrderBy } from "../core/search-grammar.js";

const RUN_PREFIXES = prefixes({
  metric: ["metric", "metrics"],
  param: ["param", "params", "parameter", "parameters"],
  tag: ["tag", "tags"],
  attribute: ["attribute", "attributes", "attr", "run"],
  dataset: ["dataset", "datasets"],
});
const EXPERIMENT_ORDER_PREFIXES = prefixes({ attribute: ["attribute", "attributes", "attr"] });
const EXPERIMENT_PREFIXES = prefixes({ attribute: ["attribute", "attributes", "attr"], tag: ["tag", "tags"] });

const RUN_ALIASES: ReadonlyMap<string, string> = new Map([
  ...["created", "Created"].map((a) => [a, "start_time"] as const),
  ...["run name", "Run name", "Run Name"].map((a) => [a, "run_name"] as const),
  ["run_uuid", "run_id"],
]);

const RUN_FILTER: Grammar = {
  prefixes: RUN_PREFIXES,
  bareIsAttribute: false,
  attributes: new Map([
    ["run_id", str(EQ_IN_OPS)],
    ["run_name", str(STRING_OPS)],
    ["status", str(STRING_OPS)],
    ["user_id", str(STRING_OPS)],
    ["artifact_uri", str(STRING_OPS)],
    ["lifecycle_stage", str(STRING_OPS)],
    ["start_time", num()],
    ["end_time", num()],
  ]),
  aliases: RUN_ALIASES,
  entities: new Map<EntityType, Field>([
    ["metric", num()],
    ["param", str([...STRING_OPS, ...NULL_OPS])],
    ["tag", str([...STRING_OPS, ...NULL_OPS])],
    ["dataset", str(STRING_OPS)],
  ]),
  keys: new Map([["dataset", new Set(["name", "digest", "context"])]]),
};

const RUN_ORDER: Grammar = {
  prefixes: RUN_PREFIXES,
  bareIsAttribute: true,
  attributes: orderAttrs(
    ...["run_id", "run_name", "status", "user_id", "artifact_uri", "start_time", "end_time"],
    ...["experiment_id", "lifecycle_stage"],
  ),
  aliases: new Map([...RUN_ALIASES].filter(([alias]) => alias.toLowerCase() === "created")),
  entities: new Map<EntityType, Field>([["metric", ORDER_ONLY], ["param", ORDER_ONLY], ["tag", ORDER_ONLY]]),
};

const EXPERIMENT_FILTER: Grammar = {
  prefixes: EXPERIMENT_PREFIXES,
  bareIsAttribute: true,
  attributes: new Map([
    ["name", str(LIKE_OPS)],
    ["creation_time", num()],
    ["last_update_time", num()],
    ["experiment_id", str(EQ_IN_OPS)],
  ]),
  aliases: new Map(),
  entities: new Map<EntityType, Field>([["tag", str([...LIKE_OPS, ...NULL_OPS])]]),
};

const EXPERIMENT_ORDER: Grammar = {
  prefixes: EXPERIMENT_ORDER_PREFIXES,
  bareIsAttribute: true,
  attributes: orderAttrs("name", "experiment_id", "creation_time", "last_update_time"),
  aliases: new Map(),
  entities: new Map(),
};

/** Parse a runs/search filter. Empty / missing → []. */
export function parseRunFilter(filter: string | undefined | null): Comparison[] {
  return parseFilter(filter, RUN_FILTER);
}

/** Parse one runs/search order_by entry, e.g. `metrics.rmse DESC` or `start_time`. */
export function parseRunOrderBy(orderBy: string): OrderBy {
  return parseOrder(orderBy, RUN_ORDER);
}

/** Parse an experiments/search filter. Empty / missing → []. */
export function parseExperimentFilter(filter: string | undefined | null): Comparison[] {
  return parseFilter(filter, EXPERIMENT_FILTER);
}

/** Parse one experiments/search order_by entry, e.g. `name ASC` or `last_update_time DESC`. */
export function parseExperimentOrderBy(orderBy: string): OrderBy {
  return parseOrder(orderBy, EXPERIMENT_ORDER);
}

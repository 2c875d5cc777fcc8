/**
 * MLflow's registry search grammars (registered-models/search and model-versions/search), on the shared
 * scanner in core/search-grammar.ts. As in MLflow: a bare identifier is an attribute, `tags.<key>` a tag;
 * registered models filter on name only, versions on name, run_id, source_path and version_number.
 */
import { invalidParam } from "../core/errors.js";
import {
  type Comparison,
  type EntityType,
  type Field,
  type Grammar,
  LIKE_OPS,
  num,
  type OrderBy,
  orderAttrs,
  parseFilter,
  parseOrder,
  prefixes,
  str,
} from "../core/search-grammar.js";

const PREFIXES = prefixes({ attribute: ["attribute", "attributes", "attr"], tag: ["tag", "tags"] });
const TAGS = new Map<EntityType, Field>([["tag", str(LIKE_OPS)]]);
/** MLflow sorts models and versions by `timestamp` too, meaning the last update. */
const TIMESTAMP_ALIAS: ReadonlyMap<string, string> = new Map([["timestamp", "last_updated_timestamp"]]);

const MODEL_FILTER: Grammar = {
  prefixes: PREFIXES,
  bareIsAttribute: true,
  attributes: new Map([["name", str(LIKE_OPS)]]),
  aliases: new Map(),
  entities: TAGS,
};

const MODEL_ORDER: Grammar = {
  prefixes: PREFIXES,
  bareIsAttribute: true,
  attributes: orderAttrs("name", "last_updated_timestamp", "creation_timestamp"),
  aliases: TIMESTAMP_ALIAS,
  entities: new Map(),
};

const VERSION_FILTER: Grammar = {
  prefixes: PREFIXES,
  bareIsAttribute: true,
  attributes: new Map([
    ["name", str(LIKE_OPS)],
    ["run_id", str([...LIKE_OPS, "IN"])],
    ["source_path", str(LIKE_OPS)],
    ["version_number", num()],
  ]),
  aliases: new Map(),
  entities: TAGS,
};

const VERSION_ORDER: Grammar = {
  prefixes: PREFIXES,
  bareIsAttribute: true,
  attributes: orderAttrs("name", "version_number", "creation_timestamp", "last_updated_timestamp"),
  aliases: TIMESTAMP_ALIAS,
  entities: new Map(),
};

export const parseModelFilter = (filter: string | undefined): Comparison[] => parseFilter(filter, MODEL_FILTER);
export const parseVersionFilter = (filter: string | undefined): Comparison[] => parseFilter(filter, VERSION_FILTER);

/** MLflow refuses a field named twice in order_by; the store appends the tie-breaks. */
function orderList(orderBy: string[], grammar: Grammar): OrderBy[] {
  const parsed = orderBy.map((o) => parseOrder(o, grammar));
  const seen = new Set<string>();
  for (const o of parsed) {
    if (seen.has(o.key)) throw invalidParam(`order_by names '${o.key}' more than once: ${JSON.stringify(orderBy).slice(0, 200)}.`);
    seen.add(o.key);
  }
  return parsed;
}

export const parseModelOrderBy = (orderBy: string[]): OrderBy[] => orderList(orderBy, MODEL_ORDER);
export const parseVersionOrderBy = (orderBy: string[]): OrderBy[] => orderList(orderBy, VERSION_ORDER);

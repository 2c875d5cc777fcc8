/**
 * Suggestions for the runs filter (MLflow's search grammar): where an identifier is expected, the metric,
 * param and tag keys the experiment has (from the keys endpoint) and the run attributes. Values and
 * operators are left to the user; the server checks the whole filter and says what is wrong.
 */
import { quoteKey } from "./columns";

export interface KeySets {
  metrics: string[];
  params: string[];
  tags: string[];
}

export interface Suggestion {
  /** What the list shows. */
  label: string;
  /** What replaces the identifier being typed. */
  insert: string;
  kind: "metric" | "param" | "tag" | "attribute" | "prefix";
}

export interface Completion {
  from: number;
  to: number;
  items: Suggestion[];
}

const ATTRIBUTES = ["run_name", "status", "user_id", "start_time", "end_time", "run_id", "artifact_uri"];
const PREFIXES: Record<string, Suggestion["kind"]> = {
  metric: "metric",
  metrics: "metric",
  param: "param",
  params: "param",
  parameter: "param",
  parameters: "param",
  tag: "tag",
  tags: "tag",
  attribute: "attribute",
  attributes: "attribute",
  attr: "attribute",
  run: "attribute",
};
const CANONICAL: Record<Suggestion["kind"], string> = { metric: "metrics", param: "params", tag: "tags", attribute: "attributes", prefix: "" };
const LIMIT = 50;
const STOP = /[\s=!<>~(),]/;

/** Where the identifier at `caret` starts, or -1 when the caret is not in one (inside a value string, after an operator…). */
function identifierStart(text: string, caret: number): number {
  let valueQuote: string | undefined;
  let keyQuote: string | undefined;
  let tokenStart = 0;
  for (let i = 0; i < caret; i++) {
    const c = text[i];
    if (valueQuote) {
      if (c === "\\") i++;
      else if (c === valueQuote) valueQuote = undefined;
    } else if (keyQuote) {
      if (c === keyQuote) keyQuote = undefined;
    } else if (c === "`") {
      keyQuote = c;
    } else if (c === "'" || c === '"') {
      // Right after `prefix.` a quote quotes a key; anywhere else it opens a value.
      if (text.slice(tokenStart, i).endsWith(".")) keyQuote = c;
      else valueQuote = c;
    } else if (STOP.test(c)) {
      tokenStart = i + 1;
    }
  }
  if (valueQuote) return -1;
  // An identifier may only come first or after AND.
  const before = text.slice(0, tokenStart).trimEnd();
  if (before !== "" && !/(^|\s)and$/i.test(before)) return -1;
  return tokenStart;
}

function rank(items: { s: Suggestion; key: string }[], partial: string): Suggestion[] {
  const p = partial.toLowerCase();
  const starts: Suggestion[] = [];
  const contains: Suggestion[] = [];
  for (const { s, key } of items) {
    const k = key.toLowerCase();
    if (k.startsWith(p)) starts.push(s);
    else if (p && k.includes(p)) contains.push(s);
    if (starts.length >= LIMIT) break;
  }
  return [...starts, ...contains].slice(0, LIMIT);
}

export function complete(text: string, caret: number, keys: KeySets): Completion | undefined {
  const from = identifierStart(text, caret);
  if (from < 0) return undefined;
  let to = caret;
  while (to < text.length && !STOP.test(text[to])) to++;
  const token = text.slice(from, caret);
  const dot = token.indexOf(".");
  const entry = (kind: Suggestion["kind"], key: string) => ({
    key,
    s: { label: `${CANONICAL[kind]}.${key}`, insert: `${CANONICAL[kind]}.${quoteKey(key)} `, kind },
  });
  const all = (kind: Suggestion["kind"]) => {
    const list = kind === "metric" ? keys.metrics : kind === "param" ? keys.params : kind === "tag" ? keys.tags : ATTRIBUTES;
    return list.map((k) => entry(kind, k));
  };
  if (dot >= 0) {
    const kind = PREFIXES[token.slice(0, dot).toLowerCase()];
    if (!kind) return undefined;
    const partial = token.slice(dot + 1).replace(/^[`"']/, "");
    const items = rank(all(kind), partial);
    return items.length ? { from, to, items } : undefined;
  }
  const prefixes: Suggestion[] = ["metrics", "params", "tags", "attributes"]
    .filter((p) => p.startsWith(token.toLowerCase()))
    .map((p) => ({ label: `${p}.`, insert: `${p}.`, kind: "prefix" }));
  if (!token) return { from, to, items: prefixes };
  const keysMatching = rank([...all("metric"), ...all("param"), ...all("tag"), ...all("attribute")], token);
  const items = [...prefixes, ...keysMatching].slice(0, LIMIT);
  return items.length ? { from, to, items } : undefined;
}

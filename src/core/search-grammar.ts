/**
 * The engine behind MLflow's search grammar (the `filter` and `order_by` of runs, experiments, registered
 * models and model versions). Each domain declares a `Grammar` (which identifiers, comparators and value
 * kinds it allows); this file scans and parses against it.
 *
 * Behaviour follows MLflow 2.x `SearchUtils`: a filter is one or more comparisons joined by AND (no OR,
 * no parentheses for grouping); each comparison is `<identifier> <comparator> <value>`. This is a
 * hand-written, linear-time scanner: every loop advances the cursor and every regex is sticky and free of
 * nested quantifiers, so hostile input cannot make it hang. Every malformed input throws
 * `invalidParam(...)`; nothing else is thrown.
 */
import { invalidParam } from "./errors.js";

export type EntityType = "metric" | "param" | "tag" | "attribute" | "dataset";
export type Comparator =
  | "=" | "!=" | ">" | ">=" | "<" | "<="
  | "LIKE" | "ILIKE" | "IN" | "NOT IN" | "IS NULL" | "IS NOT NULL";

export interface Comparison {
  type: EntityType;
  /** metric/param/tag key, normalised attribute name, or dataset field ("name" | "digest" | "context"). */
  key: string;
  comparator: Comparator;
  /** number for metrics/numeric attributes, string for strings, string[] for IN/NOT IN, null for IS [NOT] NULL. */
  value: number | string | string[] | null;
}

export interface OrderBy {
  type: Exclude<EntityType, "dataset">;
  key: string;
  ascending: boolean;
}

// ---- Grammar tables --------------------------------------------------------------------------

export interface Field {
  kind: "number" | "string";
  ops: ReadonlySet<Comparator>;
}

export interface Grammar {
  /** Allowed identifier prefixes (case-sensitive, as in MLflow). */
  prefixes: ReadonlyMap<string, EntityType>;
  /** Whether an identifier without a prefix is read as an attribute. */
  bareIsAttribute: boolean;
  attributes: ReadonlyMap<string, Field>;
  aliases: ReadonlyMap<string, string>;
  /** Value/comparator rules for the non-attribute entity types this grammar allows. */
  entities: ReadonlyMap<EntityType, Field>;
  /** Entity types whose keys form a closed set (datasets: name, digest, context). */
  keys?: ReadonlyMap<EntityType, ReadonlySet<string>>;
}

export const NUMERIC_OPS: readonly Comparator[] = ["=", "!=", ">", ">=", "<", "<="];
export const STRING_OPS: readonly Comparator[] = ["=", "!=", "LIKE", "ILIKE", "IN", "NOT IN"];
export const EQ_IN_OPS: readonly Comparator[] = ["=", "!=", "IN", "NOT IN"];
export const LIKE_OPS: readonly Comparator[] = ["=", "!=", "LIKE", "ILIKE"];
export const NULL_OPS: readonly Comparator[] = ["IS NULL", "IS NOT NULL"];
const ALL_OPS: readonly Comparator[] = [...NUMERIC_OPS, "LIKE", "ILIKE", "IN", "NOT IN", ...NULL_OPS];

export const num = (ops: readonly Comparator[] = NUMERIC_OPS): Field => ({ kind: "number", ops: new Set(ops) });
export const str = (ops: readonly Comparator[]): Field => ({ kind: "string", ops: new Set(ops) });

export const prefixes = (groups: Partial<Record<EntityType, string[]>>): ReadonlyMap<string, EntityType> =>
  new Map(Object.entries(groups).flatMap(([type, names]) => names.map((n) => [n, type as EntityType] as const)));

/** For order_by grammars: comparator rules are irrelevant when ordering. */
export const ORDER_ONLY = num([]);
export const orderAttrs = (...names: string[]): ReadonlyMap<string, Field> => new Map(names.map((n) => [n, ORDER_ONLY] as const));

// ---- Scanner ---------------------------------------------------------------------------------

const WS = /\s/;
const WORD = /[A-Za-z_][A-Za-z0-9_]*/y;
const LETTERS = /[A-Za-z]+/y;
const SYMBOL_OPS = /[=!<>~]+/y;
/** Unquoted key: anything up to whitespace, an operator, a bracket, a comma or a quote. */
const UNQUOTED_KEY = /[^\s=!<>~(),'"`]+/y;
const NUMBER = /[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/y;
const TOKEN = /[^\s(),]+/y;
const QUOTES = "'\"`";
const KEY_CHAR = /[^\s=!<>~(),'"`]/;

function fail(message: string): never {
  throw invalidParam(message);
}

/** Quote a fragment of user input for an error message, truncated so messages stay small. */
function show(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
}

class Scanner {
  i = 0;
  constructor(readonly s: string) {}
  eof(): boolean {
    return this.i >= this.s.length;
  }
  peek(): string {
    return this.s.charAt(this.i);
  }
  ws(): void {
    while (this.i < this.s.length && WS.test(this.s[this.i])) this.i++;
  }
  match(re: RegExp): string | null {
    re.lastIndex = this.i;
    const m = re.exec(this.s);
    if (!m || m[0] === "") return null;
    this.i += m[0].length;
    return m[0];
  }
  /** The next token (for error messages) without consuming it. */
  nextToken(): string {
    TOKEN.lastIndex = this.i;
    return TOKEN.exec(this.s)?.[0] ?? this.peek();
  }
  where(): string {
    return this.eof() ? "at end of input" : `at position ${this.i}`;
  }
  /**
   * Read a quoted section starting at the current quote character. A doubled quote (`''`) or a
   * backslash escape of a quote or backslash (`\'`, `\"`, `` \` ``, `\\`) yields the character
   * itself; any other backslash sequence is kept verbatim (so LIKE patterns keep their escapes).
   */
  quoted(what: string): string {
    const q = this.s[this.i];
    const start = this.i;
    let out = "";
    let i = this.i + 1;
    while (i < this.s.length) {
      const ch = this.s[i];
      if (ch === "\\" && i + 1 < this.s.length) {
        const next = this.s[i + 1];
        out += QUOTES.includes(next) || next === "\\" ? next : ch + next;
        i += 2;
      } else if (ch === q && this.s[i + 1] === q) {
        out += q;
        i += 2;
      } else if (ch === q) {
        this.i = i + 1;
        return out;
      } else {
        out += ch;
        i++;
      }
    }
    return fail(`Unterminated ${q} quote in ${what} starting at position ${start}`);
  }
}

// ---- Parsing ---------------------------------------------------------------------------------

interface Resolved {
  type: EntityType;
  key: string;
  field: Field;
}

function readIdentifier(sc: Scanner, g: Grammar): Resolved {
  const start = sc.i;
  const head = sc.peek() === "`" ? sc.quoted("identifier") : sc.match(WORD);
  if (head === null) {
    return fail(`Expected an identifier ${sc.where()}, found ${show(sc.nextToken())}`);
  }
  let type: EntityType;
  let key: string;
  if (sc.peek() === ".") {
    sc.i++;
    const t = g.prefixes.get(head);
    if (t === undefined) {
      return fail(`Invalid entity type ${show(head)}. Valid prefixes are: ${[...g.prefixes.keys()].join(", ")}`);
    }
    type = t;
    const c = sc.peek();
    key = c === '"' || c === "`" ? sc.quoted("key") : (sc.match(UNQUOTED_KEY) ?? "");
    if (key === "") return fail(`Missing key after ${show(sc.s.slice(start, sc.i))}`);
  } else if (g.bareIsAttribute) {
    type = "attribute";
    key = head;
  } else {
    return fail(
      `Invalid identifier ${show(head)}: expected a prefixed identifier such as metrics.<key>, ` +
        "params.<key>, tags.<key>, attributes.<key> or datasets.<key>",
    );
  }
  if (type === "attribute") {
    key = g.aliases.get(key) ?? key;
    const field = g.attributes.get(key);
    if (field === undefined) {
      return fail(`Invalid attribute key ${show(key)}. Valid keys are: ${[...g.attributes.keys()].join(", ")}`);
    }
    return { type, key, field };
  }
  const validKeys = g.keys?.get(type);
  if (validKeys && !validKeys.has(key)) {
    return fail(`Invalid ${type} key ${show(key)}. Valid keys are: ${[...validKeys].join(", ")}`);
  }
  const field = g.entities.get(type);
  if (field === undefined) return fail(`${type} identifiers are not supported here: ${show(sc.s.slice(start, sc.i))}`);
  return { type, key, field };
}

function readComparator(sc: Scanner): Comparator {
  const sym = sc.match(SYMBOL_OPS);
  if (sym !== null) {
    if ((NUMERIC_OPS as readonly string[]).includes(sym)) return sym as Comparator;
    return fail(`Invalid comparator ${show(sym)}. Valid comparators are: ${ALL_OPS.join(", ")}`);
  }
  const word = (w: string | null) => (w ?? "").toUpperCase();
  const at = sc.i;
  const first = word(sc.match(LETTERS));
  if (first === "LIKE" || first === "ILIKE" || first === "IN") return first as Comparator;
  if (first === "NOT") {
    sc.ws();
    if (word(sc.match(LETTERS)) === "IN") return "NOT IN";
    return fail(`Invalid comparator ${show(sc.s.slice(at, sc.i))}: NOT may only be used as NOT IN`);
  }
  if (first === "IS") {
    sc.ws();
    let second = word(sc.match(LETTERS));
    if (second === "NULL") return "IS NULL";
    if (second === "NOT") {
      sc.ws();
      second = word(sc.match(LETTERS));
      if (second === "NULL") return "IS NOT NULL";
    }
    return fail(`Invalid comparator ${show(sc.s.slice(at, sc.i).trim())}: expected IS NULL or IS NOT NULL`);
  }
  sc.i = at;
  if (sc.eof()) return fail("Missing comparator at end of input");
  return fail(`Invalid comparator ${show(sc.nextToken())} at position ${at}`);
}

function readList(sc: Scanner, label: string, comparator: Comparator): string[] {
  if (sc.peek() !== "(") {
    const found = show(sc.nextToken());
    return fail(`${comparator} for ${label} needs a parenthesised list of quoted strings like ('a', 'b'); found ${found}`);
  }
  sc.i++;
  sc.ws();
  if (sc.peek() === ")") return fail(`Empty ${comparator} list for ${label}`);
  const items: string[] = [];
  for (;;) {
    sc.ws();
    const c = sc.peek();
    if (c !== "'" && c !== '"') {
      if (sc.eof()) return fail(`Unterminated ${comparator} list for ${label}: missing ')'`);
      const found = show(sc.nextToken());
      return fail(`Values in the ${comparator} list for ${label} must be quoted strings, found ${found}`);
    }
    items.push(sc.quoted("string value"));
    sc.ws();
    const d = sc.peek();
    sc.i++;
    if (d === ")") return items;
    if (d !== ",") {
      sc.i--;
      if (sc.eof()) return fail(`Unterminated ${comparator} list for ${label}: missing ')'`);
      return fail(`Expected ',' or ')' in ${comparator} list for ${label}, found ${show(sc.nextToken())}`);
    }
  }
}

function readValue(sc: Scanner, r: Resolved, comparator: Comparator, label: string): Comparison["value"] {
  if (comparator === "IS NULL" || comparator === "IS NOT NULL") return null;
  sc.ws();
  if (comparator === "IN" || comparator === "NOT IN") return readList(sc, label, comparator);
  if (sc.eof()) return fail(`Missing value after ${label} ${comparator}`);
  const c = sc.peek();
  if (c === "'" || c === '"') {
    const s = sc.quoted("string value");
    if (r.field.kind === "number") return fail(`Expected a numeric value for ${label}, found quoted string ${show(s)}`);
    return s;
  }
  const at = sc.i;
  const literal = sc.match(NUMBER);
  if (literal !== null && !/[A-Za-z0-9_.]/.test(sc.peek())) {
    if (r.field.kind === "string") {
      return fail(`Value for ${label} must be quoted ('...' or "..."), found ${show(literal)}`);
    }
    const n = Number(literal);
    if (!Number.isFinite(n)) return fail(`Numeric value ${show(literal)} for ${label} is out of range`);
    return n;
  }
  sc.i = at;
  const tok = sc.nextToken();
  if (r.field.kind === "number") return fail(`Expected a numeric value for ${label}, found ${show(tok)}`);
  return fail(`Value for ${label} must be quoted ('...' or "..."), found ${show(tok)}`);
}

function readComparison(sc: Scanner, g: Grammar): Comparison {
  const start = sc.i;
  const r = readIdentifier(sc, g);
  const label = sc.s.slice(start, sc.i);
  sc.ws();
  const comparator = readComparator(sc);
  if (!r.field.ops.has(comparator)) {
    const valid = [...r.field.ops].join(", ");
    return fail(`Invalid comparator ${show(comparator)} for ${show(label)}. Valid comparators are: ${valid}`);
  }
  const value = readValue(sc, r, comparator, label);
  return { type: r.type, key: r.key, comparator, value };
}

/** Reject a bare OR word anywhere outside quoted sections (MLflow supports only AND). */
function rejectOr(s: string): void {
  let i = 0;
  while (i < s.length) {
    const ch = s[i];
    if (QUOTES.includes(ch)) {
      let j = i + 1;
      while (j < s.length && s[j] !== ch) j += s[j] === "\\" ? 2 : 1;
      if (j >= s.length) return; // unterminated: the parser reports it
      i = j + 1; // a doubled quote simply reads as two adjacent quoted sections
    } else if (KEY_CHAR.test(ch)) {
      UNQUOTED_KEY.lastIndex = i;
      const w = UNQUOTED_KEY.exec(s)?.[0] ?? ch;
      if (w.toUpperCase() === "OR") {
        fail(`Invalid filter: OR is not supported (found ${show(w)} at position ${i}); join clauses with AND`);
      }
      i += w.length;
    } else {
      i++;
    }
  }
}

/** Parse a filter in grammar `g`. Empty / missing → []. */
export function parseFilter(filter: unknown, g: Grammar): Comparison[] {
  if (filter === undefined || filter === null) return [];
  if (typeof filter !== "string") return fail("Search filter must be a string");
  if (filter.trim() === "") return [];
  rejectOr(filter);
  const sc = new Scanner(filter);
  const out: Comparison[] = [];
  for (;;) {
    sc.ws();
    if (sc.eof()) return fail("Expected a comparison after AND at end of filter");
    out.push(readComparison(sc, g));
    sc.ws();
    if (sc.eof()) return out;
    const at = sc.i;
    const w = sc.match(LETTERS);
    if (w === null || w.toUpperCase() !== "AND" || !(sc.eof() || WS.test(sc.peek()))) {
      sc.i = at;
      return fail(`Unexpected ${show(sc.nextToken())} at position ${at}: clauses must be joined with AND`);
    }
  }
}

/** Parse one order_by entry in grammar `g`, e.g. `name DESC`. */
export function parseOrder(orderBy: unknown, g: Grammar): OrderBy {
  if (typeof orderBy !== "string") return fail("order_by clause must be a string");
  const sc = new Scanner(orderBy);
  sc.ws();
  if (sc.eof()) return fail("order_by clause must not be empty");
  const r = readIdentifier(sc, g);
  if (r.type === "dataset") return fail("Ordering by dataset fields is not supported");
  sc.ws();
  let ascending = true;
  if (!sc.eof()) {
    const at = sc.i;
    const dir = (sc.match(LETTERS) ?? "").toUpperCase();
    if (dir === "DESC") ascending = false;
    else if (dir !== "ASC") {
      sc.i = at;
      return fail(`Invalid order_by clause ${show(orderBy)}: expected ASC or DESC, found ${show(sc.nextToken())}`);
    }
    sc.ws();
    if (!sc.eof()) return fail(`Invalid order_by clause ${show(orderBy)}: unexpected ${show(sc.nextToken())}`);
  }
  return { type: r.type, key: r.key, ascending };
}

import { invalidParam } from "./errors.js";

/**
 * Readers for MLflow request messages. JSON bodies and query strings both land here: proto int64
 * fields may arrive as strings, repeated fields may arrive as one value, and every message names
 * the field so the user knows what to fix.
 */
export type Message = Record<string, unknown>;

export function asMessage(input: unknown): Message {
  if (input === undefined || input === null) return {};
  if (typeof input !== "object" || Array.isArray(input)) {
    throw invalidParam("Request body must be a JSON object.");
  }
  return input as Message;
}

export function optString(msg: Message, field: string): string | undefined {
  const v = msg[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (Array.isArray(v) && v.length === 1 && typeof v[0] === "string") return v[0];
  throw invalidParam(`Invalid value ${preview(v)} for parameter '${field}' supplied: expected a string.`);
}

export function reqString(msg: Message, field: string): string {
  const v = optString(msg, field);
  if (v === undefined || v === "") throw missing(field);
  return v;
}

export function missing(field: string): Error {
  return invalidParam(`Missing value for required parameter '${field}'. See the API docs for more information about request parameters.`);
}

/** int64 fields: numbers or numeric strings, integral, within the safe range. */
export function optInt(msg: Message, field: string): number | undefined {
  const v = msg[field];
  if (v === undefined || v === null || v === "") return undefined;
  const scalar = Array.isArray(v) && v.length === 1 ? v[0] : v;
  const n = typeof scalar === "string" && /^-?\d+$/.test(scalar.trim()) ? Number(scalar) : scalar;
  if (typeof n !== "number" || !Number.isSafeInteger(n)) {
    throw invalidParam(`Invalid value ${preview(v)} for parameter '${field}' supplied: expected an integer.`);
  }
  return n;
}

export function reqInt(msg: Message, field: string): number {
  const v = optInt(msg, field);
  if (v === undefined) throw missing(field);
  return v;
}

/** A page size: `def` when absent, else between 1 and `max`. */
export function parseMaxResults(msg: Message, field: string, def: number, max: number): number {
  const n = optInt(msg, field) ?? def;
  if (n < 1 || n > max) throw invalidParam(`Invalid value ${n} for parameter '${field}' supplied. It must be at least 1 and at most ${max}.`);
  return n;
}

export function optBool(msg: Message, field: string): boolean | undefined {
  const v = msg[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v === "boolean") return v;
  if (v === "true" || v === "True") return true;
  if (v === "false" || v === "False") return false;
  throw invalidParam(`Invalid value ${preview(v)} for parameter '${field}' supplied: expected a boolean.`);
}

/** Repeated string fields: `a` or `[a, b]` (query strings repeat keys; JSON sends arrays). */
export function stringList(msg: Message, field: string): string[] {
  const v = msg[field];
  if (v === undefined || v === null) return [];
  const arr = Array.isArray(v) ? v : [v];
  return arr.map((x) => {
    if (typeof x === "string") return x;
    if (typeof x === "number") return String(x);
    throw invalidParam(`Invalid value ${preview(v)} for parameter '${field}' supplied: expected a list of strings.`);
  });
}

export function objectList(msg: Message, field: string): Message[] {
  const v = msg[field];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw invalidParam(`Invalid value ${preview(v)} for parameter '${field}' supplied: expected a list.`);
  return v.map((x, i) => {
    if (x === null || typeof x !== "object" || Array.isArray(x)) {
      throw invalidParam(`Invalid value ${preview(x)} for parameter '${field}[${i}]' supplied: expected an object.`);
    }
    return x as Message;
  });
}

const KEY_RE = /^[/\w.\- ]*$/;

/**
 * A metric/param/tag key as MLflow accepts it: its character set, a normalised relative path (no leading
 * '/', no '.' or '..' parts, no '//'), at most `maxLength` characters. `kind` names it in messages.
 */
export function checkKeyName(kind: string, key: unknown, maxLength: number): string {
  if (typeof key !== "string" || key === "") throw missing("key");
  const shown = key.length > 60 ? `${key.slice(0, 60)}…` : key;
  if (!KEY_RE.test(key)) {
    throw invalidParam(
      `Invalid ${kind} name: '${shown}'. Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), and slashes (/).`,
    );
  }
  if (key.startsWith("/") || key.includes("//") || key.split("/").some((part) => part === "." || part === "..") || key.endsWith("/")) {
    throw invalidParam(`Invalid ${kind} name: '${shown}'. Names must be normalized relative paths (no leading '/', no '.' or '..' parts, no '//').`);
  }
  if (key.length > maxLength) {
    throw invalidParam(`${kind[0].toUpperCase()}${kind.slice(1)} key '${shown}' had length ${key.length}, which exceeded length limit of ${maxLength}`);
  }
  return key;
}

/**
 * A short JSON-ish rendering of a bad value for an error message. Bounded in work and depth: a value
 * nested thousands deep, or megabytes long, must not overflow the stack or be serialised whole just to
 * show its first 100 characters.
 */
export function preview(v: unknown, max = 100): string {
  let out = "";
  const walk = (x: unknown, depth: number): void => {
    if (out.length > max) return;
    if (Array.isArray(x)) {
      if (depth > 20) {
        out += "[…]";
        return;
      }
      out += "[";
      for (let i = 0; i < x.length && out.length <= max; i++) {
        if (i) out += ",";
        walk(x[i], depth + 1);
      }
      out += "]";
    } else if (x !== null && typeof x === "object") {
      if (depth > 20) {
        out += "{…}";
        return;
      }
      out += "{";
      let first = true;
      for (const [k, val] of Object.entries(x)) {
        if (out.length > max) break;
        if (!first) out += ",";
        first = false;
        out += `${JSON.stringify(k.length > max ? k.slice(0, max) : k)}:`;
        walk(val, depth + 1);
      }
      out += "}";
    } else if (typeof x === "string") {
      out += JSON.stringify(x.length > max ? x.slice(0, max) : x);
    } else {
      out += typeof x === "number" || typeof x === "boolean" || x === null ? String(x) : typeof x;
    }
  };
  walk(v, 0);
  return out.length > max ? `${out.slice(0, max)}…` : out;
}

/** MLflow sends both run_id and run_uuid; either names the run. */
export function runIdOf(msg: Message): string {
  const id = optString(msg, "run_id") || optString(msg, "run_uuid");
  if (!id) throw invalidParam("Missing value for required parameter 'run_id'. See the API docs for more information about request parameters.");
  return id;
}

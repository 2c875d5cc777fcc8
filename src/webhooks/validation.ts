import { invalidParam } from "../core/errors.js";
import { EVENT_TYPES } from "../registry/schema.js";

/**
 * The one check on a webhook's URL, the only address a user makes this server call: http(s) only, no
 * credentials in it, bounded length. Webhooks are admin-managed, and self-hosted receivers are usually on
 * private networks (CI, chat bridges), so private addresses are allowed; redirects are never followed.
 */
export function checkWebhookUrl(raw: unknown): string {
  if (typeof raw !== "string" || raw.length === 0 || raw.length > 2048) throw invalidParam("url must be an http:// or https:// URL of at most 2048 characters.");
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw invalidParam(`url '${raw.slice(0, 200)}' is not a valid URL.`);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") throw invalidParam(`url must use http or https, not '${u.protocol.replace(":", "")}'.`);
  if (u.username || u.password) throw invalidParam("url must not carry credentials; the receiver checks the Keel-Signature header instead.");
  if (u.hash) throw invalidParam("url must not have a #fragment.");
  return u.toString();
}

export function checkEventTypes(raw: unknown): string[] {
  if (raw === undefined) return ["*"];
  if (!Array.isArray(raw) || raw.length === 0 || raw.some((t) => typeof t !== "string")) {
    throw invalidParam(`events must be a non-empty list of event types (${EVENT_TYPES.join(", ")}) or ["*"].`);
  }
  const unknown = raw.filter((t) => t !== "*" && !(EVENT_TYPES as readonly string[]).includes(t));
  if (unknown.length) throw invalidParam(`Unknown event type(s) ${unknown.join(", ")}: use ${EVENT_TYPES.join(", ")} or "*".`);
  return [...new Set(raw as string[])];
}

export function checkWebhookName(raw: unknown): string {
  if (typeof raw !== "string" || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(raw)) {
    throw invalidParam("name must be 1-100 characters: letters, digits, '.', '_' and '-', starting with a letter or digit.");
  }
  return raw;
}

export function checkSecret(raw: unknown): string | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== "string" || raw.length < 16 || raw.length > 256) throw invalidParam("secret must be 16 to 256 characters (or leave it out and one is generated).");
  return raw;
}

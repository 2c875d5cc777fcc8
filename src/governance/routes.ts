import type { FastifyInstance } from "fastify";
import { parseDuration } from "../core/duration.js";
import { invalidParam, notFound } from "../core/errors.js";
import { asMessage, type Message, optBool, optInt, optString, reqString } from "../core/validate.js";
import type { Database } from "../db/database.js";
import { resourceParam } from "./access-rules.js";
import { verifyChain } from "./audit-chain.js";
import { listAudit } from "./audit-query.js";
import { isLevel, type Level } from "./levels.js";
import { checkUsername, type GovernanceService, permissionDenied } from "./service.js";
import type { TokenRow, UserRow } from "./store-sql.js";

const doc = (summary: string) => ({ schema: { summary, tags: ["governance"] } });

export const wireUser = (u: UserRow) => ({ id: String(u.user_id), username: u.username, is_admin: u.is_admin === 1, creation_time: u.creation_time });

export const wireToken = (t: TokenRow) => ({
  id: String(t.token_id),
  name: t.name,
  prefix: t.prefix,
  creation_time: t.creation_time,
  expiry_time: t.expiry_time ?? undefined,
  revoked_time: t.revoked_time ?? undefined,
  last_used_time: t.last_used_time ?? undefined,
});

export function parseLevel(m: Message, field = "permission"): Level {
  const v = m[field];
  if (!isLevel(v)) throw invalidParam(`'${field}' must be one of READ, EDIT, MANAGE, NO_PERMISSIONS; got ${JSON.stringify(v)}.`);
  return v;
}

function who(m: Message): { user?: string; group?: string } {
  return { user: optString(m, "username"), group: optString(m, "group") };
}

/** Keel's governance API under /api/keel/v1: users, groups, tokens, "who can access this?", the audit trail. */
export async function registerGovernanceRoutes(app: FastifyInstance, gov: GovernanceService, database: Database): Promise<void> {
  const body = (req: { body?: unknown }) => asMessage(req.body ?? {});
  const query = (req: { query?: unknown }) => asMessage(req.query ?? {});
  const params = (req: { params?: unknown }) => req.params as Record<string, string>;

  app.get("/whoami", doc("The signed-in user"), async (req) => ({
    username: req.principal.username,
    is_admin: req.principal.isAdmin,
    authenticated_by: req.principal.via,
  }));

  app.get("/users", doc("Users (admin)"), async () => ({ users: (await gov.listUsers()).map(wireUser) }));
  app.post("/users", doc("Create a user (admin); password optional for token-only users"), async (req) => {
    const m = body(req);
    const user = await gov.createUser(checkUsername(m.username), optString(m, "password"), optBool(m, "is_admin") ?? false);
    return { user: wireUser(user) };
  });
  app.get("/users/:username", doc("A user and their direct grants (admin)"), async (req) => {
    const user = await gov.getUser(params(req).username);
    const perms = await gov.userPermissions(user.username);
    return {
      user: wireUser(user),
      experiment_permissions: perms.experiments.map((g) => ({ experiment_id: String(g.resource_id), permission: g.permission })),
      registered_model_permissions: perms.models.map((g) => ({ model_id: String(g.resource_id), permission: g.permission })),
    };
  });
  app.patch("/users/:username", doc("Change a user's password or admin flag (admin)"), async (req) => {
    const m = body(req);
    const name = params(req).username;
    const password = optString(m, "password");
    const isAdmin = optBool(m, "is_admin");
    if (password === undefined && isAdmin === undefined) throw invalidParam("Send 'password' and/or 'is_admin'.");
    if (password !== undefined) await gov.setPassword(name, password);
    if (isAdmin !== undefined) {
      if (!isAdmin && name === req.principal.username) throw invalidParam("You cannot remove your own admin flag; ask another admin.");
      await gov.setAdmin(name, isAdmin);
    }
    return {};
  });
  app.delete("/users/:username", doc("Delete a user, their tokens and grants (admin)"), async (req) => {
    const name = params(req).username;
    if (name === req.principal.username) throw invalidParam("You cannot delete yourself.");
    await gov.deleteUser(name);
    return {};
  });

  app.get("/groups", doc("Groups and their members (admin)"), async () => ({ groups: (await gov.listGroups()).map((g) => ({ name: g.name, members: g.members })) }));
  app.post("/groups", doc("Create a group (admin)"), async (req) => {
    await gov.createGroup(reqString(body(req), "name"));
    return {};
  });
  app.delete("/groups/:group", doc("Delete a group and its grants (admin)"), async (req) => {
    await gov.deleteGroup(params(req).group);
    return {};
  });
  app.put("/groups/:group/members/:username", doc("Add a user to a group (admin)"), async (req) => {
    await gov.setMembership(params(req).group, params(req).username, true);
    return {};
  });
  app.delete("/groups/:group/members/:username", doc("Remove a user from a group (admin)"), async (req) => {
    await gov.setMembership(params(req).group, params(req).username, false);
    return {};
  });

  app.get("/tokens", doc("Your API tokens (admins: ?username= for another user's)"), async (req) => {
    const other = optString(query(req), "username");
    if (other !== undefined && other !== req.principal.username && !req.principal.isAdmin) throw permissionDenied("Only admins may list another user's tokens.");
    return { tokens: (await gov.tokensOf(other ?? req.principal.username)).map(wireToken) };
  });
  app.post("/tokens", doc("Create an API token; the secret is in this answer only"), async (req) => {
    const m = body(req);
    const other = optString(m, "username");
    if (other !== undefined && other !== req.principal.username && !req.principal.isAdmin) throw permissionDenied("Only admins may create tokens for another user.");
    if (other === undefined && req.principal.via === "none") {
      throw invalidParam("Auth is off on this server, so there is no signed-in user to create a token for: name one with 'username'.");
    }
    const expires = optString(m, "expires_in");
    const { token, row } = await gov.createToken(other ?? req.principal.username, optString(m, "name") ?? "token", expires === undefined ? undefined : parseDuration(expires));
    return { token, ...wireToken(row) };
  });
  app.delete("/tokens/:id", doc("Revoke a token (yours, or anyone's as admin)"), async (req) => {
    const id = Number(params(req).id);
    if (!Number.isSafeInteger(id) || id < 1) throw invalidParam("The token id must be a positive integer.");
    await gov.revokeToken(req.principal, id);
    return {};
  });

  app.get("/permissions", doc("Who can access a resource (?resource=experiment:<id> or registered_model:<name>), and why"), async (req) =>
    gov.whoCanAccess(resourceParam(reqString(query(req), "resource"))),
  );
  app.put("/permissions", doc("Grant a user or group a permission on a resource"), async (req) => {
    const m = body(req);
    await gov.setPermission(resourceParam(reqString(m, "resource")), who(m), parseLevel(m));
    return {};
  });
  app.delete("/permissions", doc("Remove a user's or group's grant on a resource (they fall back to groups / the default)"), async (req) => {
    const m = req.body === undefined ? query(req) : body(req);
    if (!(await gov.setPermission(resourceParam(reqString(m, "resource")), who(m), null))) throw notFound("There was no such grant.");
    return {};
  });

  app.get("/audit", doc("The audit trail, oldest first (order=desc: newest first); filter by actor, resource, action and time; page with after= (before= when newest first)"), async (req) => {
    const m = query(req);
    const order = optString(m, "order") ?? "asc";
    if (order !== "asc" && order !== "desc") throw invalidParam(`order must be asc or desc; got '${order}'.`);
    return listAudit(database, {
      newestFirst: order === "desc",
      before: optInt(m, "before"),
      actor: optString(m, "actor"),
      resource: optString(m, "resource"),
      action: optString(m, "action"),
      since: optInt(m, "since"),
      until: optInt(m, "until"),
      after: optInt(m, "after") ?? 0,
      limit: optInt(m, "limit") ?? 100,
    });
  });
  app.get("/audit/verify", doc("Re-hash the whole audit chain and report the first broken record"), async () => verifyChain(database));
}

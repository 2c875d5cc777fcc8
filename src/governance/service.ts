import { invalidParam, KeelError, notFound } from "../core/errors.js";
import type { Visibility, VisibleKind } from "../core/visibility.js";
import type { Database } from "../db/database.js";
import type { RegistryService } from "../registry/service.js";
import type { TrackingService } from "../tracking/service.js";
import { atLeast, type Level, maxLevel, type Principal, type ResourceKind } from "./levels.js";
import { hashPassword, MIN_PASSWORD_LENGTH, newToken, sha256Hex, TOKEN_PREFIX, tokenDisplayPrefix, verifyPassword } from "./secrets.js";
import type { GovernanceStore, GrantRow, TokenRow, UserRow } from "./store-sql.js";

/** What a route's rule names; runs resolve to their experiment, names to ids. */
export type ResourceRef =
  | { kind: "experiment"; id: string }
  | { kind: "experiment_name"; name: string }
  | { kind: "run"; id: string }
  | { kind: "registered_model"; name: string };

export interface GovernanceOptions {
  database: Database;
  store: GovernanceStore;
  tracking: TrackingService;
  registry: RegistryService;
  now: () => number;
  /** What users get on resources nobody granted them anything on. */
  defaultPermission: Level;
}

export const unauthenticated = (message: string) => new KeelError("UNAUTHENTICATED", message);
export const permissionDenied = (message: string) => new KeelError("PERMISSION_DENIED", message);

/**
 * Checking a credential must cost microseconds per request, not a KDF run: token digests and Basic
 * headers (keyed by their SHA-256, never stored in clear) are cached briefly; permission answers too.
 * Changes made through this process clear the caches at once; other replicas see them within the TTLs.
 */
const CREDENTIAL_TTL_MS = 5_000;
const BASIC_TTL_MS = 30_000;
const LEVEL_TTL_MS = 2_000;
const CACHE_MAX = 50_000;
const USERNAME = /^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$/;

interface Cached<T> {
  value: T;
  at: number;
}

function boundedSet<K, V>(map: Map<K, V>, key: K, value: V, max = CACHE_MAX): void {
  if (map.size >= max) map.delete(map.keys().next().value as K);
  map.set(key, value);
}

export function checkUsername(raw: unknown): string {
  if (typeof raw !== "string" || !USERNAME.test(raw)) {
    throw invalidParam("username must be 1-128 characters: letters, digits and . _ @ + - (starting with a letter or digit).");
  }
  return raw;
}

function checkPassword(raw: unknown): string {
  if (typeof raw !== "string" || raw.length < MIN_PASSWORD_LENGTH || raw.length > 1024) {
    throw invalidParam(`password must be a string of ${MIN_PASSWORD_LENGTH} to 1024 characters.`);
  }
  return raw;
}

export function createGovernanceService(opts: GovernanceOptions) {
  const { store, tracking, registry, now } = opts;
  const tokenCache = new Map<string, Cached<{ principal: Principal; tokenId: number; expiry: number | null } | null>>();
  const basicCache = new Map<string, Cached<Principal>>();
  const levelCache = new Map<string, Cached<Level>>();
  const runExperiment = new Map<string, string>();

  function forgetCaches(): void {
    tokenCache.clear();
    basicCache.clear();
    levelCache.clear();
  }

  async function principalOf(user: UserRow, via: Principal["via"]): Promise<Principal> {
    return { userId: user.user_id, username: user.username, isAdmin: user.is_admin === 1, groupIds: await store.groupIdsOf(user.user_id), via };
  }

  async function byToken(token: string): Promise<Principal> {
    const digest = sha256Hex(token);
    const t = now();
    let hit = tokenCache.get(digest);
    if (!hit || t - hit.at > CREDENTIAL_TTL_MS) {
      const row = await store.tokenByDigest(digest);
      const value =
        row && row.revoked_time === null
          ? {
              principal: { userId: row.user_id, username: row.username, isAdmin: row.is_admin === 1, groupIds: await store.groupIdsOf(row.user_id), via: "token" as const },
              tokenId: row.token_id,
              expiry: row.expiry_time,
            }
          : null;
      hit = { value, at: t };
      boundedSet(tokenCache, digest, hit);
      if (value && (row?.last_used_time ?? 0) < t - 60_000) void store.touchToken(value.tokenId, t).catch(() => {});
    }
    if (!hit.value) throw unauthenticated("The API token is not valid (unknown or revoked). Create a new one with `keel admin create-token` or POST /api/keel/v1/tokens.");
    if (hit.value.expiry !== null && hit.value.expiry <= t) throw unauthenticated("The API token has expired. Create a new one.");
    return hit.value.principal;
  }

  async function byPassword(header: string, username: string, password: string): Promise<Principal> {
    const key = sha256Hex(header);
    const t = now();
    const hit = basicCache.get(key);
    if (hit && t - hit.at <= BASIC_TTL_MS) return hit.value;
    const user = await store.userByName(username);
    // Run the KDF even for an unknown user, so timing does not tell which usernames exist.
    const ok = await verifyPassword(password, user?.password_hash ?? "scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    if (!user || !ok) throw unauthenticated("Invalid username or password.");
    const principal = await principalOf(user, "password");
    boundedSet(basicCache, key, { value: principal, at: t });
    return principal;
  }

  async function resourceId(ref: ResourceRef): Promise<{ kind: ResourceKind; id: number | undefined; label: string }> {
    switch (ref.kind) {
      case "experiment":
        return { kind: "experiment", id: /^\d{1,15}$/.test(ref.id) ? Number(ref.id) : undefined, label: `experiment ${ref.id}` };
      case "experiment_name": {
        const exp = await tracking.getExperimentByName(ref.name);
        return { kind: "experiment", id: Number(exp.experiment_id), label: `experiment ${exp.experiment_id}` };
      }
      case "run": {
        let exp = runExperiment.get(ref.id);
        if (exp === undefined) {
          exp = await tracking.experimentOfRun(ref.id);
          boundedSet(runExperiment, ref.id, exp, 100_000);
        }
        return { kind: "experiment", id: Number(exp), label: `experiment ${exp} (run ${ref.id})` };
      }
      case "registered_model":
        return { kind: "registered_model", id: await registry.modelId(ref.name), label: `registered model '${ref.name}'` };
    }
  }

  /** The user's own grant wins; else the best of their groups' grants; else the server default. */
  function decide(grants: GrantRow[], userId: number): Level {
    const own = grants.find((g) => g.principal_kind === "user" && g.principal_id === userId);
    if (own) return own.permission;
    return maxLevel(grants.filter((g) => g.principal_kind === "group").map((g) => g.permission)) ?? opts.defaultPermission;
  }

  async function levelOn(p: Principal, kind: ResourceKind, id: number | undefined): Promise<Level> {
    if (p.isAdmin) return "MANAGE";
    if (id === undefined) return opts.defaultPermission;
    const key = `${p.userId}:${kind}:${id}`;
    const t = now();
    const hit = levelCache.get(key);
    if (hit && t - hit.at <= LEVEL_TTL_MS) return hit.value;
    const level = decide(await store.grantsFor(kind, id, p.userId, p.groupIds), p.userId);
    boundedSet(levelCache, key, { value: level, at: t });
    return level;
  }

  async function userOrThrow(username: string): Promise<UserRow> {
    const user = await store.userByName(username);
    if (!user) throw notFound(`User '${username}' does not exist.`);
    return user;
  }

  /** Nobody may lock everyone out: the last admin cannot be deleted or demoted. */
  async function keepAnAdmin(user: UserRow): Promise<void> {
    if (user.is_admin !== 1) return;
    const admins = (await store.listUsers()).filter((u) => u.is_admin === 1);
    if (admins.length <= 1) throw invalidParam(`'${user.username}' is the last admin: make another user an admin first.`);
  }

  async function principalRef(spec: { user?: string; group?: string }): Promise<{ kind: "user" | "group"; id: number }> {
    if (spec.user !== undefined && spec.group !== undefined) throw invalidParam("Give either a user or a group, not both.");
    if (spec.user !== undefined) return { kind: "user", id: (await userOrThrow(spec.user)).user_id };
    if (spec.group !== undefined) {
      const g = await store.groupByName(spec.group);
      if (!g) throw notFound(`Group '${spec.group}' does not exist.`);
      return { kind: "group", id: g.group_id };
    }
    throw invalidParam("Name the user (username) or the group (group) the permission is for.");
  }

  async function existingResource(ref: ResourceRef): Promise<{ kind: ResourceKind; id: number; label: string }> {
    const r = await resourceId(ref);
    if (r.id === undefined) throw notFound(`No ${r.label} exists.`);
    if (r.kind === "experiment" && ref.kind === "experiment") await tracking.getExperiment(ref.id);
    return { ...r, id: r.id };
  }

  return {
    defaultPermission: opts.defaultPermission,

    /** Undefined when the request carries no credentials; throws 401 on bad ones. */
    async authenticate(authorization: string | undefined): Promise<Principal | undefined> {
      if (!authorization) return undefined;
      const space = authorization.indexOf(" ");
      const scheme = (space < 0 ? authorization : authorization.slice(0, space)).toLowerCase();
      const value = space < 0 ? "" : authorization.slice(space + 1).trim();
      if (scheme === "bearer") {
        if (!value) throw unauthenticated("The Authorization header has an empty Bearer token.");
        return byToken(value);
      }
      if (scheme === "basic") {
        const decoded = Buffer.from(value, "base64").toString("utf8");
        const colon = decoded.indexOf(":");
        if (colon < 0) throw unauthenticated("Basic credentials must be base64 of 'username:password'.");
        const password = decoded.slice(colon + 1);
        // Tools that only speak Basic can send a token as the password.
        if (password.startsWith(TOKEN_PREFIX)) return byToken(password);
        return byPassword(authorization, decoded.slice(0, colon), password);
      }
      throw unauthenticated(`Unsupported Authorization scheme '${scheme}': use 'Bearer <token>' or Basic credentials.`);
    },

    /** Throws 403 unless `p` holds at least `need` on the resource. */
    async require(p: Principal, need: Level, ref: ResourceRef): Promise<void> {
      if (p.isAdmin) return;
      const r = await resourceId(ref);
      const have = await levelOn(p, r.kind, r.id);
      if (!atLeast(have, need) || have === "NO_PERMISSIONS") {
        throw permissionDenied(`Permission denied: user '${p.username}' needs ${need} on ${r.label} and has ${have}.`);
      }
    },

    async canRead(p: Principal, ref: ResourceRef): Promise<boolean> {
      if (p.isAdmin) return true;
      const r = await resourceId(ref);
      const have = await levelOn(p, r.kind, r.id);
      return have !== "NO_PERMISSIONS" && atLeast(have, "READ");
    },

    /** What a search may show: every explicit grant overrides the default; the user's own row overrides groups. */
    async visibility(p: Principal, kind: VisibleKind): Promise<Visibility | undefined> {
      if (p.isAdmin) return undefined;
      const grants = await store.grantsOfPrincipal(kind, p.userId, p.groupIds);
      const byResource = new Map<number, GrantRow[]>();
      for (const g of grants) byResource.set(g.resource_id, [...(byResource.get(g.resource_id) ?? []), g]);
      const readable = (l: Level) => l !== "NO_PERMISSIONS" && atLeast(l, "READ");
      const decided = [...byResource].map(([id, gs]) => ({ id, ok: readable(decide(gs, p.userId)) }));
      return readable(opts.defaultPermission) ? { deny: decided.filter((d) => !d.ok).map((d) => d.id) } : { allow: decided.filter((d) => d.ok).map((d) => d.id) };
    },

    /** The creator of an experiment or model gets MANAGE on it, as in MLflow's auth app. */
    async grantCreator(p: Principal, ref: ResourceRef): Promise<void> {
      if (p.via === "none") return;
      const r = await resourceId(ref);
      if (r.id === undefined) return;
      await store.setGrant(r.kind, r.id, { kind: "user", id: p.userId }, "MANAGE");
      levelCache.clear();
    },

    // ---- users -------------------------------------------------------------------------------
    async createUser(username: string, password: string | undefined, isAdmin: boolean): Promise<UserRow> {
      checkUsername(username);
      const hash = password === undefined ? null : await hashPassword(checkPassword(password));
      const user = await store.createUser(username, hash, isAdmin, now());
      if (!user) throw new KeelError("RESOURCE_ALREADY_EXISTS", `User '${username}' already exists.`);
      return user;
    },
    getUser: userOrThrow,
    listUsers: () => store.listUsers(),
    countUsers: () => store.countUsers(),
    async setPassword(username: string, password: string): Promise<void> {
      const user = await userOrThrow(username);
      await store.updateUser(user.user_id, { password_hash: await hashPassword(checkPassword(password)) });
      forgetCaches();
    },
    async setAdmin(username: string, isAdmin: boolean): Promise<void> {
      const user = await userOrThrow(username);
      if (!isAdmin) await keepAnAdmin(user);
      await store.updateUser(user.user_id, { is_admin: isAdmin ? 1 : 0 });
      forgetCaches();
    },
    async deleteUser(username: string): Promise<void> {
      const user = await userOrThrow(username);
      await keepAnAdmin(user);
      await store.deleteUser(user.user_id);
      forgetCaches();
    },
    async userPermissions(username: string) {
      const user = await userOrThrow(username);
      return {
        experiments: await store.grantsOfPrincipal("experiment", user.user_id, []),
        models: await store.grantsOfPrincipal("registered_model", user.user_id, []),
      };
    },

    // ---- groups ------------------------------------------------------------------------------
    async createGroup(name: string): Promise<void> {
      checkUsername(name);
      if ((await store.createGroup(name, now())) === undefined) throw new KeelError("RESOURCE_ALREADY_EXISTS", `Group '${name}' already exists.`);
    },
    listGroups: () => store.listGroups(),
    async deleteGroup(name: string): Promise<void> {
      const g = await store.groupByName(name);
      if (!g) throw notFound(`Group '${name}' does not exist.`);
      await store.deleteGroup(g.group_id);
      forgetCaches();
    },
    async setMembership(group: string, username: string, member: boolean): Promise<void> {
      const g = await store.groupByName(group);
      if (!g) throw notFound(`Group '${group}' does not exist.`);
      await store.setMembership(g.group_id, (await userOrThrow(username)).user_id, member);
      forgetCaches();
    },

    // ---- tokens ------------------------------------------------------------------------------
    /** The secret is returned here once and never again. */
    async createToken(username: string, name: string, expiresInMs: number | undefined): Promise<{ token: string; row: TokenRow }> {
      const user = await userOrThrow(username);
      if (name.length < 1 || name.length > 200) throw invalidParam("A token's name must be 1 to 200 characters.");
      if (expiresInMs !== undefined && (!Number.isSafeInteger(expiresInMs) || expiresInMs <= 0)) throw invalidParam("expires_in must be a positive duration.");
      const token = newToken();
      const t = now();
      const row = await store.createToken({
        userId: user.user_id,
        name,
        digest: sha256Hex(token),
        prefix: tokenDisplayPrefix(token),
        now: t,
        expiry: expiresInMs === undefined ? null : t + expiresInMs,
      });
      return { token, row };
    },
    async tokensOf(username: string): Promise<TokenRow[]> {
      return store.tokensOf((await userOrThrow(username)).user_id);
    },
    /** Only the owner or an admin may revoke a token. */
    async revokeToken(p: Principal, tokenId: number): Promise<void> {
      const row = await store.tokenById(tokenId);
      if (!row || (!p.isAdmin && row.user_id !== p.userId)) throw notFound(`No token with id ${tokenId} exists among yours.`);
      await store.revokeToken(tokenId, now());
      forgetCaches();
    },

    // ---- grants ------------------------------------------------------------------------------
    async setPermission(ref: ResourceRef, who: { user?: string; group?: string }, permission: Level | null): Promise<boolean> {
      const r = await existingResource(ref);
      const changed = await store.setGrant(r.kind, r.id, await principalRef(who), permission);
      levelCache.clear();
      return changed;
    },

    async getPermission(ref: ResourceRef, username: string): Promise<{ permission: Level; source: "explicit" | "group" | "default" | "admin" }> {
      const r = await existingResource(ref);
      const user = await userOrThrow(username);
      if (user.is_admin === 1) return { permission: "MANAGE", source: "admin" };
      const grants = await store.grantsFor(r.kind, r.id, user.user_id, await store.groupIdsOf(user.user_id));
      const own = grants.some((g) => g.principal_kind === "user");
      return { permission: decide(grants, user.user_id), source: own ? "explicit" : grants.length ? "group" : "default" };
    },

    /** "Who can access this?": every user's effective level and where it comes from, plus the grants as stored. */
    async whoCanAccess(ref: ResourceRef) {
      const r = await existingResource(ref);
      const grants = await store.grantsOn(r.kind, r.id);
      const users = await store.listUsers();
      const groups = await store.listGroups();
      const groupName = new Map(groups.map((g) => [g.group_id, g.name]));
      const access = [];
      for (const u of users) {
        const groupIds = groups.filter((g) => g.members.includes(u.username)).map((g) => g.group_id);
        const mine = grants.filter((g) => (g.principal_kind === "user" && g.principal_id === u.user_id) || (g.principal_kind === "group" && groupIds.includes(g.principal_id)));
        const level: Level = u.is_admin === 1 ? "MANAGE" : decide(mine, u.user_id);
        const source = u.is_admin === 1 ? "admin" : mine.some((g) => g.principal_kind === "user") ? "explicit" : mine.length ? "group" : "default";
        access.push({ username: u.username, permission: level, source });
      }
      return {
        resource: { type: r.kind, id: String(r.id) },
        default_permission: opts.defaultPermission,
        grants: grants.map((g) => ({
          principal_type: g.principal_kind,
          principal: g.principal_kind === "user" ? users.find((u) => u.user_id === g.principal_id)?.username : groupName.get(g.principal_id),
          permission: g.permission,
        })),
        users: access,
      };
    },
  };
}

export type GovernanceService = ReturnType<typeof createGovernanceService>;

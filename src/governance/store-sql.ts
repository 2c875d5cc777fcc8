import type { Database } from "../db/database.js";
import { isUniqueViolation } from "../db/dialect.js";
import { writeTx } from "../db/write-tx.js";
import type { Level, ResourceKind } from "./levels.js";

export interface UserRow {
  user_id: number;
  username: string;
  password_hash: string | null;
  is_admin: number;
  creation_time: number;
}

export interface TokenRow {
  token_id: number;
  user_id: number;
  name: string;
  prefix: string;
  creation_time: number;
  expiry_time: number | null;
  revoked_time: number | null;
  last_used_time: number | null;
}

export interface GrantRow {
  resource_id: number;
  principal_kind: "user" | "group";
  principal_id: number;
  permission: Level;
}

const TABLE = { experiment: "experiment_permissions", registered_model: "model_permissions" } as const;
const ID_COLUMN = { experiment: "experiment_id", registered_model: "model_id" } as const;

/** Users, groups, tokens and grants: plain SQL over both dialects; the rules live in the service. */
export function createGovernanceStore(database: Database) {
  const db = database.db;
  const num = <T extends Record<string, unknown>>(r: T): T => {
    const out: Record<string, unknown> = { ...r };
    for (const k of ["user_id", "is_admin", "creation_time", "expiry_time", "revoked_time", "last_used_time", "token_id", "group_id"]) {
      if (out[k] !== null && out[k] !== undefined) out[k] = Number(out[k]);
    }
    return out as T;
  };

  return {
    async countUsers(): Promise<number> {
      const row = await db.selectFrom("users").select((eb) => eb.fn.countAll().as("n")).executeTakeFirstOrThrow();
      return Number(row.n);
    },

    /** Returns undefined when the name is taken. */
    async createUser(username: string, passwordHash: string | null, isAdmin: boolean, now: number): Promise<UserRow | undefined> {
      try {
        const row = await writeTx(database, (tx) =>
          tx
            .insertInto("users")
            .values({ username, password_hash: passwordHash, is_admin: isAdmin ? 1 : 0, creation_time: now })
            .returningAll()
            .executeTakeFirstOrThrow(),
        );
        return num(row) as UserRow;
      } catch (err) {
        if (isUniqueViolation(err)) return undefined;
        throw err;
      }
    },

    async userByName(username: string): Promise<UserRow | undefined> {
      const row = await db.selectFrom("users").selectAll().where("username", "=", username).executeTakeFirst();
      return row ? (num(row) as UserRow) : undefined;
    },

    async userById(id: number): Promise<UserRow | undefined> {
      const row = await db.selectFrom("users").selectAll().where("user_id", "=", id).executeTakeFirst();
      return row ? (num(row) as UserRow) : undefined;
    },

    async listUsers(): Promise<UserRow[]> {
      return (await db.selectFrom("users").selectAll().orderBy("username").execute()).map((r) => num(r) as UserRow);
    },

    async updateUser(id: number, set: { password_hash?: string; is_admin?: number }): Promise<void> {
      await writeTx(database, (tx) => tx.updateTable("users").set(set).where("user_id", "=", id).execute());
    },

    async deleteUser(id: number): Promise<void> {
      await writeTx(database, async (tx) => {
        await tx.deleteFrom("experiment_permissions").where("principal_kind", "=", "user").where("principal_id", "=", id).execute();
        await tx.deleteFrom("model_permissions").where("principal_kind", "=", "user").where("principal_id", "=", id).execute();
        await tx.deleteFrom("users").where("user_id", "=", id).execute();
      });
    },

    async groupIdsOf(userId: number): Promise<number[]> {
      const rows = await db.selectFrom("group_members").select("group_id").where("user_id", "=", userId).execute();
      return rows.map((r) => Number(r.group_id));
    },

    async createGroup(name: string, now: number): Promise<number | undefined> {
      try {
        const row = await writeTx(database, (tx) =>
          tx.insertInto("user_groups").values({ name, creation_time: now }).returning("group_id").executeTakeFirstOrThrow(),
        );
        return Number(row.group_id);
      } catch (err) {
        if (isUniqueViolation(err)) return undefined;
        throw err;
      }
    },

    async groupByName(name: string): Promise<{ group_id: number; name: string } | undefined> {
      const row = await db.selectFrom("user_groups").select(["group_id", "name"]).where("name", "=", name).executeTakeFirst();
      return row ? { group_id: Number(row.group_id), name: row.name } : undefined;
    },

    async listGroups(): Promise<{ group_id: number; name: string; members: string[] }[]> {
      const groups = await db.selectFrom("user_groups").select(["group_id", "name"]).orderBy("name").execute();
      const members = await db
        .selectFrom("group_members")
        .innerJoin("users", "users.user_id", "group_members.user_id")
        .select(["group_members.group_id", "users.username"])
        .orderBy("users.username")
        .execute();
      return groups.map((g) => ({
        group_id: Number(g.group_id),
        name: g.name,
        members: members.filter((m) => Number(m.group_id) === Number(g.group_id)).map((m) => m.username),
      }));
    },

    async deleteGroup(groupId: number): Promise<void> {
      await writeTx(database, async (tx) => {
        await tx.deleteFrom("experiment_permissions").where("principal_kind", "=", "group").where("principal_id", "=", groupId).execute();
        await tx.deleteFrom("model_permissions").where("principal_kind", "=", "group").where("principal_id", "=", groupId).execute();
        await tx.deleteFrom("user_groups").where("group_id", "=", groupId).execute();
      });
    },

    async setMembership(groupId: number, userId: number, member: boolean): Promise<void> {
      await writeTx(database, async (tx) => {
        if (member) {
          await tx.insertInto("group_members").values({ group_id: groupId, user_id: userId }).onConflict((oc) => oc.doNothing()).execute();
        } else {
          await tx.deleteFrom("group_members").where("group_id", "=", groupId).where("user_id", "=", userId).execute();
        }
      });
    },

    async createToken(t: { userId: number; name: string; digest: string; prefix: string; now: number; expiry: number | null }): Promise<TokenRow> {
      const row = await writeTx(database, (tx) =>
        tx
          .insertInto("api_tokens")
          .values({ user_id: t.userId, name: t.name, digest: t.digest, prefix: t.prefix, creation_time: t.now, expiry_time: t.expiry })
          .returning(["token_id", "user_id", "name", "prefix", "creation_time", "expiry_time", "revoked_time", "last_used_time"])
          .executeTakeFirstOrThrow(),
      );
      return num(row) as TokenRow;
    },

    async tokenByDigest(digest: string): Promise<(TokenRow & { username: string; is_admin: number }) | undefined> {
      const row = await db
        .selectFrom("api_tokens")
        .innerJoin("users", "users.user_id", "api_tokens.user_id")
        .select([
          "api_tokens.token_id",
          "api_tokens.user_id",
          "api_tokens.name",
          "api_tokens.prefix",
          "api_tokens.creation_time",
          "api_tokens.expiry_time",
          "api_tokens.revoked_time",
          "api_tokens.last_used_time",
          "users.username",
          "users.is_admin",
        ])
        .where("api_tokens.digest", "=", digest)
        .executeTakeFirst();
      return row ? (num(row) as TokenRow & { username: string; is_admin: number }) : undefined;
    },

    async tokensOf(userId: number): Promise<TokenRow[]> {
      const rows = await db
        .selectFrom("api_tokens")
        .select(["token_id", "user_id", "name", "prefix", "creation_time", "expiry_time", "revoked_time", "last_used_time"])
        .where("user_id", "=", userId)
        .orderBy("token_id")
        .execute();
      return rows.map((r) => num(r) as TokenRow);
    },

    async tokenById(id: number): Promise<TokenRow | undefined> {
      const row = await db
        .selectFrom("api_tokens")
        .select(["token_id", "user_id", "name", "prefix", "creation_time", "expiry_time", "revoked_time", "last_used_time"])
        .where("token_id", "=", id)
        .executeTakeFirst();
      return row ? (num(row) as TokenRow) : undefined;
    },

    async revokeToken(id: number, now: number): Promise<void> {
      await writeTx(database, (tx) => tx.updateTable("api_tokens").set({ revoked_time: now }).where("token_id", "=", id).where("revoked_time", "is", null).execute());
    },

    /** Best effort, outside any audited change: a token's last use is a hint, not a record. */
    async touchToken(id: number, now: number): Promise<void> {
      await db.updateTable("api_tokens").set({ last_used_time: now }).where("token_id", "=", id).execute();
    },

    /** The grants on one resource that apply to a user (their own row and their groups' rows). */
    async grantsFor(kind: ResourceKind, resourceId: number, userId: number, groupIds: number[]): Promise<GrantRow[]> {
      const rows = await db
        .selectFrom(TABLE[kind])
        .select(["principal_kind", "principal_id", "permission"])
        .where(ID_COLUMN[kind] as "principal_id", "=", resourceId)
        .where((eb) =>
          eb.or([
            eb.and([eb("principal_kind", "=", "user"), eb("principal_id", "=", userId)]),
            ...(groupIds.length ? [eb.and([eb("principal_kind", "=", "group"), eb("principal_id", "in", groupIds)])] : []),
          ]),
        )
        .execute();
      return rows.map((r) => ({ resource_id: resourceId, principal_kind: r.principal_kind as "user" | "group", principal_id: Number(r.principal_id), permission: r.permission as Level }));
    },

    /** Every grant a user holds directly or through groups (to filter searches). */
    async grantsOfPrincipal(kind: ResourceKind, userId: number, groupIds: number[]): Promise<GrantRow[]> {
      const idCol = ID_COLUMN[kind];
      const rows = await db
        .selectFrom(TABLE[kind])
        .selectAll()
        .where((eb) =>
          eb.or([
            eb.and([eb("principal_kind", "=", "user"), eb("principal_id", "=", userId)]),
            ...(groupIds.length ? [eb.and([eb("principal_kind", "=", "group"), eb("principal_id", "in", groupIds)])] : []),
          ]),
        )
        .execute();
      return rows.map((r) => ({
        resource_id: Number((r as Record<string, unknown>)[idCol]),
        principal_kind: r.principal_kind as "user" | "group",
        principal_id: Number(r.principal_id),
        permission: r.permission as Level,
      }));
    },

    /** Every grant on a resource (for "who can access this?"). */
    async grantsOn(kind: ResourceKind, resourceId: number): Promise<GrantRow[]> {
      const rows = await db
        .selectFrom(TABLE[kind])
        .select(["principal_kind", "principal_id", "permission"])
        .where(ID_COLUMN[kind] as "principal_id", "=", resourceId)
        .execute();
      return rows.map((r) => ({ resource_id: resourceId, principal_kind: r.principal_kind as "user" | "group", principal_id: Number(r.principal_id), permission: r.permission as Level }));
    },

    async setGrant(kind: ResourceKind, resourceId: number, principal: { kind: "user" | "group"; id: number }, permission: Level | null): Promise<boolean> {
      return writeTx(database, async (tx) => {
        const table = TABLE[kind];
        const idCol = ID_COLUMN[kind] as "principal_id";
        if (permission === null) {
          const res = await tx
            .deleteFrom(table)
            .where(idCol, "=", resourceId)
            .where("principal_kind", "=", principal.kind)
            .where("principal_id", "=", principal.id)
            .executeTakeFirst();
          return Number(res.numDeletedRows) > 0;
        }
        await tx
          .insertInto(table)
          .values({ [ID_COLUMN[kind]]: resourceId, principal_kind: principal.kind, principal_id: principal.id, permission } as never)
          .onConflict((oc) => oc.columns([ID_COLUMN[kind], "principal_kind", "principal_id"] as never).doUpdateSet({ permission }))
          .execute();
        return true;
      });
    },
  };
}

export type GovernanceStore = ReturnType<typeof createGovernanceStore>;

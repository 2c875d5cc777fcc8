import { randomBytes } from "node:crypto";
import { Command, Option } from "commander";
import { parseDuration } from "../core/duration.js";
import { type Direct, readStdin, withDirect } from "./direct.js";
import { dataOption, databaseUrlOption } from "./options.js";

// biome-ignore lint/suspicious/noExplicitAny: commander hands options over untyped
type Action = (d: Direct, o: any, ...args: string[]) => Promise<void>;

/** `keel admin …`: users, groups, tokens and grants, straight in the database (works before the server ever ran). */
export function adminCommand(): Command {
  const admin = new Command("admin").description("Manage users, groups, API tokens and permissions directly in the database (no server needed)");
  const sub = (name: string, description: string) => admin.command(name).description(description).addOption(dataOption()).addOption(databaseUrlOption());
  const run =
    (what: string, fn: Action) =>
    async (...args: unknown[]) => {
      const cmd = args.at(-1) as Command;
      const o = cmd.opts() as { data: string; databaseUrl?: string };
      const positional = args.slice(0, -2).map(String);
      try {
        await withDirect(o, async (d) => {
          const { audited, systemAudit } = await loadAudit();
          await audited(d.database, systemAudit(d.actor, `keel admin ${what}`, positional[0] ? `${what.includes("group") ? "group" : "user"}:${positional[0]}` : "", { args: positional.slice(1), options: redact(cmd.opts()) }), () =>
            fn(d, cmd.opts(), ...positional),
          );
        });
      } catch (err) {
        console.error(`keel admin ${what}: ${(err as Error).message}`);
        process.exit(1);
      }
    };

  sub("create-user", "Create a user; the password comes from stdin with --password-stdin, else one is generated and printed once")
    .argument("<username>")
    .option("--admin", "make the user an admin", false)
    .option("--password-stdin", "read the password from standard input", false)
    .option("--no-password", "token-only user (cannot sign in with a password)")
    .action(
      run("create-user", async (d, o, username) => {
        let password: string | undefined;
        let generated = false;
        if (o.passwordStdin) password = await readStdin();
        else if (o.password !== false) {
          password = randomBytes(18).toString("base64url");
          generated = true;
        }
        await d.governance.createUser(username, password, o.admin);
        console.log(`Created user '${username}'${o.admin ? " (admin)" : ""}.`);
        if (generated) console.log(`Password (shown once): ${password}`);
      }),
    );
  sub("set-password", "Set a user's password, read from standard input")
    .argument("<username>")
    .action(
      run("set-password", async (d, _o, username) => {
        await d.governance.setPassword(username, await readStdin());
        console.log(`Password of '${username}' changed.`);
      }),
    );
  sub("set-admin", "Make a user an admin (true) or not (false)")
    .argument("<username>")
    .argument("<true|false>")
    .action(
      run("set-admin", async (d, _o, username, flag) => {
        if (flag !== "true" && flag !== "false") throw new Error("the second argument must be true or false");
        await d.governance.setAdmin(username, flag === "true");
        console.log(`'${username}' is ${flag === "true" ? "now" : "no longer"} an admin.`);
      }),
    );
  sub("delete-user", "Delete a user with their tokens and grants")
    .argument("<username>")
    .action(
      run("delete-user", async (d, _o, username) => {
        await d.governance.deleteUser(username);
        console.log(`Deleted user '${username}'.`);
      }),
    );
  sub("list-users", "List users").action(async (...args: unknown[]) => {
    const o = (args.at(-1) as Command).opts() as { data: string; databaseUrl?: string };
    await withDirect(o, async (d) => {
      for (const u of await d.governance.listUsers()) console.log(`${u.username}${u.is_admin === 1 ? "  (admin)" : ""}`);
    });
  });
  sub("create-token", "Create an API token for a user; the secret is printed once (use it as MLFLOW_TRACKING_TOKEN)")
    .argument("<username>")
    .option("--name <name>", "what the token is for", "cli")
    .option("--expires-in <duration>", "e.g. 90d, 12h (default: never)")
    .action(
      run("create-token", async (d, o, username) => {
        const { token, row } = await d.governance.createToken(username, o.name, o.expiresIn ? parseDuration(o.expiresIn) : undefined);
        console.error(`Token ${row.token_id} for '${username}' (${o.name})${row.expiry_time ? `, expires ${new Date(row.expiry_time).toISOString()}` : ""}. Shown once:`);
        console.log(token);
      }),
    );
  sub("revoke-token", "Revoke an API token by id")
    .argument("<token-id>")
    .action(
      run("revoke-token", async (d, _o, id) => {
        const n = Number(id);
        if (!Number.isSafeInteger(n) || n < 1) throw new Error("the token id must be a positive integer");
        await d.governance.revokeToken({ userId: 0, username: d.actor, isAdmin: true, groupIds: [], via: "none" }, n);
        console.log(`Revoked token ${n}.`);
      }),
    );
  sub("create-group", "Create a group")
    .argument("<group>")
    .action(
      run("create-group", async (d, _o, group) => {
        await d.governance.createGroup(group);
        console.log(`Created group '${group}'.`);
      }),
    );
  sub("add-member", "Add a user to a group")
    .argument("<group>")
    .argument("<username>")
    .action(
      run("add-member group", async (d, _o, group, username) => {
        await d.governance.setMembership(group, username, true);
        console.log(`Added '${username}' to '${group}'.`);
      }),
    );
  sub("grant", "Grant a user or group a permission: keel admin grant experiment:12 EDIT --user alice")
    .argument("<resource>", "experiment:<id> or registered_model:<name>")
    .argument("<level>", "READ, EDIT, MANAGE or NO_PERMISSIONS")
    .addOption(new Option("--user <username>"))
    .addOption(new Option("--group <group>"))
    .action(
      run("grant", async (d, o, resource, level) => {
        const { resourceParam } = await import("../governance/access-rules.js");
        const { isLevel } = await import("../governance/levels.js");
        if (!isLevel(level)) throw new Error(`level must be READ, EDIT, MANAGE or NO_PERMISSIONS; got '${level}'`);
        await d.governance.setPermission(resourceParam(resource), { user: o.user, group: o.group }, level);
        console.log(`Granted ${level} on ${resource} to ${o.user ? `user '${o.user}'` : `group '${o.group}'`}.`);
      }),
    );
  return admin;
}

async function loadAudit() {
  const { audited } = await import("../governance/audit-chain.js");
  const { systemAudit } = await import("../governance/index.js");
  return { audited, systemAudit };
}

function redact(o: Record<string, unknown>): Record<string, unknown> {
  const { data: _d, databaseUrl: _u, ...rest } = o;
  return rest;
}



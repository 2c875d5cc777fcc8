#!/usr/bin/env node
// Runs a command with KEEL_TEST_DATABASE_URL pointing at a fresh Postgres database, dropped afterwards.
// PG_ADMIN_URL (default postgres://postgres@127.0.0.1:5432/postgres) names the server to use.
import { spawn } from "node:child_process";
import pg from "pg";

const adminUrl = process.env.PG_ADMIN_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const name = `keel_ci_${process.pid}_${Date.now().toString(36)}`;
const [cmd, ...args] = process.argv.slice(2);
if (!cmd) {
  console.error("usage: with-pg-db.mjs <command> [args...]");
  process.exit(2);
}

async function admin(sql) {
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

await admin(`create database ${name}`);
const url = new URL(adminUrl);
url.pathname = `/${name}`;
console.log(`with-pg-db: created database ${name}`);
const code = await new Promise((resolve) => {
  const child = spawn(cmd, args, { stdio: "inherit", env: { ...process.env, KEEL_TEST_DATABASE_URL: url.toString() }, shell: false });
  child.on("exit", (c, sig) => resolve(c ?? (sig ? 1 : 0)));
});
await admin(`drop database if exists ${name} with (force)`);
console.log(`with-pg-db: dropped database ${name}`);
process.exit(code);

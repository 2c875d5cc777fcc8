import type { TestApp } from "./app.js";

/** A user with a fresh API token, made through the service (as `keel admin` does). */
export async function userWithToken(t: TestApp, username: string, opts: { admin?: boolean; password?: string } = {}): Promise<string> {
  await t.governance.createUser(username, opts.password, opts.admin ?? false);
  return (await t.governance.createToken(username, "test", undefined)).token;
}

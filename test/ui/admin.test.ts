/**
 * Administration in a real browser against `keel server --auth`: an admin signs in, manages users
 * (create, reset a password, delete), their own API tokens (the secret shown once, then revoked) and
 * permissions on an experiment, a model and a deployment; the audit log lists exactly those actions,
 * filters them, and verifies the chain. Every change is checked through the API, not only on screen.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KeelApiError, KeelClient } from "../../src/sdk/index.js";
import { launchBrowser, screenshot, suitePage } from "../helpers/browser.js";
import { type CliProcess, requireBuiltCli } from "../helpers/cli.js";
import { servingFixture, startKeel } from "../helpers/ui-server.js";

const ADMIN_PASSWORD = "ui-admin-password-1";

let dataDir: string;
let server: CliProcess;
let url: string;
let admin: KeelClient;
let page: Page;
const ui = suitePage();
let expId: string;

async function status(c: KeelClient): Promise<number> {
  try {
    await c.whoami();
    return 200;
  } catch (err) {
    if (err instanceof KeelApiError) return err.status;
    throw err;
  }
}

async function signIn(p: Page, username: string, password: string): Promise<void> {
  await p.getByRole("heading", { name: "Sign in to Keel" }).waitFor();
  await p.getByLabel("Username", { exact: true }).fill(username);
  await p.getByLabel("Password", { exact: true }).fill(password);
  await p.getByRole("button", { name: "Sign in" }).click();
}

beforeAll(async () => {
  requireBuiltCli();
  dataDir = mkdtempSync(join(tmpdir(), "keel-ui-admin-"));
  ({ p: server, url } = await startKeel(["--data", dataDir, "--auth"], { KEEL_ADMIN_PASSWORD: ADMIN_PASSWORD }));
  admin = new KeelClient({ url, username: "admin", password: ADMIN_PASSWORD });
  expId = await admin.createExperiment("secret-exp");
  // A model with a deployment, so a deployment's access can be shown (it is its models').
  const run = await admin.createRun(expId, { runName: "m" });
  await admin.uploadArtifact(`${await admin.runArtifactRoot(run)}/model/model.onnx`, servingFixture("mlp_small").onnx);
  await admin.createRegisteredModel("perm-model");
  await admin.createModelVersion({ name: "perm-model", source: `runs:/${run.info.run_id}/model`, runId: run.info.run_id });
  await admin.createDeployment({ name: "perm-dep", variants: [{ model: "perm-model", version: 1 }] });
  ({ page } = await ui.open());
}, 120_000);


afterAll(async () => {
  await server?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe("administration", () => {
  it("signs the admin in and manages users: create, a refused name in the server's words, reset a password, delete", async () => {
    await page.goto(`${url}/admin`);
    await signIn(page, "admin", ADMIN_PASSWORD);
    await page.getByRole("heading", { name: "Administration", level: 1 }).waitFor();
    expect(await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Admin" }).getAttribute("aria-current")).toBe("page");
    const users = page.getByTestId("users-table");
    await users.locator('tr[data-user="admin"]').waitFor();

    const create = page.getByRole("form", { name: "Create user" });
    const refused = await admin.createUser({ username: "bad name!" }).then(
      () => "",
      (e: Error) => e.message,
    );
    expect(refused).not.toBe("");
    await create.getByLabel("New username").fill("bad name!");
    await create.getByRole("button", { name: "Create user" }).click();
    await expect.poll(() => create.getByRole("alert").textContent()).toContain(refused);

    await create.getByLabel("New username").fill("alice");
    await create.getByLabel("Password").fill("alice-password-1");
    await create.getByRole("button", { name: "Create user" }).click();
    await users.locator('tr[data-user="alice"]').waitFor();
    await create.getByLabel("New username").fill("bob");
    await create.getByRole("button", { name: "Create user" }).click();
    await users.locator('tr[data-user="bob"]').waitFor();
    expect((await admin.listUsers()).map((u) => u.username).sort()).toEqual(["admin", "alice", "bob"]);
    expect(await status(new KeelClient({ url, username: "alice", password: "alice-password-1" }))).toBe(200);

    const alice = users.locator('tr[data-user="alice"]');
    await alice.getByRole("button", { name: "Reset password of alice" }).click();
    await alice.getByLabel("New password for alice").fill("alice-password-2");
    await alice.getByRole("button", { name: "Save password" }).click();
    await alice.getByText("Password changed.").waitFor();
    expect(await status(new KeelClient({ url, username: "alice", password: "alice-password-1" }))).toBe(401);
    expect(await status(new KeelClient({ url, username: "alice", password: "alice-password-2" }))).toBe(200);

    const bob = users.locator('tr[data-user="bob"]');
    await bob.getByRole("button", { name: "Delete bob" }).click();
    await bob.getByRole("button", { name: "Confirm delete" }).click();
    await expect.poll(() => bob.count()).toBe(0);
    expect((await admin.listUsers()).map((u) => u.username).sort()).toEqual(["admin", "alice"]);
    // The admin cannot delete themselves: the button is not offered.
    expect(await users.locator('tr[data-user="admin"]').getByRole("button", { name: /^Delete/ }).count()).toBe(0);
    await screenshot(page, "admin");
  });

  it("creates an API token whose secret is shown once and works, then revokes it", async () => {
    await page.getByRole("tab", { name: "My API tokens" }).click();
    expect(new URL(page.url()).searchParams.get("tab")).toBe("tokens");
    const tokens = page.getByTestId("tokens-table");
    // The token this browser signed in with is listed, and marked.
    await tokens.getByText("(this browser's sign-in)").waitFor();
    const form = page.getByRole("form", { name: "Create token" });
    await form.getByLabel("Token name").fill("ci");
    await form.getByLabel("Expires in").selectOption("30d");
    await form.getByRole("button", { name: "Create token" }).click();
    const secret = (await page.getByTestId("token-secret").textContent()) ?? "";
    expect(secret.length).toBeGreaterThan(20);
    const withToken = new KeelClient({ url, token: secret });
    expect((await withToken.whoami()).username).toBe("admin");
    const row = tokens.locator('tr[data-token="ci"]');
    await row.waitFor();
    expect(secret.startsWith(((await row.locator("td").nth(1).textContent()) ?? "").replace("…", ""))).toBe(true);
    expect(await row.locator("td").nth(5).textContent()).toBe("active");
    await page.getByRole("button", { name: "Done" }).click();
    await expect.poll(() => page.getByTestId("token-secret").count()).toBe(0);

    await row.getByRole("button", { name: "Revoke ci" }).click();
    await row.getByRole("button", { name: "Revoke ci" }).click();
    await expect.poll(() => row.locator("td").nth(5).textContent()).toBe("revoked");
    expect(await status(withToken)).toBe(401);
  });

  it("grants and removes permissions on an experiment, and shows a deployment's access through its models", async () => {
    // Keyboard: the tabs move with the arrow keys.
    await page.getByRole("tab", { name: "My API tokens" }).focus();
    await page.keyboard.press("ArrowRight");
    expect(await page.getByRole("tab", { name: "Permissions" }).getAttribute("aria-selected")).toBe("true");
    const chooser = page.getByRole("form", { name: "Choose a resource" });
    await chooser.getByLabel("Kind").selectOption("experiment");
    await chooser.getByLabel("Resource").selectOption(expId);
    await chooser.getByRole("button", { name: "Show access" }).click();
    const card = page.locator(`[data-resource="experiment:${expId}"]`);
    await card.getByRole("table", { name: "Effective access" }).waitFor();
    expect(await card.locator('tr[data-user="alice"] td').allTextContents()).toEqual(["alice", "READ", "default"]);

    const grant = card.getByRole("form", { name: `Grant access to experiment:${expId}` });
    await grant.getByLabel("Username").fill("alice");
    await grant.getByLabel("Permission").selectOption("EDIT");
    await grant.getByRole("button", { name: "Grant", exact: true }).click();
    await expect.poll(() => card.locator('tr[data-user="alice"] td').allTextContents()).toEqual(["alice", "EDIT", "explicit"]);
    const access = await admin.whoCanAccess(`experiment:${expId}`);
    // The creator's MANAGE is a grant too.
    expect(access.grants).toEqual([
      { principal_type: "user", principal: "admin", permission: "MANAGE" },
      { principal_type: "user", principal: "alice", permission: "EDIT" },
    ]);

    await card.getByRole("button", { name: "Remove grant of alice" }).click();
    await expect.poll(() => card.locator('tr[data-user="alice"] td').allTextContents()).toEqual(["alice", "READ", "default"]);
    expect((await admin.whoCanAccess(`experiment:${expId}`)).grants.map((g) => g.principal)).toEqual(["admin"]);

    await chooser.getByLabel("Kind").selectOption("deployment");
    await chooser.getByLabel("Resource").selectOption("perm-dep");
    await chooser.getByRole("button", { name: "Show access" }).click();
    await page.getByText("Deployment perm-dep is guarded by the models it serves").waitFor();
    const modelCard = page.locator('[data-resource="registered_model:perm-model"]');
    await modelCard.getByRole("form", { name: "Grant access to registered_model:perm-model" }).getByLabel("Username").fill("alice");
    await modelCard.getByRole("button", { name: "Grant", exact: true }).click();
    await expect.poll(() => modelCard.locator('tr[data-user="alice"] td').allTextContents()).toEqual(["alice", "READ", "explicit"]);
  });

  it("shows the audit log of those actions, filters it by actor, action, object and time, and verifies the chain", async () => {
    await page.getByRole("link", { name: "Audit log" }).click();
    await page.getByRole("heading", { name: "Audit log", level: 1 }).waitFor();
    const table = page.getByTestId("audit-table");
    await table.locator("tbody tr").first().waitFor();
    const rows = async () =>
      table.locator("tbody tr").evaluateAll((trs) => trs.map((tr) => Array.from(tr.querySelectorAll("td"), (td) => td.textContent ?? "")).map(([, , actor, action, resource]) => ({ actor, action, resource })));
    const all = await rows();
    const expectRow = (action: string, resource: string) => expect(all, `${action} ${resource}`).toContainEqual({ actor: "admin", action, resource });
    expectRow("POST /api/keel/v1/users", "user:alice");
    expectRow("POST /api/keel/v1/users", "user:bob");
    expectRow("PATCH /api/keel/v1/users/:username", "");
    expectRow("DELETE /api/keel/v1/users/:username", "");
    expectRow("POST /api/keel/v1/tokens", "token:ci");
    expectRow("DELETE /api/keel/v1/tokens/:id", "");
    expectRow("PUT /api/keel/v1/permissions", `experiment:${expId}`);
    expectRow("DELETE /api/keel/v1/permissions", `experiment:${expId}`);
    expectRow("PUT /api/keel/v1/permissions", "registered_model:perm-model");
    // Exactly what the API lists newest first, in the same order.
    const api = (await admin.audit({ order: "desc", limit: 1000 })).records;
    expect(all.map((r) => `${r.action} ${r.resource}`)).toEqual(api.map((r) => `${r.action} ${r.resource}`));

    const filters = page.getByRole("form", { name: "Filter the audit log" });
    await filters.getByLabel("Action").fill("PUT /api/keel/v1/permissions");
    await filters.getByRole("button", { name: "Apply filters" }).click();
    await expect.poll(async () => (await rows()).map((r) => r.resource)).toEqual(["registered_model:perm-model", `experiment:${expId}`]);
    expect(new URL(page.url()).searchParams.get("action")).toBe("PUT /api/keel/v1/permissions");

    await filters.getByLabel("Action").fill("");
    await filters.getByLabel("Object").fill("user:*");
    await filters.getByLabel("Actor").fill("admin");
    await filters.getByRole("button", { name: "Apply filters" }).click();
    await expect.poll(async () => (await rows()).map((r) => r.resource)).toEqual(["user:bob", "user:alice"]);
    // A time range after everything: nothing.
    const later = new Date(Date.now() + 3_600_000);
    const local = new Date(later.getTime() - later.getTimezoneOffset() * 60_000).toISOString().slice(0, 19);
    await filters.getByLabel("From").fill(local);
    await filters.getByRole("button", { name: "Apply filters" }).click();
    await page.getByText("No audit records match.").waitFor();
    await filters.getByRole("button", { name: "Clear" }).click();
    await expect.poll(async () => (await rows()).length).toBe(api.length);

    await page.getByRole("button", { name: "Verify chain" }).click();
    const verified = await admin.verifyAudit();
    expect(verified.ok).toBe(true);
    await expect.poll(() => page.getByTestId("verify-result").textContent()).toBe(`Chain intact: ${verified.checked.toLocaleString("en-US")} records checked.`);
    await screenshot(page, "audit");
  });

  it("offers no administration to a user who is not an admin", async () => {
    const b = await launchBrowser();
    try {
      const p = await b.newPage();
      await p.goto(`${url}/admin`);
      await signIn(p, "alice", "alice-password-2");
      await p.getByText("Only admins can manage users and permissions. Signed in as alice.").waitFor();
      expect(await p.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Admin" }).count()).toBe(0);
      await p.goto(`${url}/admin/audit`);
      await p.getByRole("alert").waitFor();
      expect(await p.getByRole("alert").textContent()).toContain("Cannot read the audit log");
    } finally {
      await b.close();
    }
  });
});

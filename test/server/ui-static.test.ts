/**
 * The web UI's files at / (server/ui-static.ts): deep links get index.html, hashed assets are cached for a
 * year, nothing outside the UI folder is reachable, API paths keep their JSON 404s, and the UI is public
 * while the API behind it stays guarded (without a Basic challenge for the UI's own requests).
 */
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultUiDir } from "../../src/server/ui-static.js";
import { startTestApp, type TestApp } from "../helpers/app.js";
import { rawRequest } from "../helpers/raw-http.js";

const INLINE = "document.documentElement.dataset.theme = 'dark';";
const INDEX = `<!doctype html><title>Keel test UI</title><script>${INLINE}</script><div id=root></div><script type="module" src="/assets/index-abc123.js"></script>`;
const SCRIPT = `console.log(${JSON.stringify("x".repeat(4000))});`;
const SECRET = "top secret outside the UI folder";

const json = async (res: Response) => (await res.json()) as { error_code?: string; experiments?: unknown[] };

let base: string;
let uiDir: string;
let t: TestApp;
let authed: TestApp;

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), "keel-ui-"));
  uiDir = join(base, "dist");
  mkdirSync(join(uiDir, "assets"), { recursive: true });
  writeFileSync(join(uiDir, "index.html"), INDEX);
  writeFileSync(join(uiDir, "assets", "index-abc123.js"), SCRIPT);
  writeFileSync(join(uiDir, "favicon.svg"), "<svg xmlns='http://www.w3.org/2000/svg'/>");
  writeFileSync(join(base, "secret.txt"), SECRET);
  symlinkSync(join(base, "secret.txt"), join(uiDir, "link.txt"));
  t = await startTestApp({ uiDir });
  authed = await startTestApp({ uiDir, auth: { enabled: true } });
});

afterAll(async () => {
  await t?.close();
  await authed?.close();
  rmSync(base, { recursive: true, force: true });
});

describe("web UI static files", () => {
  it("answers / and deep links with index.html, never cached, with a content security policy", async () => {
    for (const path of ["/", "/experiments", "/experiments/1/runs/0123456789abcdef0123456789abcdef", "/compare?run=a&run=b", "/experiments/1.5"]) {
      const res = await fetch(`${t.url}${path}`);
      expect(res.status, path).toBe(200);
      expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(res.headers.get("cache-control")).toBe("no-cache");
      // Scripts from this origin, and the page's inline script by its hash only.
      const hash = createHash("sha256").update(INLINE).digest("base64");
      const scriptSrc = (res.headers.get("content-security-policy") ?? "").split(";").map((d) => d.trim()).find((d) => d.startsWith("script-src"));
      expect(scriptSrc).toBe(`script-src 'self' 'sha256-${hash}'`);
      expect(res.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
      expect(await res.text()).toBe(INDEX);
    }
  });

  it("serves hashed assets immutable for a year, gzipped when asked, with ETags", async () => {
    const plain = await rawRequest(t.url, "GET", "/assets/index-abc123.js");
    expect(plain.status).toBe(200);
    expect(plain.headers["content-type"]).toBe("text/javascript; charset=utf-8");
    expect(plain.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
    expect(plain.headers["x-content-type-options"]).toBe("nosniff");
    expect(plain.body.toString()).toBe(SCRIPT);

    const gz = await rawRequest(t.url, "GET", "/assets/index-abc123.js", undefined, { "accept-encoding": "gzip, br" });
    expect(gz.headers["content-encoding"]).toBe("gzip");
    expect(gz.headers.vary).toBe("accept-encoding");
    expect(gz.body.length).toBeLessThan(SCRIPT.length / 4);
    expect(gunzipSync(gz.body).toString()).toBe(SCRIPT);

    const etag = String(plain.headers.etag);
    const again = await rawRequest(t.url, "GET", "/assets/index-abc123.js", undefined, { "if-none-match": etag });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);

    const svg = await fetch(`${t.url}/favicon.svg`);
    expect(svg.headers.get("content-type")).toBe("image/svg+xml");
    expect(svg.headers.get("cache-control")).toBe("no-cache");
  });

  it("answers a missing asset with a 404, not the app", async () => {
    for (const path of ["/assets/index-gone.js", "/styles.css", "/missing.png"]) {
      const res = await fetch(`${t.url}${path}`);
      expect(res.status, path).toBe(404);
      expect((await json(res)).error_code).toBe("ENDPOINT_NOT_FOUND");
    }
  });

  it("reaches nothing outside the UI folder (dot segments, encoded slashes, symlinks)", async () => {
    for (const path of [
      "/../secret.txt",
      "/assets/../../secret.txt",
      "/%2e%2e/secret.txt",
      "/assets/..%2f..%2fsecret.txt",
      "/..%5csecret.txt",
      "/link.txt",
      "/%00index.html",
      "/%E0%A4%A",
    ]) {
      const res = await rawRequest(t.url, "GET", path);
      expect(res.body.toString(), path).not.toContain(SECRET);
      expect([200, 400, 404], path).toContain(res.status);
      if (res.status === 200) expect(res.body.toString(), path).toBe(INDEX);
    }
    const link = await rawRequest(t.url, "GET", "/link.txt");
    expect(link.status).toBe(404);
  });

  it("keeps API paths out of the UI: unknown ones are still JSON 404s, known ones unchanged", async () => {
    for (const path of [
      "/api/2.0/mlflow/no-such-route",
      "/ajax-api/2.0/mlflow/nope",
      "/api/keel/v1/nope",
      "/v2/nope",
      "/metrics/x",
      "/docs/nope/nope",
      "//api/2.0/mlflow/runs/get?run_id=0",
      "/API/2.0/MLFLOW/runs/get",
    ]) {
      const res = await rawRequest(t.url, "GET", path).then((r) => new Response(r.body, { status: r.status, headers: r.headers as Record<string, string> }));
      expect(res.status, path).toBe(404);
      expect(res.headers.get("content-type"), path).toContain("application/json");
      expect((await json(res)).error_code, path).toBe("ENDPOINT_NOT_FOUND");
    }
    // Percent-encoded, the router itself decodes it to the real route (which wants a run_id).
    const encoded = await rawRequest(t.url, "GET", "/%61pi/2.0/mlflow/runs/get");
    expect(encoded.status).toBe(400);
    expect(encoded.headers["content-type"]).toContain("application/json");
    expect(await (await fetch(`${t.url}/health`)).text()).toBe("OK");
    const search = await fetch(`${t.url}/api/2.0/mlflow/experiments/search?max_results=10`);
    expect(search.status).toBe(200);
    expect((await json(search)).experiments).toBeDefined();
    // A GET on a POST-only API route is a 404 as before, not the app.
    expect((await fetch(`${t.url}/api/2.0/mlflow/runs/create`)).status).toBe(404);
  });

  it("leaves the UI's routes out of the OpenAPI document", async () => {
    const paths = Object.keys(((await json(await fetch(`${t.url}/docs/json`))) as { paths: Record<string, unknown> }).paths);
    expect(paths).toContain("/api/keel/v1/runs/compare");
    expect(paths.filter((p) => p === "/" || p.startsWith("/{") || p === "/*")).toEqual([]);
  });

  it("serves the UI without credentials when auth is on; the API stays guarded", async () => {
    const page = await fetch(`${authed.url}/experiments/1`);
    expect(page.status).toBe(200);
    expect(await page.text()).toBe(INDEX);
    expect((await fetch(`${authed.url}/assets/index-abc123.js`)).status).toBe(200);

    const api = await fetch(`${authed.url}/api/2.0/mlflow/experiments/search`);
    expect(api.status).toBe(401);
    expect(api.headers.get("www-authenticate")).toContain("Basic");
    // The UI's own requests say so, and get no Basic challenge (a browser would pop its login dialog over the app's).
    const fromUi = await fetch(`${authed.url}/api/2.0/mlflow/experiments/search`, { headers: { "x-requested-with": "XMLHttpRequest" } });
    expect(fromUi.status).toBe(401);
    expect(fromUi.headers.get("www-authenticate")).toBeNull();
    expect((await json(fromUi)).error_code).toBe("UNAUTHENTICATED");
    // Unknown API paths answer 404 to everyone, signed in or not.
    expect((await fetch(`${authed.url}/api/2.0/mlflow/nope`)).status).toBe(404);
  });

  it("says how to build the UI when it has not been built", async () => {
    const bare = await startTestApp({ uiDir: join(base, "not-built") });
    try {
      for (const path of ["/", "/experiments/1"]) {
        const res = await fetch(`${bare.url}${path}`);
        expect(res.status).toBe(200);
        expect(await res.text()).toContain("npm run build:ui");
      }
      expect((await fetch(`${bare.url}/api/2.0/mlflow/nope`)).status).toBe(404);
    } finally {
      await bare.close();
    }
  });

  it("finds ui/dist of the package from the source tree and from the bundle", () => {
    const root = join(import.meta.dirname, "..", "..");
    expect(defaultUiDir(new URL("../../src/server/ui-static.ts", import.meta.url).href)).toBe(join(root, "ui", "dist"));
    expect(defaultUiDir(new URL("../../dist/keel.mjs", import.meta.url).href)).toBe(join(root, "ui", "dist"));
  });
});

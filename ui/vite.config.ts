import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

/**
 * The web UI: `npm run build:ui` writes ui/dist (served by `keel server` at /); `npm run dev:ui` serves the
 * sources with hot reload and forwards API calls to a `keel server` at KEEL_SERVER_URL (default :5000).
 */
const server = process.env.KEEL_SERVER_URL ?? "http://127.0.0.1:5000";
const api = ["/api", "/ajax-api", "/v2", "/health", "/version", "/metrics", "/docs", "/get-artifact"];

export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  base: "/",
  // The UI reaches the server only through the SDK the CLI uses.
  resolve: { alias: { "@keel/sdk": fileURLToPath(new URL("../src/sdk/index.ts", import.meta.url)) } },
  oxc: { jsx: { runtime: "automatic" } },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    sourcemap: true,
    chunkSizeWarningLimit: 400,
    rolldownOptions: {
      // React Query marks its modules "use client" (for server components); meaningless in a browser bundle.
      onwarn(warning, warn) {
        if (warning.code !== "MODULE_LEVEL_DIRECTIVE") warn(warning);
      },
    },
  },
  server: { proxy: Object.fromEntries(api.map((p) => [p, { target: server, changeOrigin: false }])) },
});

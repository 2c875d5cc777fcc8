import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  // As ui/vite.config.ts resolves it: the UI reaches the server only through the SDK.
  resolve: { alias: { "@keel/sdk": fileURLToPath(new URL("./src/sdk/index.ts", import.meta.url)) } },
  test: {
    // The UI's pure logic (filter autocomplete, URL state, smoothing) is tested beside it.
    include: ["test/**/*.test.ts", "ui/src/**/*.test.ts"],
    // Browser tests need Chromium and a built UI: `npm run test:ui` (vitest.ui.config.ts).
    exclude: ["test/ui/**", "**/node_modules/**"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Two-core CI machines: keep parallelism modest so timing-sensitive e2e tests aren't starved.
    maxWorkers: 2,
  },
});

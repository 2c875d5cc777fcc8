import { defineConfig } from "vitest/config";

/**
 * Browser tests (`npm run test:ui`): a real `keel server` (the built CLI and UI: `npm run build` first) driven
 * by headless Chromium through playwright-core. Kept out of `npm test`: they need /usr/bin/chromium.
 */
export default defineConfig({
  test: {
    include: ["test/ui/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: "forks",
    // One browser at a time: two-core machines.
    maxWorkers: 1,
    fileParallelism: false,
  },
});

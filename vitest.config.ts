import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Two-core CI machines: keep parallelism modest so timing-sensitive e2e tests aren't starved.
    maxWorkers: 2,
  },
});

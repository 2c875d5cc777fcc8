#!/usr/bin/env node
// Thin launcher: the CLI is bundled to dist/keel.mjs by `npm install` (prepare → build).
import("../dist/keel.mjs").catch((err) => {
  if (err && err.code === "ERR_MODULE_NOT_FOUND" && String(err.message).includes("keel.mjs")) {
    console.error("keel: dist/ is missing. Run `npm install` (or `npm run build`) first.");
    process.exit(1);
  }
  throw err;
});

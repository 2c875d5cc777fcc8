#!/usr/bin/env node
// Thin launcher: the CLI is compiled to dist/ by `npm install` (prepare → build).
import("../dist/cli/index.js").catch((err) => {
  if (err && err.code === "ERR_MODULE_NOT_FOUND" && String(err.message).includes("dist/cli")) {
    console.error("keel: dist/ is missing. Run `npm install` (or `npm run build`) first.");
    process.exit(1);
  }
  throw err;
});

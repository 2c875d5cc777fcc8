// Bundles the CLI and server into one ES module (dist/keel.mjs). Node 20 loads one file several
// hundred milliseconds faster than the ~600 modules of dist/ and node_modules it replaces (kysely alone
// is hundreds of files), which is most of `keel server`'s time to first /health.
// Native addons and packages that read their own files at run time stay external.
import { build } from "esbuild";

await build({
  entryPoints: ["src/cli/index.ts"],
  outfile: "dist/keel.mjs",
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  // The AWS SDK is loaded only for s3:// artifacts: keep its 1.5 MB out of every start.
  external: ["better-sqlite3", "pg-native", "@fastify/swagger-ui", "@aws-sdk/*", "onnxruntime-node"],
  // Bundled CommonJS dependencies call require(); give the ES module one.
  banner: { js: "import { createRequire as __keelRequire } from 'node:module'; const require = __keelRequire(import.meta.url);" },
  logLevel: "warning",
  legalComments: "none",
});

// Worker threads (the prediction log's SQLite writer, a model's session) load plain .mjs files next to the
// module that starts them: next to dist/keel.mjs for the bundle, and next to tsc's output in dist/<domain>/.
import { copyFileSync, mkdirSync } from "node:fs";
const workerFiles = { deployments: ["prediction-sink-worker.mjs", "prediction-json.mjs"], serving: ["ort-worker.mjs"] };
for (const [domain, files] of Object.entries(workerFiles)) {
  for (const dir of ["dist", `dist/${domain}`]) {
    mkdirSync(dir, { recursive: true });
    for (const f of files) copyFileSync(`src/${domain}/${f}`, `${dir}/${f}`);
  }
}

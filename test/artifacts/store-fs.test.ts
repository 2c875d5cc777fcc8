import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createFsArtifactStore } from "../../src/artifacts/store-fs.js";
import { describeArtifactStore } from "./store-conformance.js";

describeArtifactStore("filesystem", async () => {
  const dir = mkdtempSync(join(tmpdir(), "keel-fs-store-"));
  const store = await createFsArtifactStore({ root: join(dir, "artifacts"), uploadsDir: join(dir, "uploads") });
  return { store, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
});

import { proxiedArtifactPath } from "./safe-path.js";
import type { ArtifactStore } from "./store.js";

/**
 * Deletes the artifacts of permanently removed runs and experiments. Only URIs this server stores
 * (mlflow-artifacts:/…) are touched, each checked like any user path: a stored URI is still data
 * (an experiment's artifact_location was user input), never a licence to delete anywhere.
 */
export async function deleteArtifactsOf(store: ArtifactStore, uris: string[], skipped: (uri: string, why: string) => void): Promise<number> {
  let files = 0;
  for (const uri of uris) {
    let path: string | undefined;
    try {
      path = proxiedArtifactPath(uri, "artifact_uri");
    } catch (e) {
      skipped(uri, (e as Error).message);
      continue;
    }
    if (!path) {
      skipped(uri, path === undefined ? "not stored by this server" : "it names the whole artifact root");
      continue;
    }
    // A run's URI is <exp>/<run>/artifacts: remove the run's folder, not only its artifacts subfolder.
    const runFolder = /^(\d+\/[0-9a-f]{32})\/artifacts$/.exec(path);
    files += await store.delete(runFolder ? runFolder[1] : path);
  }
  return files;
}

import type { TrackingService } from "../tracking/service.js";
import { type ArtifactService, createArtifactService } from "./service.js";
import type { ArtifactStore } from "./store.js";

export type { ArtifactService } from "./service.js";
export type { ArtifactStore } from "./store.js";
export { createFsArtifactStore } from "./store-fs.js";

export function createArtifacts(store: ArtifactStore, tracking: TrackingService): ArtifactService {
  return createArtifactService({ store, tracking });
}

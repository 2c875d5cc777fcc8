import type { Database } from "../db/database.js";
import type { TrackingService } from "../tracking/index.js";
import { createEventFeed } from "./events.js";
import type { ModelFiles } from "./model-signature.js";
import { createRegistryService, type RegistryService } from "./service.js";
import { createSqlSignatureStore } from "./signature-store.js";
import { createSqlRegistryStore } from "./store-sql.js";

export type { RegistryService } from "./service.js";

/**
 * Builds the registry domain on a database; it reads runs through the tracking service, never its store,
 * and model files (for signatures) through the artifact service.
 */
export function createRegistry(
  database: Database,
  tracking: TrackingService,
  now: () => number = Date.now,
  files?: ModelFiles,
  opts: { eventPollMs?: number } = {},
): RegistryService {
  const store = createSqlRegistryStore(database);
  const feed = createEventFeed({ read: (after, limit) => store.events(after, limit), lastSeq: () => store.lastEventSeq(), pollMs: opts.eventPollMs });
  return createRegistryService({ store, tracking, feed, signatures: createSqlSignatureStore(database), files, now });
}

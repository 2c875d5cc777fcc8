import type { Database } from "../db/database.js";
import { createTrackingService, type TrackingService } from "./service.js";
import { createSqlTrackingStore } from "./store-sql.js";

export type { TrackingService } from "./service.js";

/** Builds the tracking domain on a database; the rest of the app never constructs its store. */
export function createTracking(database: Database, now: () => number = Date.now): TrackingService {
  return createTrackingService({ store: createSqlTrackingStore(database), now });
}

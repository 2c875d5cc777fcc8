import { randomBytes } from "node:crypto";

/** MLflow run ids: 32 lowercase hex characters (a uuid4 without dashes). */
export function newRunId(): string {
  return randomBytes(16).toString("hex");
}

export const RUN_ID_RE = /^[0-9a-f]{32}$/;

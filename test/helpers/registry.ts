import { expect } from "vitest";
import type { client } from "./app.js";

type Client = ReturnType<typeof client>;

/** A run to register models from: its id and its artifact root (`mlflow-artifacts:/<exp>/<run>/artifacts`). */
export async function newRun(c: Client, experimentId = "0"): Promise<{ runId: string; artifactUri: string }> {
  const r = await c.post("runs/create", { experiment_id: experimentId });
  expect(r.status).toBe(200);
  return { runId: r.body.run.info.run_id, artifactUri: r.body.run.info.artifact_uri };
}

export async function newModel(c: Client, name: string, extra: Record<string, unknown> = {}): Promise<void> {
  const r = await c.post("registered-models/create", { name, ...extra });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
}

/** Registers the run's `model` directory as a new version of `name`; returns the version number. */
export async function newVersion(c: Client, name: string, run: { runId: string; artifactUri: string }, extra: Record<string, unknown> = {}): Promise<string> {
  const r = await c.post("model-versions/create", { name, source: `${run.artifactUri}/model`, run_id: run.runId, ...extra });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body.model_version.version;
}

/** An MLflow error answer: status and error_code, with a message that says something. */
export function expectError(r: { status: number; body: { error_code?: string; message?: string } }, status: number, code: string, message?: RegExp): void {
  expect({ status: r.status, code: r.body.error_code }, JSON.stringify(r.body)).toEqual({ status, code });
  expect(typeof r.body.message).toBe("string");
  if (message) expect(r.body.message).toMatch(message);
}

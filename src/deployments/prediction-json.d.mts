export function predictionJson(value: unknown): string;
export function predictionValues(r: {
  time: number;
  requestId: string;
  deployment: string;
  variant: string;
  modelVersion: string;
  latencyMs: number;
  shadowOf?: string;
  error?: string;
  inputs: unknown;
  outputs: unknown;
}): [number, string, string, string, string, number, string | null, string | null, string, string];
export const INSERT_PREDICTION: string;

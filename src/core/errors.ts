/**
 * Errors are values with an MLflow error code; the HTTP status is derived from the code in one place
 * (server/error-handler.ts) so every protocol answers the same way.
 */
export type ErrorCode =
  | "INVALID_PARAMETER_VALUE"
  | "RESOURCE_DOES_NOT_EXIST"
  | "RESOURCE_ALREADY_EXISTS"
  | "BAD_REQUEST"
  | "PERMISSION_DENIED"
  | "UNAUTHENTICATED"
  | "INVALID_STATE"
  | "REQUEST_LIMIT_EXCEEDED"
  | "TEMPORARILY_UNAVAILABLE"
  | "ENDPOINT_NOT_FOUND"
  | "INTERNAL_ERROR";

const STATUS: Record<ErrorCode, number> = {
  INVALID_PARAMETER_VALUE: 400,
  BAD_REQUEST: 400,
  INVALID_STATE: 400,
  RESOURCE_ALREADY_EXISTS: 400,
  RESOURCE_DOES_NOT_EXIST: 404,
  ENDPOINT_NOT_FOUND: 404,
  PERMISSION_DENIED: 403,
  UNAUTHENTICATED: 401,
  REQUEST_LIMIT_EXCEEDED: 429,
  TEMPORARILY_UNAVAILABLE: 503,
  INTERNAL_ERROR: 500,
};

export class KeelError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = "KeelError";
    this.code = code;
    this.status = STATUS[code];
  }
}

export const invalidParam = (message: string): KeelError => new KeelError("INVALID_PARAMETER_VALUE", message);
export const notFound = (message: string): KeelError => new KeelError("RESOURCE_DOES_NOT_EXIST", message);
export const alreadyExists = (message: string): KeelError => new KeelError("RESOURCE_ALREADY_EXISTS", message);
export const invalidState = (message: string): KeelError => new KeelError("INVALID_STATE", message);

export function isKeelError(err: unknown): err is KeelError {
  return err instanceof KeelError;
}

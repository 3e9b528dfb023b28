// Errors the domain raises on purpose. The HTTP edge renders them in the SPEC's error shape; the worker
// records their code on the action that failed.

export type ErrorCode =
  | "invalid_request"
  | "invalid_json"
  | "filter_too_costly"
  | "unauthorized"
  | "insufficient_scope"
  | "not_found"
  | "conflict"
  | "payload_too_large"
  | "record_too_large"
  | "unsupported_media_type"
  | "idempotency_key_reused"
  | "service_unavailable"
  | "internal_error";

const STATUS: Record<ErrorCode, number> = {
  invalid_request: 400,
  invalid_json: 400,
  filter_too_costly: 400,
  unauthorized: 401,
  insufficient_scope: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  record_too_large: 413,
  unsupported_media_type: 415,
  idempotency_key_reused: 422,
  service_unavailable: 503,
  internal_error: 500,
};

export class AppError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = "AppError";
    this.status = STATUS[code];
  }
}

export const notFound = (what: string, id: string) => new AppError("not_found", `${what} ${id} does not exist`);

export const invalid = (message: string, details?: unknown) => new AppError("invalid_request", message, details);

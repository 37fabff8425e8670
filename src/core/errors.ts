// Typed errors. The CLI maps them to exit codes (src/cli.ts) and REST maps RequestError to HTTP statuses
// (src/core/serving/rest), each in one place.

/** Base class: every error tfsvc raises on purpose. `exitCode` is what the CLI exits with. */
export class TfsvcError extends Error {
  readonly exitCode: number = 1;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The user asked for something impossible (bad flag, missing path, unknown signature). Exit code 2. */
export class UsageError extends TfsvcError {
  override readonly exitCode = 2;
}

/** A model on disk is broken or unsupported. `file` names the file at fault when one is known. Exit code 1. */
export class ModelError extends TfsvcError {
  override readonly exitCode = 1;
  constructor(message: string, readonly file?: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * Object storage failed (listing, download, upload): the message names the bucket and key, never credentials.
 * `httpStatus` is the store's answer when there was one (none when it could not be reached). Exit code 1.
 */
export class StorageError extends TfsvcError {
  override readonly exitCode = 1;
  constructor(message: string, readonly httpStatus?: number, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * TF Serving's canonical error codes (tensorflow/core/protobuf/error_codes.proto) with the HTTP status TF Serving's
 * REST handler maps each to.
 */
export const ErrorCode = {
  CANCELLED: 499,
  UNKNOWN: 500,
  INVALID_ARGUMENT: 400,
  DEADLINE_EXCEEDED: 504,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  PERMISSION_DENIED: 403,
  RESOURCE_EXHAUSTED: 429,
  FAILED_PRECONDITION: 400,
  ABORTED: 409,
  OUT_OF_RANGE: 400,
  UNIMPLEMENTED: 501,
  INTERNAL: 500,
  UNAVAILABLE: 503,
  DATA_LOSS: 500,
  UNAUTHENTICATED: 401,
} as const;
export type ErrorCodeName = keyof typeof ErrorCode;

/** A request failed with a TF Serving status code; REST answers `{"error": message}` with `httpStatus`. */
export class RequestError extends TfsvcError {
  readonly httpStatus: number;
  constructor(readonly code: ErrorCodeName, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.httpStatus = ErrorCode[code];
  }
}

/**
 * Errors of the mock worker. Every error has a stable UPPER_SNAKE `code`
 * (the envelope's `error.code`), an HTTP status, optional `details` and `cause`.
 */

export type MockWorkerErrorCode =
  | 'BAD_REQUEST'
  | 'PICKLE_REFUSED'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN_ORIGIN'
  | 'FORBIDDEN_HOST'
  | 'NOT_FOUND'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'IDEMPOTENCY_CONFLICT'
  | 'QUEUE_FULL'
  | 'SHUTTING_DOWN'
  | 'JOB_FAILED'
  | 'INJECTED_FAILURE'
  | 'CANCELLED'
  | 'COMFYUI_UNAVAILABLE'
  | 'COMFYUI_VALIDATION'
  | 'COMFYUI_EXECUTION'
  | 'COMFYUI_PROTOCOL'
  | 'INVALID_OPTIONS'
  | 'INVALID_WORKFLOW'
  | 'INSECURE_HOST'
  | 'WEBHOOK_NOT_CONFIGURED'
  | 'WEBHOOK_REFUSED'
  | 'INTERNAL'
  | 'REF_REFUSED'
  | 'REF_FETCH_FAILED'
  | 'REF_TOO_LARGE'
  | 'RANGE_NOT_SATISFIABLE'

const HTTP_STATUS: Record<MockWorkerErrorCode, number> = {
  BAD_REQUEST: 400,
  PICKLE_REFUSED: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN_ORIGIN: 403,
  FORBIDDEN_HOST: 403,
  NOT_FOUND: 404,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  IDEMPOTENCY_CONFLICT: 409,
  QUEUE_FULL: 503,
  SHUTTING_DOWN: 503,
  JOB_FAILED: 500,
  INJECTED_FAILURE: 500,
  CANCELLED: 200,
  COMFYUI_UNAVAILABLE: 502,
  COMFYUI_VALIDATION: 400,
  COMFYUI_EXECUTION: 500,
  COMFYUI_PROTOCOL: 502,
  INVALID_OPTIONS: 500,
  INVALID_WORKFLOW: 500,
  INSECURE_HOST: 500,
  WEBHOOK_NOT_CONFIGURED: 400,
  WEBHOOK_REFUSED: 400,
  INTERNAL: 500,
  REF_REFUSED: 400,
  REF_FETCH_FAILED: 502,
  REF_TOO_LARGE: 413,
  RANGE_NOT_SATISFIABLE: 416,
}

export interface MockWorkerErrorOptions {
  details?: unknown
  cause?: unknown
  statusCode?: number
}

export class MockWorkerError extends Error {
  override readonly name = 'MockWorkerError'
  readonly code: MockWorkerErrorCode
  readonly statusCode: number
  readonly details: unknown

  constructor(code: MockWorkerErrorCode, message: string, options: MockWorkerErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.statusCode = options.statusCode ?? HTTP_STATUS[code]
    this.details = options.details
  }
}

export function isMockWorkerError(value: unknown): value is MockWorkerError {
  return value instanceof MockWorkerError
}

/** The HTTP status a given error code maps to. */
export function httpStatusForCode(code: string): number {
  return (HTTP_STATUS as Record<string, number>)[code] ?? 500
}

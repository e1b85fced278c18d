import type { JobEnvelope } from '@comfy-remote/protocol'

/**
 * Stable error codes of RemoteJobError.
 * - FAILED: the job ended `failed` (the envelope's error says why).
 * - CANCELLED: the job ended `cancelled`, or the caller aborted it (a DELETE was sent).
 * - TIMEOUT: the overall `timeout` elapsed (a DELETE was sent for the job).
 * - UNAUTHORIZED: HTTP 401/403; the token is missing or wrong.
 * - NOT_FOUND: HTTP 404; wrong URL or unknown job id.
 * - HTTP_ERROR: any other HTTP status >= 400, or retryable statuses after the last retry.
 * - MALFORMED_RESPONSE: a body that is not a JSON object (HTML error page, truncated JSON),
 *   or a pending job without a poll URL.
 * - NETWORK: the connection failed (refused, reset, DNS) after the last retry.
 * - BAD_OPTIONS: invalid client options or run arguments.
 */
export type RemoteErrorCode =
  | 'FAILED'
  | 'CANCELLED'
  | 'TIMEOUT'
  | 'UNAUTHORIZED'
  | 'NOT_FOUND'
  | 'HTTP_ERROR'
  | 'MALFORMED_RESPONSE'
  | 'NETWORK'
  | 'BAD_OPTIONS'

export interface RemoteJobErrorOptions {
  cause?: unknown
  /** HTTP status of the response that caused the error, when there was one. */
  status?: number
  /** The last envelope seen for the job. */
  envelope?: JobEnvelope
  /** The URL of the request that failed. */
  url?: string
  /** The job id, when the job was accepted. */
  jobId?: string
}

export class RemoteJobError extends Error {
  override readonly name = 'RemoteJobError'
  readonly code: RemoteErrorCode
  readonly status: number | undefined
  readonly envelope: JobEnvelope | undefined
  readonly url: string | undefined
  readonly jobId: string | undefined

  constructor(code: RemoteErrorCode, message: string, options: RemoteJobErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.status = options.status
    this.envelope = options.envelope
    this.url = options.url
    this.jobId = options.jobId ?? options.envelope?.jobId
  }
}

export function isRemoteJobError(value: unknown): value is RemoteJobError {
  return (
    value instanceof RemoteJobError ||
    (value instanceof Error && value.name === 'RemoteJobError' && 'code' in value)
  )
}

/** Errors of the `comfy-remote` CLI itself (bad arguments, unreadable input files). */
export type CliErrorCode = 'USAGE' | 'INPUT' | 'OUTPUT' | 'OUTPUT_LIMIT'

export class CliError extends Error {
  override readonly name = 'CliError'
  readonly code: CliErrorCode
  constructor(code: CliErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
  }
}

export function isCliError(value: unknown): value is CliError {
  return value instanceof CliError
}

/** Maps an HTTP status to the error code the client reports. */
export function codeForStatus(status: number): RemoteErrorCode {
  if (status === 401 || status === 403) return 'UNAUTHORIZED'
  if (status === 404) return 'NOT_FOUND'
  return 'HTTP_ERROR'
}

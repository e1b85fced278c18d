/** Error codes the bridge itself emits in `{"event":"error","code":...}`. Codes from remote-client and
 * modal-scaffolder errors are passed through unchanged. */
export type BridgeErrorCode =
  | 'BAD_REQUEST'
  | 'FILE_NOT_FOUND'
  | 'FILE_OUTSIDE_WORKDIR'
  | 'CANCELLED'
  | 'IO_ERROR'
  | 'INTERNAL'

export class BridgeError extends Error {
  override readonly name = 'BridgeError'
  readonly code: BridgeErrorCode

  constructor(code: BridgeErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
  }
}

export function isBridgeError(value: unknown): value is BridgeError {
  return value instanceof BridgeError
}

/** Turns any thrown value into the `code` and `message` of an `error` event. */
export function describeError(error: unknown): { code: string; message: string } {
  if (error && typeof error === 'object') {
    const e = error as { code?: unknown; message?: unknown; name?: unknown; syscall?: unknown }
    const message = typeof e.message === 'string' && e.message ? e.message : String(error)
    // Node system errors (ENOENT, EACCES, ENOSPC, ...) from reading inputs or writing outputs.
    if (typeof e.syscall === 'string') return { code: 'IO_ERROR', message }
    if (typeof e.code === 'string' && /^[A-Z][A-Z0-9_]*$/.test(e.code)) return { code: e.code, message }
    if (e.name === 'AbortError') return { code: 'CANCELLED', message: 'The request was cancelled.' }
    return { code: 'INTERNAL', message }
  }
  return { code: 'INTERNAL', message: String(error) }
}

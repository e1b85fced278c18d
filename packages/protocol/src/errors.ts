/** Stable error codes thrown by @comfy-remote/protocol. */
export type ProtocolErrorCode =
  | 'BAD_REQUEST'
  | 'BAD_ENVELOPE'
  | 'BAD_VALUE'
  | 'UNKNOWN_ENCODING'
  | 'BASE64_INVALID'
  | 'NPY_BAD_HEADER'
  | 'NPY_FORTRAN_ORDER'
  | 'NPY_BIG_ENDIAN'
  | 'NPY_UNSUPPORTED_DTYPE'
  | 'NPY_TRUNCATED'
  | 'NPY_SHAPE_MISMATCH'
  | 'PNG_INVALID'
  | 'PICKLE_REFUSED'
  | 'MULTIPART_INVALID'
  | 'MULTIPART_MISSING_PART'

export interface ProtocolErrorOptions {
  /** Dotted path of the offending field, e.g. `inputs.image.encoding`. */
  field?: string
  cause?: unknown
  details?: unknown
}

/** The only error type the protocol parsers and codecs throw. */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError'
  readonly code: ProtocolErrorCode
  readonly field: string | undefined
  readonly details: unknown

  constructor(code: ProtocolErrorCode, message: string, options: ProtocolErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.field = options.field
    this.details = options.details
  }
}

export function isProtocolError(error: unknown): error is ProtocolError {
  return error instanceof ProtocolError || (error instanceof Error && error.name === 'ProtocolError')
}

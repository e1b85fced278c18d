/** Error codes of @comfy-remote/modal-scaffolder. Stable strings: callers branch on them. */
export type ModalScaffolderErrorCode =
  | 'INVALID_OPTIONS'
  | 'WORKFLOW_INVALID'
  | 'ASSETS_MISSING'
  | 'OUTPUT_EXISTS'
  | 'CLEAN_REFUSED'
  | 'NOT_A_PROJECT'
  | 'MODAL_CLI_MISSING'
  | 'MODAL_TOKEN_MISSING'
  | 'MODAL_SECRET_MISSING'
  | 'DEPLOY_FAILED'
  | 'DEPLOY_URL_NOT_FOUND'
  | 'STOP_FAILED'
  | 'SERVE_PYTHON_MISSING'

export interface ModalScaffolderErrorOptions {
  cause?: unknown
  /** Extra facts for programs: field name, exit code, stderr excerpt, command. */
  details?: Record<string, unknown>
}

/** The one error class of this package; `code` says what went wrong, the message says what to do. */
export class ModalScaffolderError extends Error {
  override readonly name = 'ModalScaffolderError'
  readonly code: ModalScaffolderErrorCode
  readonly details: Record<string, unknown>

  constructor(code: ModalScaffolderErrorCode, message: string, options: ModalScaffolderErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.details = options.details ?? {}
  }
}

export function isModalScaffolderError(
  value: unknown,
  code?: ModalScaffolderErrorCode,
): value is ModalScaffolderError {
  return value instanceof ModalScaffolderError && (code === undefined || value.code === code)
}

/** Thrown for bad options; `field` names the option, the message says how to fix it. */
export function invalidOption(field: string, message: string, cause?: unknown): ModalScaffolderError {
  return new ModalScaffolderError('INVALID_OPTIONS', `${field}: ${message}`, { cause, details: { field } })
}

/** Stable error codes of @comfy-remote/io-helpers. */
export type IoHelpersErrorCode =
  | 'INVALID_PROMPT'
  | 'INVALID_WORKFLOW'
  | 'UNSUPPORTED_UI_NODE'
  | 'DUPLICATE_NAME'
  | 'UNLINKED_OUTPUT'
  | 'INVALID_INPUTS'
  | 'OUTPUT_NOT_PRODUCED'
  | 'INVALID_HISTORY'
  | 'INVALID_FRAME'
  | 'INVALID_OPTIONS'

export interface IoHelpersErrorOptions {
  cause?: unknown
  /** Node ids the error is about, when it is about nodes. */
  nodeIds?: string[]
  /** Every individual problem, when there are several. */
  problems?: string[]
}

/** Base class of every error thrown by this package; `code` is stable. */
export class IoHelpersError extends Error {
  readonly code: IoHelpersErrorCode
  readonly nodeIds: string[]
  readonly problems: string[]

  constructor(code: IoHelpersErrorCode, message: string, options: IoHelpersErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'IoHelpersError'
    this.code = code
    this.nodeIds = options.nodeIds ?? []
    this.problems = options.problems ?? []
  }
}

/** A workflow is not a valid API-format prompt. */
export class InvalidPromptError extends IoHelpersError {
  constructor(message: string, options?: IoHelpersErrorOptions) {
    super('INVALID_PROMPT', message, options)
    this.name = 'InvalidPromptError'
  }
}

/** A UI-format workflow cannot be converted. */
export class WorkflowConversionError extends IoHelpersError {
  constructor(
    code: 'INVALID_WORKFLOW' | 'UNSUPPORTED_UI_NODE',
    message: string,
    options?: IoHelpersErrorOptions,
  ) {
    super(code, message, options)
    this.name = 'WorkflowConversionError'
  }
}

/** The Remote Input/Output nodes of a workflow do not form a valid contract. */
export class WorkflowContractError extends IoHelpersError {
  constructor(code: 'DUPLICATE_NAME' | 'UNLINKED_OUTPUT', message: string, options?: IoHelpersErrorOptions) {
    super(code, message, options)
    this.name = 'WorkflowContractError'
  }
}

/** The inputs given to `injectInputs` do not match the workflow; `problems` lists each one. */
export class InputMismatchError extends IoHelpersError {
  constructor(message: string, options?: IoHelpersErrorOptions) {
    super('INVALID_INPUTS', message, options)
    this.name = 'InputMismatchError'
  }
}

/** A history entry lacks a Remote Output value, or is not a history entry. */
export class OutputCollectionError extends IoHelpersError {
  constructor(
    code: 'OUTPUT_NOT_PRODUCED' | 'INVALID_HISTORY',
    message: string,
    options?: IoHelpersErrorOptions,
  ) {
    super(code, message, options)
    this.name = 'OutputCollectionError'
  }
}

export function isIoHelpersError(value: unknown): value is IoHelpersError {
  return value instanceof IoHelpersError
}

import { readFile } from 'node:fs/promises'
import type { ApiPrompt, ObjectInfo, WorkflowDescription } from '@comfy-remote/io-helpers'
import {
  describeWorkflow,
  isIoHelpersError,
  isLink,
  isRecord,
  REMOTE_OUTPUT_CLASS,
  toApiPrompt,
} from '@comfy-remote/io-helpers'
import { MockWorkerError } from './errors.js'
import { defaultObjectInfo, fetchObjectInfo } from './object-info.js'

export type { ApiPrompt, ObjectInfo }

/** The workflow's Remote Inputs/Outputs (the body of `GET /schema`, without transports). */
export type WorkflowContract = WorkflowDescription

export interface LoadedWorkflow {
  prompt: ApiPrompt
  contract: WorkflowContract
  format: 'api' | 'ui'
}

/** The node id a link input points at, or undefined for a literal. */
export function linkSource(value: unknown): string | undefined {
  return isLink(value) ? String(value[0]) : undefined
}

/** True for the UI format the editor saves (`nodes` + `links`). */
export function isUiWorkflow(value: unknown): boolean {
  return isRecord(value) && Array.isArray(value.nodes) && Array.isArray(value.links)
}

/**
 * Turn a parsed workflow file (API or UI format) into an API prompt and its
 * contract. UI workflows need an object_info (see `defaultObjectInfo`).
 */
export function prepareWorkflow(
  workflow: unknown,
  objectInfo?: ObjectInfo,
  onWarning: (message: string) => void = (m) => console.warn(m),
): LoadedWorkflow {
  try {
    const ui = isUiWorkflow(workflow)
    if (ui && objectInfo === undefined) {
      throw new MockWorkerError(
        'INVALID_WORKFLOW',
        'A UI-format workflow needs an object_info to convert it; pass objectInfo (--object-info <file>).',
      )
    }
    const prompt = ui
      ? toApiPrompt(workflow as never, objectInfo as ObjectInfo, { onWarning })
      : (workflow as ApiPrompt)
    if (!isRecord(prompt) || Object.keys(prompt).length === 0) {
      throw new MockWorkerError(
        'INVALID_WORKFLOW',
        'The workflow is empty or not an object; save it with "Export (API)" or as a UI workflow.',
      )
    }
    const described = describeWorkflow(prompt, objectInfo)
    const contract: WorkflowContract = {
      inputs: described.inputs.map((i) => ({ ...i })),
      outputs: described.outputs.map((o) => ({ ...o })),
    }
    if (contract.outputs.length === 0) {
      throw new MockWorkerError(
        'INVALID_WORKFLOW',
        `The workflow has no ${REMOTE_OUTPUT_CLASS} node and no App Mode output; add a Remote Output for every value the worker should return, or mark output nodes in the editor's App Mode (saved as extra.linearData).`,
      )
    }
    return { prompt, contract, format: ui ? 'ui' : 'api' }
  } catch (error) {
    if (isIoHelpersError(error)) {
      throw new MockWorkerError('INVALID_WORKFLOW', `The workflow cannot be served: ${error.message}`, {
        cause: error,
      })
    }
    throw error
  }
}

export interface LoadWorkflowOptions {
  /** An /object_info JSON file (wins over everything). */
  objectInfoPath?: string
  /** A ComfyUI server whose /object_info to use (the comfyui engine's server; it knows its custom nodes). */
  comfyuiUrl?: string
  /** Told when the server's object_info could not be read and the shipped one is used instead. */
  onFallback?: (reason: string) => void
  /** Told about App Mode entries that no longer resolve (skipped). */
  onWarning?: (message: string) => void
}

/**
 * Read a workflow file (API or UI format) and prepare it. The object_info converts UI workflows and
 * types the contract: `objectInfoPath`, else the ComfyUI server's, else the one shipped with io-helpers.
 */
export async function loadWorkflowFile(
  path: string,
  options: LoadWorkflowOptions = {},
): Promise<LoadedWorkflow & { objectInfo: ObjectInfo | undefined }> {
  const workflow = await readJson(path, 'workflow')
  let objectInfo: ObjectInfo | undefined
  if (options.objectInfoPath !== undefined) {
    objectInfo = (await readJson(options.objectInfoPath, 'object_info')) as ObjectInfo
  } else if (options.comfyuiUrl !== undefined) {
    objectInfo = await fetchObjectInfo(options.comfyuiUrl).catch((error: unknown) => {
      options.onFallback?.((error as Error).message)
      return undefined
    })
  }
  objectInfo ??= await defaultObjectInfo().catch((error: unknown) => {
    if (isUiWorkflow(workflow)) throw error
    return undefined
  })
  return { ...prepareWorkflow(workflow, objectInfo, options.onWarning), objectInfo }
}

async function readJson(path: string, what: string): Promise<unknown> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (cause) {
    throw new MockWorkerError(
      'INVALID_OPTIONS',
      `Cannot read the ${what} file ${path}: ${(cause as Error).message}`,
      { cause },
    )
  }
  try {
    return JSON.parse(text)
  } catch (cause) {
    throw new MockWorkerError(
      'INVALID_WORKFLOW',
      `The ${what} file ${path} is not valid JSON: ${(cause as Error).message}`,
      { cause },
    )
  }
}

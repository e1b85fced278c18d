import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import type { ApiPrompt, ObjectInfo, UiWorkflow } from '@comfy-remote/io-helpers'
import { describeWorkflow, isUiWorkflow, parseApiPrompt, toApiPrompt } from '@comfy-remote/io-helpers'
import type { Contract } from './config.js'
import { ModalScaffolderError } from './errors.js'

/**
 * The object_info shipped with @comfy-remote/io-helpers (ComfyUI 0.3.64, core nodes): types the contract
 * of an API prompt scaffolded without --object-info, as the mock worker does (IMAGE, not `*`).
 */
export async function shippedObjectInfo(): Promise<ObjectInfo | undefined> {
  try {
    const url = import.meta.resolve('@comfy-remote/io-helpers/fixtures/comfyui-0.3.64/object_info.json')
    return JSON.parse(await readFile(fileURLToPath(url), 'utf8')) as ObjectInfo
  } catch {
    return undefined // types stay `*`; the app works the same
  }
}

async function readJson(source: unknown, field: string): Promise<unknown> {
  if (typeof source !== 'string') return source
  let text: string
  try {
    text = await readFile(source, 'utf8')
  } catch (cause) {
    throw new ModalScaffolderError('INVALID_OPTIONS', `${field}: cannot read ${source}; check the path.`, {
      cause,
      details: { field },
    })
  }
  try {
    return JSON.parse(text)
  } catch (cause) {
    throw new ModalScaffolderError(
      'WORKFLOW_INVALID',
      `${field}: ${source} is not valid JSON; save the workflow again.`,
      { cause, details: { field } },
    )
  }
}

/**
 * Workflow (path or object, API or UI format) -> API prompt. UI-format input needs an object_info
 * (path or object) to be converted the way the editor's "Export (API)" does.
 */
export async function loadPrompt(
  workflow: unknown,
  objectInfo?: unknown,
): Promise<{ prompt: ApiPrompt; objectInfo?: ObjectInfo }> {
  if (workflow === undefined || workflow === null)
    throw new ModalScaffolderError(
      'INVALID_OPTIONS',
      'workflow: is required (a file path or a workflow object).',
      { details: { field: 'workflow' } },
    )
  const value = await readJson(workflow, 'workflow')
  const info =
    objectInfo === undefined || objectInfo === null
      ? undefined
      : ((await readJson(objectInfo, 'objectInfo')) as ObjectInfo)
  if (info !== undefined && (typeof info !== 'object' || Array.isArray(info)))
    throw new ModalScaffolderError(
      'INVALID_OPTIONS',
      'objectInfo: must be the JSON object served by ComfyUI at /object_info.',
      { details: { field: 'objectInfo' } },
    )
  try {
    if (isUiWorkflow(value)) {
      if (!info)
        throw new ModalScaffolderError(
          'WORKFLOW_INVALID',
          'workflow: this is a UI-format workflow; pass objectInfo (a saved /object_info of your ComfyUI) to convert it, or use "Export (API)" in ComfyUI.',
          { details: { field: 'workflow' } },
        )
      const prompt = toApiPrompt(value as UiWorkflow, info, {
        onWarning: (message) => process.stderr.write(`comfy-remote-modal: warning: ${message}\n`),
      })
      return info ? { prompt, objectInfo: info } : { prompt }
    }
    const prompt = parseApiPrompt(value)
    return info ? { prompt, objectInfo: info } : { prompt }
  } catch (cause) {
    if (cause instanceof ModalScaffolderError) throw cause
    throw new ModalScaffolderError('WORKFLOW_INVALID', `workflow: ${(cause as Error).message}`, {
      cause,
      details: { field: 'workflow' },
    })
  }
}

/** The workflow's contract (what `/schema` reports); needs at least one Remote Output. */
export function describeContract(prompt: ApiPrompt, objectInfo?: ObjectInfo): Contract {
  let description: ReturnType<typeof describeWorkflow>
  try {
    description = describeWorkflow(prompt, objectInfo)
  } catch (cause) {
    throw new ModalScaffolderError('WORKFLOW_INVALID', `workflow: ${(cause as Error).message}`, {
      cause,
      details: { field: 'workflow' },
    })
  }
  if (description.outputs.length === 0)
    throw new ModalScaffolderError(
      'WORKFLOW_INVALID',
      "workflow: has no Remote Output node and no App Mode output; add a Remote Output (utils/remote > Remote Output) for every value the endpoint should return, or mark output nodes in the editor's App Mode and save the workflow (UI format, with objectInfo).",
      {
        details: { field: 'workflow' },
      },
    )
  return {
    inputs: description.inputs.map((i) => ({
      name: i.name,
      nodeId: i.nodeId,
      type: i.type,
      required: i.required,
      ...(i.default === undefined ? {} : { default: i.default }),
      ...(i.source === undefined ? {} : { source: i.source }),
      ...(i.input === undefined ? {} : { input: i.input }),
      ...(i.choices === undefined ? {} : { choices: i.choices }),
      ...(i.description === undefined ? {} : { description: i.description }),
    })),
    outputs: description.outputs.map((o) => ({
      name: o.name,
      nodeId: o.nodeId,
      type: o.type,
      ...(o.source === undefined ? {} : { source: o.source }),
    })),
  }
}

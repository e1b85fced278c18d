import type { ApiPrompt, AppModeUpload, ComfyFileRef } from '@comfy-remote/io-helpers'
import {
  appModeOf,
  injectInputs,
  isIoHelpersError,
  pendingUploads,
  resolveFileRefs,
  uploadAppModeInputs,
} from '@comfy-remote/io-helpers'
import type { EncodedValue } from '@comfy-remote/protocol'
import { MockWorkerError } from '../errors.js'

/** Subfolder of ComfyUI's input folder the worker uploads App Mode files into (fixed format A). */
export const UPLOAD_SUBFOLDER = 'comfy_remote'
/** Largest output file the worker reads back from ComfyUI's /view. */
export const MAX_VIEW_BYTES = 1024 * 1024 * 1024

function badRequest(error: unknown): never {
  if (isIoHelpersError(error)) {
    throw new MockWorkerError('BAD_REQUEST', error.message, {
      details: { problems: (error as { problems?: string[] }).problems },
    })
  }
  throw error
}

/** Check a request against the prompt's inputs (upload widgets get a placeholder name). */
export function checkInputs(prompt: ApiPrompt, inputs: Record<string, EncodedValue>): ApiPrompt {
  try {
    const uploaded = Object.fromEntries(pendingUploads(prompt, inputs).map((name) => [name, 'pending']))
    return injectInputs(prompt, inputs, { uploaded })
  } catch (error) {
    return badRequest(error)
  }
}

/** POST /upload/image of one file into input/comfy_remote; returns the widget value that loads it. */
async function uploadFile(baseUrl: string, file: AppModeUpload, timeoutMs: number): Promise<string> {
  const form = new FormData()
  form.set('image', new Blob([file.bytes as Uint8Array<ArrayBuffer>], { type: file.mime }), file.filename)
  form.set('type', 'input')
  form.set('subfolder', UPLOAD_SUBFOLDER)
  form.set('overwrite', 'true')
  let response: Response
  try {
    response = await fetch(`${baseUrl}/upload/image`, {
      method: 'POST',
      body: form,
      signal: AbortSignal.timeout(timeoutMs),
    })
  } catch (cause) {
    throw new MockWorkerError(
      'COMFYUI_UNAVAILABLE',
      `Cannot upload ${file.filename} for input "${file.name}" to ComfyUI at ${baseUrl} (${(cause as Error).message}); check that ComfyUI is running.`,
      { cause },
    )
  }
  const body = (await response.json().catch(() => undefined)) as
    | { name?: unknown; subfolder?: unknown; type?: unknown }
    | undefined
  if (!response.ok || typeof body?.name !== 'string') {
    throw new MockWorkerError(
      response.status === 413 ? 'PAYLOAD_TOO_LARGE' : 'COMFYUI_PROTOCOL',
      `ComfyUI refused the upload of input "${file.name}" (HTTP ${response.status})${response.status === 413 ? '; raise ComfyUI --max-upload-size or send a smaller file' : ''}.`,
    )
  }
  const subfolder = typeof body.subfolder === 'string' && body.subfolder !== '' ? `${body.subfolder}/` : ''
  const type = typeof body.type === 'string' && body.type !== 'input' ? ` [${body.type}]` : ''
  return `${subfolder}${body.name}${type}`
}

/** Upload the request's files for App Mode upload widgets, then inject every input. */
export async function injectWithUploads(
  baseUrl: string,
  prompt: ApiPrompt,
  inputs: Record<string, EncodedValue>,
  jobId: string,
  timeoutMs: number,
): Promise<ApiPrompt> {
  if (pendingUploads(prompt, inputs).length === 0) return checkInputs(prompt, inputs)
  const prefix = `cr-${jobId.replace(/[^A-Za-z0-9_-]+/g, '').slice(0, 64) || 'job'}`
  let uploaded: Record<string, string>
  try {
    uploaded = await uploadAppModeInputs(prompt, inputs, prefix, (file) =>
      uploadFile(baseUrl, file, timeoutMs),
    )
  } catch (error) {
    return badRequest(error)
  }
  try {
    return injectInputs(prompt, inputs, { uploaded })
  } catch (error) {
    return badRequest(error)
  }
}

/** GET /view of one output file, bounded by MAX_VIEW_BYTES. */
async function viewFile(baseUrl: string, ref: ComfyFileRef, timeoutMs: number): Promise<Uint8Array> {
  const query = new URLSearchParams({ filename: ref.filename, subfolder: ref.subfolder, type: ref.type })
  const url = `${baseUrl}/view?${query}`
  let response: Response
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) })
  } catch (cause) {
    throw new MockWorkerError(
      'COMFYUI_UNAVAILABLE',
      `Cannot read output file ${ref.filename} from ComfyUI (${(cause as Error).message}).`,
      { cause },
    )
  }
  if (!response.ok)
    throw new MockWorkerError(
      'COMFYUI_PROTOCOL',
      `ComfyUI answered /view of output file ${ref.type}/${ref.subfolder}/${ref.filename} with HTTP ${response.status}.`,
    )
  const declared = Number(response.headers.get('content-length') ?? 0)
  if (declared > MAX_VIEW_BYTES)
    throw new MockWorkerError(
      'PAYLOAD_TOO_LARGE',
      `Output file ${ref.filename} is ${declared} bytes, over the worker's limit of ${MAX_VIEW_BYTES}.`,
    )
  const bytes = new Uint8Array(await response.arrayBuffer())
  if (bytes.byteLength > MAX_VIEW_BYTES)
    throw new MockWorkerError(
      'PAYLOAD_TOO_LARGE',
      `Output file ${ref.filename} is over ${MAX_VIEW_BYTES} bytes.`,
    )
  return bytes
}

/** Output values whose bytes are still in ComfyUI (App Mode output nodes' files) with their bytes read. */
export async function readOutputFiles(
  baseUrl: string,
  prompt: ApiPrompt,
  values: Record<string, EncodedValue>,
  timeoutMs: number,
): Promise<Record<string, EncodedValue>> {
  const app = new Set(appModeOf(prompt).outputs.map((o) => o.name))
  const out: Record<string, EncodedValue> = { ...values }
  for (const [name, value] of Object.entries(values)) {
    if (app.has(name)) out[name] = await resolveFileRefs(value, (ref) => viewFile(baseUrl, ref, timeoutMs))
  }
  return out
}

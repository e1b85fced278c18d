import type { ApiPrompt, AppModeUpload } from '@comfy-remote/io-helpers'
import { injectInputs, isIoHelpersError, pendingUploads, uploadAppModeInputs } from '@comfy-remote/io-helpers'
import type { EncodedValue } from '@comfy-remote/protocol'
import { MockWorkerError } from '../errors.js'

/** Subfolder of ComfyUI's input folder the worker uploads App Mode files into (fixed format A). */
export const UPLOAD_SUBFOLDER = 'comfy_remote'

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

import { base64ToBytes, decodeNpy, encodePng } from '@comfy-remote/protocol'
import type { UploadKind } from './app-mode.js'
import { appModeOf } from './app-mode.js'
import { needsUpload } from './app-mode-inject.js'
import { InputMismatchError } from './errors.js'
import type { ApiPrompt, EncodedValue } from './types.js'
import { isRecord } from './types.js'

/** One file to upload through ComfyUI's `POST /upload/image` for an App Mode upload widget. */
export interface AppModeUpload {
  /** Request name of the input. */
  name: string
  kind: UploadKind
  bytes: Uint8Array
  /** Generated, safe: `<prefix>-<n>.<ext>`. */
  filename: string
  mime: string
}

const EXT_BY_MIME: Record<string, string> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/webp': 'webp',
  'image/gif': 'gif',
  'video/mp4': 'mp4',
  'video/webm': 'webm',
  'video/quicktime': 'mov',
  'audio/flac': 'flac',
  'audio/wav': 'wav',
  'audio/x-wav': 'wav',
  'audio/mpeg': 'mp3',
  'audio/ogg': 'ogg',
}

function bytesOf(data: unknown): Uint8Array | undefined {
  if (data instanceof Uint8Array) return data
  if (typeof data === 'string') return base64ToBytes(data)
  return undefined
}

function fileOf(name: string, kind: UploadKind, value: EncodedValue): { bytes: Uint8Array; mime: string } {
  const bad = (why: string) =>
    new InputMismatchError(`inputs.${name}: ${why}`, { problems: [`inputs.${name}: ${why}`] })
  if (isRecord(value.data) && !(value.data instanceof Uint8Array))
    throw bad('the value still refers to a file elsewhere; resolve references before uploading')
  const raw = bytesOf(value.data)
  if (value.encoding === 'png' && kind === 'image' && raw) {
    if (typeof value.batch === 'number' && value.batch > 1)
      throw bad(`an image widget loads one image, got a batch of ${value.batch}; send one image`)
    return { bytes: raw, mime: 'image/png' }
  }
  if (value.encoding === 'npy' && kind === 'image' && raw) {
    const array = decodeNpy(raw)
    if (array.shape.length === 4 && (array.shape[0] ?? 1) > 1)
      throw bad(`an image widget loads one image, got a batch of ${array.shape[0]}; send one image`)
    return { bytes: encodePng(array, 'IMAGE').bytes, mime: 'image/png' }
  }
  if (value.encoding === 'file' && raw) {
    const mime = typeof value.mime === 'string' ? value.mime : 'application/octet-stream'
    return { bytes: raw, mime }
  }
  throw bad(
    kind === 'image'
      ? `an image widget takes an IMAGE as png or npy bytes (or a file value), or a json string naming a file ComfyUI has; got encoding "${value.encoding}"`
      : `a ${kind} widget takes a "file" value (${kind} bytes) or a json string naming a file ComfyUI has; got encoding "${value.encoding}"`,
  )
}

/** The files the request's App Mode upload widgets need, named `<prefix>-<n>.<ext>`. */
export function appModeUploads(
  prompt: ApiPrompt,
  inputs: Record<string, EncodedValue>,
  prefix: string,
): AppModeUpload[] {
  const uploads: AppModeUpload[] = []
  for (const input of appModeOf(prompt).inputs) {
    if (!input.upload) continue
    const value = inputs[input.name]
    if (!value || !needsUpload(input, value)) continue
    const { bytes, mime } = fileOf(input.name, input.upload, value)
    const ext = EXT_BY_MIME[mime] ?? 'bin'
    uploads.push({
      name: input.name,
      kind: input.upload,
      bytes,
      mime,
      filename: `${prefix}-${uploads.length}.${ext}`,
    })
  }
  return uploads
}

/**
 * Upload the files of the request's App Mode upload widgets with `upload` (which returns the widget
 * value ComfyUI loads it by, e.g. `comfy_remote/cr-<job>-0.png`); returns them by input name for
 * injectInputs' `uploaded` option.
 */
export async function uploadAppModeInputs(
  prompt: ApiPrompt,
  inputs: Record<string, EncodedValue>,
  prefix: string,
  upload: (file: AppModeUpload) => Promise<string>,
): Promise<Record<string, string>> {
  const uploaded: Record<string, string> = {}
  for (const file of appModeUploads(prompt, inputs, prefix)) uploaded[file.name] = await upload(file)
  return uploaded
}

/** Names of the request's App Mode inputs whose value has to be uploaded to ComfyUI first. */
export function pendingUploads(prompt: ApiPrompt, inputs: Record<string, EncodedValue>): string[] {
  return appModeOf(prompt)
    .inputs.filter((input) => {
      const value = inputs[input.name]
      return isRecord(value) && needsUpload(input, value as EncodedValue)
    })
    .map((input) => input.name)
}

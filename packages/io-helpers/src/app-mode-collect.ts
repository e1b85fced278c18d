import { appModeOf } from './app-mode.js'
import type { ApiPrompt, EncodedValue } from './types.js'
import { isRecord } from './types.js'

/** A file ComfyUI manages (history `outputs`, `/view` query): its annotated triple. */
export interface ComfyFileRef {
  filename: string
  subfolder: string
  type: string
}

const MIME: Record<string, [string, string]> = {
  png: ['IMAGE', 'image/png'],
  jpg: ['IMAGE', 'image/jpeg'],
  jpeg: ['IMAGE', 'image/jpeg'],
  webp: ['IMAGE', 'image/webp'],
  gif: ['IMAGE', 'image/gif'],
  mp4: ['VIDEO', 'video/mp4'],
  webm: ['VIDEO', 'video/webm'],
  mov: ['VIDEO', 'video/quicktime'],
  mkv: ['VIDEO', 'video/x-matroska'],
  flac: ['AUDIO', 'audio/flac'],
  wav: ['AUDIO', 'audio/wav'],
  mp3: ['AUDIO', 'audio/mpeg'],
  ogg: ['AUDIO', 'audio/ogg'],
  opus: ['AUDIO', 'audio/opus'],
  glb: ['FILE', 'model/gltf-binary'],
}

/** Files listed in one node's history output (`images`, `gifs`, `audio`, `video`, ... lists). */
export function historyFiles(ui: unknown): Array<ComfyFileRef & { key: string; animated: boolean }> {
  if (!isRecord(ui)) return []
  const animated = Array.isArray(ui.animated) && ui.animated.some((a) => a === true)
  const files: Array<ComfyFileRef & { key: string; animated: boolean }> = []
  for (const [key, list] of Object.entries(ui)) {
    if (!Array.isArray(list)) continue
    for (const item of list) {
      if (!isRecord(item) || typeof item.filename !== 'string' || item.filename === '') continue
      files.push({
        key,
        animated,
        filename: item.filename,
        subfolder: typeof item.subfolder === 'string' ? item.subfolder : '',
        type: typeof item.type === 'string' ? item.type : 'output',
      })
    }
  }
  return files
}

/**
 * The encoded value of one output file, its bytes still in ComfyUI (`data: {file: {...}}`, fixed format A):
 * a still PNG is an IMAGE `png`; anything else is a `file` value (VIDEO/AUDIO/IMAGE/FILE by extension).
 */
export function fileValue(file: ComfyFileRef & { animated?: boolean }): EncodedValue {
  const ref = { file: { filename: file.filename, subfolder: file.subfolder, type: file.type } }
  const ext = file.filename.slice(file.filename.lastIndexOf('.') + 1).toLowerCase()
  const [type, mime] = MIME[ext] ?? ['FILE', 'application/octet-stream']
  if (ext === 'png' && !file.animated) return { type: 'IMAGE', encoding: 'png', data: ref }
  return {
    type: file.animated && type === 'IMAGE' ? 'VIDEO' : type,
    encoding: 'file',
    mime,
    filename: file.filename,
    data: ref,
  } as EncodedValue
}

/** App Mode outputs of a history entry by name: one file -> its value, several -> a `list` of them. */
export function collectAppModeOutputs(
  prompt: ApiPrompt,
  outputs: Record<string, unknown>,
): { values: Record<string, EncodedValue>; missing: string[]; problems: string[] } {
  const values: Record<string, EncodedValue> = {}
  const missing: string[] = []
  const problems: string[] = []
  for (const output of appModeOf(prompt).outputs) {
    const files = historyFiles(outputs[output.nodeId])
    if (files.length === 0) {
      missing.push(output.nodeId)
      problems.push(
        `App Mode output "${output.name}" (node ${output.nodeId}, ${prompt[output.nodeId]!.class_type}) produced no file`,
      )
      continue
    }
    const items = files.map(fileValue)
    values[output.name] =
      items.length === 1
        ? items[0]!
        : ({ type: items[0]!.type, encoding: 'list', data: items } as EncodedValue)
  }
  return { values, missing, problems }
}

/** Every ComfyUI file reference (`data: {file: {filename, subfolder, type}}`) inside a value. */
export function fileRefsIn(value: unknown): ComfyFileRef[] {
  if (Array.isArray(value)) return value.flatMap(fileRefsIn)
  if (!isRecord(value)) return []
  const data = value.data
  if (isRecord(data) && isRecord(data.file) && typeof data.file.filename === 'string')
    return [data.file as unknown as ComfyFileRef]
  return Object.values(value).flatMap(fileRefsIn)
}

/**
 * A copy of `values` whose ComfyUI file references are replaced by the files' bytes, read with `read`
 * (a worker's GET /view, or its own disk when it shares ComfyUI's folders); `read` may return bytes or
 * the worker's own file-backed form.
 */
export async function resolveFileRefs<T>(
  values: T,
  read: (ref: ComfyFileRef) => Promise<unknown>,
): Promise<T> {
  const walk = async (value: unknown): Promise<unknown> => {
    if (Array.isArray(value)) return Promise.all(value.map(walk))
    if (!isRecord(value)) return value
    const data = value.data
    if (isRecord(data) && isRecord(data.file) && typeof data.file.filename === 'string') {
      return { ...value, data: await read(data.file as unknown as ComfyFileRef) }
    }
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) out[k] = await walk(v)
    return out
  }
  return (await walk(values)) as T
}

import { base64ByteLength, base64ToBytes } from '@comfy-remote/protocol'
import type { ComfyFileRef } from './app-mode-collect.js'
import type { EncodedValue } from './types.js'
import { isRecord } from './types.js'

/**
 * Values in files on the ComfyUI side (docs/protocol.md, "Values in files"): a binary leaf
 * (npy/png/file encoding) whose bytes live in a file in ComfyUI's `<type>/comfy_remote/` folder carries
 * `"data": {"file": {"filename", "subfolder": "comfy_remote", "type"}}`.
 */
export const COMFY_REMOTE_SUBFOLDER = 'comfy_remote'
/** Binary payloads of at least this many bytes go to ComfyUI as files, not base64 in the prompt. */
export const FILE_HANDOFF_MIN_BYTES = 64 * 1024
/**
 * Larger payloads are uploaded in parts of at most this many bytes: ComfyUI refuses request bodies
 * above its `--max-upload-size` (100 MiB by default), so one 192 MiB upload would get a 413. The value
 * then carries `"data": {"files": [ref, ref, ...]}`, whose bytes are the parts' bytes in order.
 */
export const FILE_HANDOFF_PART_BYTES = 64 * 1024 * 1024
/**
 * Released Remote Output files a worker hands back to `<temp>/comfy_remote/` for the next Remote Output
 * to write over (docs/protocol.md, "Spares"): `cr-spare-<hex>.bin`.
 */
export const COMFY_SPARE_PREFIX = 'cr-spare-'
/** Names we generate (and Remote Input accepts): `cr-<job>-<n>.<ext>`. */
export const COMFY_FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$/
/** Encodings whose `data` is the bytes of a file. */
export const BINARY_ENCODINGS: ReadonlySet<string> = new Set(['npy', 'png', 'file'])

export type ComfyFileType = 'input' | 'temp' | 'output'

/**
 * Bytes of one value: in memory, or a file on disk (a worker that keeps large values file-backed).
 * `size` is the file's length in bytes.
 */
export type ByteSource = Uint8Array | { readonly path: string; readonly size: number }

/** One file to hand to ComfyUI before the prompt is queued (upload, or write into its folder). */
export interface PlannedFile {
  ref: ComfyFileRef & { type: ComfyFileType }
  source: ByteSource
  /** The file holds `size` bytes of `source` from byte `offset` on (a part of a larger value). */
  offset: number
  size: number
}

export interface HandoffOptions {
  /** File name prefix, e.g. `cr-<job id>` (sanitised); files are `<prefix>-<n>.<ext>`. */
  prefix: string
  /** ComfyUI folder the files go to (default `temp`). */
  type?: ComfyFileType
  /** Leaves of at least this many bytes become files (default 64 KiB). */
  minBytes?: number
  /** Leaves above this many bytes are split into parts of at most this size (default 64 MiB). */
  partBytes?: number
  /**
   * Bytes of a leaf's `data` when the worker holds it in its own form (e.g. a file-backed value);
   * return undefined to let the default (Uint8Array, base64 text) decide.
   */
  bytesOf?: (data: unknown) => ByteSource | undefined
}

export function isComfyFileRef(data: unknown): data is { file: ComfyFileRef } {
  return isRecord(data) && isRecord(data.file) && typeof data.file.filename === 'string'
}

/**
 * The ComfyUI files a leaf's `data` names, in order: `{"file": ref}` (one file) or `{"files": [ref, ...]}`
 * (a value uploaded in parts); undefined for any other data.
 */
export function comfyFileRefsOf(data: unknown): unknown[] | undefined {
  if (isComfyFileRef(data)) return [data.file]
  if (isRecord(data) && Array.isArray(data.files) && data.files.length > 0) return data.files
  return undefined
}

/** Why `ref` is not a reference Remote Input would read, or undefined. */
export function comfyFileRefProblem(ref: unknown): string | undefined {
  if (!isRecord(ref)) return 'must be an object {filename, subfolder, type}'
  if (ref.subfolder !== COMFY_REMOTE_SUBFOLDER)
    return `subfolder must be "${COMFY_REMOTE_SUBFOLDER}", got ${JSON.stringify(ref.subfolder)}`
  if (typeof ref.filename !== 'string' || !COMFY_FILE_NAME.test(ref.filename) || ref.filename.includes('..'))
    return `filename ${JSON.stringify(ref.filename)} is not a generated name (letters, digits, ".", "_", "-"; no "..")`
  if (!['input', 'temp', 'output'].includes(String(ref.type)))
    return `type must be input, temp or output, got ${JSON.stringify(ref.type)}`
  return undefined
}

function sourceSize(source: ByteSource): number {
  return source instanceof Uint8Array ? source.byteLength : source.size
}

function defaultBytes(data: unknown, minBytes: number): ByteSource | undefined {
  if (data instanceof Uint8Array) return data
  if (typeof data === 'string' && base64ByteLength(data) >= minBytes) {
    return base64ToBytes(data) // strict: Buffer alone would drop characters outside the alphabet
  }
  return undefined
}

const EXT_BY_MIME: Record<string, string> = {
  'video/mp4': 'mp4',
  'video/webm': 'webm',
  'video/quicktime': 'mov',
  'video/x-matroska': 'mkv',
  'audio/wav': 'wav',
  'audio/x-wav': 'wav',
  'audio/flac': 'flac',
  'audio/mpeg': 'mp3',
  'audio/ogg': 'ogg',
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/webp': 'webp',
  'image/gif': 'gif',
  'model/gltf-binary': 'glb',
}

/** File extension of a binary leaf: npy, png, or from a `file` value's mime / filename. */
export function extensionOf(value: Record<string, unknown>): string {
  if (value.encoding !== 'file') return String(value.encoding)
  const byMime = typeof value.mime === 'string' ? EXT_BY_MIME[value.mime.toLowerCase()] : undefined
  if (byMime) return byMime
  const name = typeof value.filename === 'string' ? value.filename : ''
  const ext = /\.([A-Za-z0-9]{1,8})$/.exec(name)?.[1]
  return ext ? ext.toLowerCase() : 'bin'
}

/**
 * Decide, for every binary leaf of `value` (also inside object/list values), whether it goes to
 * ComfyUI inline (base64 in the prompt) or as a file. Returns a copy of the value whose large
 * leaves carry `{"file": ref}` (or `{"files": [ref, ...]}` when split into parts), and the files to
 * upload (or write) before queueing the prompt.
 * The argument is not mutated; small leaves are left as they are.
 */
export function planFileHandoff(
  value: EncodedValue,
  options: HandoffOptions,
  counter: { n: number } = { n: 0 },
): { value: EncodedValue; files: PlannedFile[] } {
  const minBytes = options.minBytes ?? FILE_HANDOFF_MIN_BYTES
  const partBytes = Math.max(1, options.partBytes ?? FILE_HANDOFF_PART_BYTES)
  const type = options.type ?? 'temp'
  const prefix = options.prefix.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '') || 'cr'
  const files: PlannedFile[] = []
  const walk = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(walk)
    if (!isRecord(node) || typeof node.encoding !== 'string') return node
    if (node.encoding === 'object' && isRecord(node.data)) {
      return { ...node, data: Object.fromEntries(Object.entries(node.data).map(([k, v]) => [k, walk(v)])) }
    }
    if (node.encoding === 'list' && Array.isArray(node.data)) return { ...node, data: node.data.map(walk) }
    if (!BINARY_ENCODINGS.has(node.encoding) || !('data' in node)) return node
    const source = options.bytesOf?.(node.data) ?? defaultBytes(node.data, minBytes)
    if (source === undefined || sourceSize(source) < minBytes) return node
    counter.n += 1
    const size = sourceSize(source)
    const ext = extensionOf(node)
    const stem = `${prefix}-${counter.n}`.slice(0, 180)
    if (size <= partBytes) {
      const ref: PlannedFile['ref'] = { filename: `${stem}.${ext}`, subfolder: COMFY_REMOTE_SUBFOLDER, type }
      files.push({ ref, source, offset: 0, size })
      return { ...node, data: { file: ref } }
    }
    const refs: PlannedFile['ref'][] = []
    for (let offset = 0, part = 0; offset < size; offset += partBytes, part++) {
      const ref: PlannedFile['ref'] = {
        filename: `${stem}-p${part}.${ext}`,
        subfolder: COMFY_REMOTE_SUBFOLDER,
        type,
      }
      refs.push(ref)
      files.push({ ref, source, offset, size: Math.min(partBytes, size - offset) })
    }
    return { ...node, data: { files: refs } }
  }
  return { value: walk(value) as EncodedValue, files }
}

import { randomUUID } from 'node:crypto'
import {
  BINARY_ENCODINGS,
  COMFY_REMOTE_SUBFOLDER,
  comfyFileRefProblem,
  comfyFileRefsOf,
  extensionOf,
  FILE_HANDOFF_MIN_BYTES,
} from '../file-handoff.js'
import type { EncodedValue } from '../types.js'
import { isRecord } from '../types.js'
import type { FileStore } from './files.js'

/** The node pack's CodecError, as ComfyUI reports it in `execution_error`. */
export class RemoteFileError extends Error {}

function walk(node: unknown, leaf: (value: Record<string, unknown>) => unknown): unknown {
  if (Array.isArray(node)) return node.map((n) => walk(n, leaf))
  if (!isRecord(node) || typeof node.encoding !== 'string') return node
  if (node.encoding === 'object' && isRecord(node.data)) {
    return {
      ...node,
      data: Object.fromEntries(Object.entries(node.data).map(([k, v]) => [k, walk(v, leaf)])),
    }
  }
  if (node.encoding === 'list' && Array.isArray(node.data))
    return { ...node, data: node.data.map((n) => walk(n, leaf)) }
  return BINARY_ENCODINGS.has(node.encoding) ? leaf(node) : node
}

/**
 * Remote Input (comfy_remote/comfy_files.py): every `{"file": ref}` leaf is checked (subfolder
 * comfy_remote, a generated name, input|temp|output), read from the folder and deleted.
 */
export function resolveRemoteInputFiles(files: FileStore, value: EncodedValue, where: string): EncodedValue {
  return walk(value, (leaf) => {
    const refs = comfyFileRefsOf(leaf.data)
    if (!refs) {
      if (isRecord(leaf.data) && ('file' in leaf.data || 'files' in leaf.data))
        throw new RemoteFileError(
          `[BAD_FILE_REF] ${where}.data.file must be an object {filename, subfolder, type} (files: a list of them)`,
        )
      return leaf
    }
    const parts: Uint8Array[] = []
    for (const ref of refs) {
      const problem = comfyFileRefProblem(ref)
      if (problem) throw new RemoteFileError(`[BAD_FILE_REF] ${where}.data.file.${problem}`)
      const { type, filename } = ref as { type: string; filename: string }
      const file = files.get(type, COMFY_REMOTE_SUBFOLDER, filename)
      if (!file) {
        throw new RemoteFileError(
          `[FILE_REF_MISSING] ${where}.data.file '${filename}' does not exist in ${type}/${COMFY_REMOTE_SUBFOLDER}: upload it before queueing the prompt (files are read once, then deleted)`,
        )
      }
      parts.push(file.bytes)
    }
    for (const ref of refs) {
      const { type, filename } = ref as { type: string; filename: string }
      files.delete(type, COMFY_REMOTE_SUBFOLDER, filename)
    }
    return { ...leaf, data: Buffer.concat(parts).toString('base64') }
  }) as EncodedValue
}

function leafBytes(data: unknown): Uint8Array | undefined {
  if (data instanceof Uint8Array) return data
  if (typeof data === 'string') return new Uint8Array(Buffer.from(data, 'base64'))
  return undefined
}

/**
 * Remote Output (comfy_remote/nodes/remote_output.py): binary leaves of at least 64 KiB are written to
 * `temp/comfy_remote/cr-out-<uuid>-<n>.<ext>` and the UI value names the file.
 */
export function writeRemoteOutputFiles(files: FileStore, value: EncodedValue): EncodedValue {
  const prefix = `cr-out-${randomUUID().replace(/-/g, '')}`
  let n = 0
  return walk(value, (leaf) => {
    const bytes = leafBytes(leaf.data)
    if (!bytes || bytes.byteLength < FILE_HANDOFF_MIN_BYTES) return leaf
    n += 1
    const filename = `${prefix}-${n}.${extensionOf(leaf)}`
    files.claimSpare(filename) // writing over a spare keeps its inode, as the pack does
    files.put('temp', COMFY_REMOTE_SUBFOLDER, filename, bytes)
    return { ...leaf, data: { file: { filename, subfolder: COMFY_REMOTE_SUBFOLDER, type: 'temp' } } }
  }) as EncodedValue
}

/**
 * The node pack's `POST /comfy-remote/files/release` (comfy_remote/routes.py): delete Remote Output files
 * (`temp/comfy_remote/cr-out-*`) a worker has read. Returns the status and JSON body to answer.
 */
export function releaseRemoteOutputFiles(files: FileStore, body: unknown): [number, unknown] {
  const list = isRecord(body) ? body.files : undefined
  if (!Array.isArray(list))
    return [
      400,
      { error: { code: 'BAD_FILE_REF', message: 'files must be a list of {filename, subfolder, type}' } },
    ]
  for (const [i, ref] of list.entries()) {
    const problem = comfyFileRefProblem(ref)
    if (problem) return [400, { error: { code: 'BAD_FILE_REF', message: `files[${i}].${problem}` } }]
    if (ref.type !== 'temp' || !String(ref.filename).startsWith('cr-out-'))
      return [
        400,
        {
          error: {
            code: 'BAD_FILE_REF',
            message: `files[${i}]: only Remote Output files (temp, cr-out-*) can be released`,
          },
        },
      ]
  }
  for (const ref of list) files.delete('temp', COMFY_REMOTE_SUBFOLDER, String(ref.filename))
  return [200, { released: list.length }]
}

/**
 * The node pack's `GET /comfy-remote/files/folder` and `POST /comfy-remote/files/probe`
 * (comfy_remote/comfy_files.py shared_folder / check_probe): where temp/comfy_remote is, and whether a
 * probe file a worker wrote there holds its token (then it shares the folder; `spares`: Remote Output
 * writes over files the worker hands back). 404 without a disk folder.
 */
export function sharedFolderRoute(files: FileStore, post: boolean, body: unknown): [number, unknown] {
  const folder = files.sharedFolder
  if (folder === undefined)
    return [404, { error: { code: 'NOT_FOUND', message: "ComfyUI's temp folder is unknown" } }]
  if (!post) return [200, { folder }]
  const filename = isRecord(body) ? body.filename : undefined
  const token = isRecord(body) ? body.token : undefined
  if (typeof filename !== 'string' || !/^cr-probe-[0-9a-f]{16,64}$/.test(filename))
    return [
      400,
      { error: { code: 'BAD_FILE_REF', message: 'filename must be cr-probe-<16 to 64 hex digits>' } },
    ]
  if (typeof token !== 'string' || token.length < 16 || token.length > 256)
    return [
      400,
      { error: { code: 'BAD_FILE_REF', message: 'token must be a string of 16 to 256 characters' } },
    ]
  const seen = files.get('temp', COMFY_REMOTE_SUBFOLDER, filename)
  files.delete('temp', COMFY_REMOTE_SUBFOLDER, filename)
  const shared = seen !== undefined && Buffer.from(seen.bytes).toString('utf8') === token
  return [200, { shared, spares: true }]
}

import { closeSync, openSync, readSync } from 'node:fs'
import {
  base64ByteLength,
  checkPngHead,
  type EncodedValue,
  ProtocolError,
  readNpyLayout,
} from '@comfy-remote/protocol'
import { isFileBytes } from './spool/file-bytes.js'

/** Enough bytes for any .npy header we accept (64 KiB + the preamble) and for a PNG's IHDR. */
const HEAD_BYTES = 64 * 1024 + 16

/** The first bytes of a binary leaf and its total size: in memory, base64 text or a spooled file. */
function headOf(data: unknown): { head: Uint8Array; size: number } | undefined {
  if (data instanceof Uint8Array) return { head: data.subarray(0, HEAD_BYTES), size: data.byteLength }
  if (typeof data === 'string') {
    const chars = Math.ceil(HEAD_BYTES / 3) * 4
    const head = new Uint8Array(Buffer.from(data.slice(0, chars), 'base64'))
    return { head, size: base64ByteLength(data) }
  }
  if (isFileBytes(data)) {
    const head = new Uint8Array(Math.min(HEAD_BYTES, data.size))
    const fd = openSync(data.path, 'r')
    try {
      readSync(fd, head, 0, head.length, 0)
    } finally {
      closeSync(fd)
    }
    return { head, size: data.size }
  }
  return undefined
}

function walk(value: unknown, where: string): void {
  if (typeof value !== 'object' || value === null) return
  const { encoding, data } = value as { encoding?: unknown; data?: unknown }
  if (encoding === 'object' && typeof data === 'object' && data !== null && !Array.isArray(data)) {
    for (const [key, item] of Object.entries(data)) walk(item, `${where}.data.${key}`)
    return
  }
  if (encoding === 'list' && Array.isArray(data)) {
    for (const [i, item] of data.entries()) walk(item, `${where}.data[${i}]`)
    return
  }
  if (encoding !== 'npy' && encoding !== 'png') return
  const bytes = headOf(data)
  if (bytes === undefined) return
  try {
    if (encoding === 'npy') readNpyLayout(bytes.head, bytes.size)
    else checkPngHead(bytes.head)
  } catch (error) {
    if (error instanceof ProtocolError)
      throw new ProtocolError(error.code, `${where}: ${error.message}`, { field: where, cause: error })
    throw error
  }
}

/**
 * Reads only the header of every npy/png input (in memory, base64 or spooled) and refuses a broken or
 * hostile one with its coded 400 (NPY_*, PNG_INVALID: a header lying about its size, a PNG bomb) when
 * the request arrives, not later inside ComfyUI. Costs one small read per binary input.
 */
export function checkBinaryHeads(inputs: Record<string, EncodedValue>): void {
  for (const [name, value] of Object.entries(inputs)) walk(value, `inputs.${name}`)
}

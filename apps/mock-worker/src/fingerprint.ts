import { createHash, type Hash } from 'node:crypto'
import { base64ToBytes, type EncodedValue } from '@comfy-remote/protocol'
import { type FileBytes, isFileBytes } from './spool/file-bytes.js'

const BINARY = new Set(['npy', 'png', 'file'])

/** Every spooled payload in a value (their digests are read from disk before hashing the whole). */
function spooledIn(value: unknown, out: Set<FileBytes>): Set<FileBytes> {
  if (isFileBytes(value)) out.add(value)
  else if (Array.isArray(value)) for (const item of value) spooledIn(item, out)
  else if (typeof value === 'object' && value !== null && !(value instanceof Uint8Array))
    for (const item of Object.values(value)) spooledIn(item, out)
  return out
}

/** A payload enters the fingerprint as its size and SHA-256, whether it is in memory or spooled. */
function feedBytes(hash: Hash, size: number, sha256: string): void {
  hash.update(`b${size}:${sha256};`)
}

/** Feeds one value into the hash: metadata as canonical JSON, payload bytes as bytes. */
function feed(hash: Hash, value: unknown, digests: ReadonlyMap<FileBytes, string>): void {
  if (isFileBytes(value)) {
    feedBytes(hash, value.size, digests.get(value) as string)
    return
  }
  if (value instanceof Uint8Array) {
    feedBytes(hash, value.byteLength, createHash('sha256').update(value).digest('hex'))
    return
  }
  if (Array.isArray(value)) {
    hash.update(`[${value.length}:`)
    for (const item of value) feed(hash, item, digests)
    hash.update(']')
    return
  }
  if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>
    const binary = BINARY.has(String(record.encoding)) && typeof record.data === 'string'
    const keys = Object.keys(record).sort()
    hash.update(`{${keys.length}:`)
    for (const key of keys) {
      hash.update(`${JSON.stringify(key)}=`)
      // base64 and raw bytes of a binary value hash alike (a JSON retry of a multipart request)
      feed(hash, binary && key === 'data' ? base64ToBytes(record.data as string) : record[key], digests)
    }
    hash.update('}')
    return
  }
  hash.update(`${JSON.stringify(value ?? null)};`)
}

/**
 * The SHA-256 of a request's inputs (names, types, encodings, metadata and every payload byte), used to
 * notice an Idempotency-Key reused for a different request. Key order does not matter, and the same
 * request sent as JSON (base64) or as multipart (bytes) gives the same fingerprint. Only computed for
 * requests that carry an Idempotency-Key; spooled payloads are read back from disk for it, so a new job
 * does not wait for it (the worker compares it only when the key comes again).
 */
export async function fingerprint(inputs: Record<string, EncodedValue>): Promise<string> {
  const files = [...spooledIn(inputs, new Set())]
  const digests = new Map(await Promise.all(files.map(async (file) => [file, await file.sha256()] as const)))
  const hash = createHash('sha256')
  feed(hash, inputs, digests)
  return hash.digest('hex')
}

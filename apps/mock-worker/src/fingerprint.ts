import { createHash, type Hash } from 'node:crypto'
import { closeSync, openSync, readSync } from 'node:fs'
import { base64ToBytes, type EncodedValue } from '@comfy-remote/protocol'
import { type FileBytes, isFileBytes } from './spool/file-bytes.js'

const BINARY = new Set(['npy', 'png', 'file'])

/** Hashes a spooled file as its bytes (same fingerprint as the bytes in memory), 1 MiB at a time. */
function feedFile(hash: Hash, file: FileBytes): void {
  hash.update(`b${file.size}:`)
  const buffer = Buffer.allocUnsafe(1024 * 1024)
  const fd = openSync(file.path, 'r')
  try {
    for (let read = readSync(fd, buffer); read > 0; read = readSync(fd, buffer))
      hash.update(buffer.subarray(0, read))
  } finally {
    closeSync(fd)
  }
}

/** Feeds one value into the hash: metadata as canonical JSON, payload bytes as bytes. */
function feed(hash: Hash, value: unknown): void {
  if (isFileBytes(value)) {
    feedFile(hash, value)
    return
  }
  if (value instanceof Uint8Array) {
    hash.update(`b${value.byteLength}:`)
    hash.update(value)
    return
  }
  if (Array.isArray(value)) {
    hash.update(`[${value.length}:`)
    for (const item of value) feed(hash, item)
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
      feed(hash, binary && key === 'data' ? base64ToBytes(record.data as string) : record[key])
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
 * requests that carry an Idempotency-Key.
 */
export function fingerprint(inputs: Record<string, EncodedValue>): string {
  const hash = createHash('sha256')
  feed(hash, inputs)
  return hash.digest('hex')
}

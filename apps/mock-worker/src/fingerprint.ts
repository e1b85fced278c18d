import { createHash, type Hash } from 'node:crypto'
import { closeSync, openSync, readSync } from 'node:fs'
import { base64ToBytes, type EncodedValue } from '@comfy-remote/protocol'
import { type FileBytes, isFileBytes } from './spool/file-bytes.js'

const BINARY = new Set(['npy', 'png', 'file'])

/** SHA-256 of a spooled file's bytes: the one computed while it was spooled, else read 1 MiB at a time. */
function fileDigest(file: FileBytes): string {
  if (file.sha256 !== undefined) return file.sha256
  const hash = createHash('sha256')
  const buffer = Buffer.allocUnsafe(1024 * 1024)
  const fd = openSync(file.path, 'r')
  try {
    for (let read = readSync(fd, buffer); read > 0; read = readSync(fd, buffer))
      hash.update(buffer.subarray(0, read))
  } finally {
    closeSync(fd)
  }
  return hash.digest('hex')
}

/** A payload enters the fingerprint as its size and SHA-256, whether it is in memory or spooled. */
function feedBytes(hash: Hash, size: number, sha256: string): void {
  hash.update(`b${size}:${sha256};`)
}

/** Feeds one value into the hash: metadata as canonical JSON, payload bytes as bytes. */
function feed(hash: Hash, value: unknown): void {
  if (isFileBytes(value)) {
    feedBytes(hash, value.size, fileDigest(value))
    return
  }
  if (value instanceof Uint8Array) {
    feedBytes(hash, value.byteLength, createHash('sha256').update(value).digest('hex'))
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

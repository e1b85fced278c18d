import { createHash, type Hash } from 'node:crypto'
import { base64ToBytes, type EncodedValue } from '@comfy-remote/protocol'

const BINARY = new Set(['npy', 'png', 'file'])

/** Feeds one value into the hash: metadata as canonical JSON, payload bytes as bytes. */
function feed(hash: Hash, value: unknown): void {
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

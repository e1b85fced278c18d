import { createHash } from 'node:crypto'
import { base64ToBytes, type EncodedValue } from '@comfy-remote/protocol'
import { type FileBytes, isFileBytes } from './spool/file-bytes.js'

const BINARY = new Set(['npy', 'png', 'file'])

/** A request's fingerprint: computed on first call (then remembered), to compare with a reused key. */
export type Fingerprint = () => Promise<string>

type Token = string | FileBytes

/** A payload in memory enters the fingerprint as its size and SHA-256 (spooled ones the same, later). */
const bytesToken = (size: number, sha256: string): string => `b${size}:${sha256};`

/** The canonical text of a value, with each spooled payload left as a token to digest later. */
function tokenize(value: unknown, out: Token[]): void {
  if (isFileBytes(value)) {
    out.push(value)
    return
  }
  if (value instanceof Uint8Array) {
    out.push(bytesToken(value.byteLength, createHash('sha256').update(value).digest('hex')))
    return
  }
  if (Array.isArray(value)) {
    out.push(`[${value.length}:`)
    for (const item of value) tokenize(item, out)
    out.push(']')
    return
  }
  if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>
    const binary = BINARY.has(String(record.encoding)) && typeof record.data === 'string'
    const keys = Object.keys(record).sort()
    out.push(`{${keys.length}:`)
    for (const key of keys) {
      out.push(`${JSON.stringify(key)}=`)
      // base64 and raw bytes of a binary value hash alike (a JSON retry of a multipart request)
      tokenize(binary && key === 'data' ? base64ToBytes(record.data as string) : record[key], out)
    }
    out.push('}')
    return
  }
  out.push(`${JSON.stringify(value ?? null)};`)
}

/**
 * The SHA-256 of a request's inputs (names, types, encodings, metadata and every payload byte), used to
 * notice an Idempotency-Key reused for a different request. Key order does not matter, and the same
 * request sent as JSON (base64) or as multipart (bytes) gives the same fingerprint. Only taken for
 * requests that carry an Idempotency-Key. Payloads in memory are digested now (the request's buffers are
 * not kept); spooled ones are read back from the job's spool only when the key comes again (the spool
 * lives as long as the job that key finds), so a new job never waits for, nor competes with, that read.
 */
export function fingerprint(inputs: Record<string, EncodedValue>): Fingerprint {
  const tokens: Token[] = []
  tokenize(inputs, tokens)
  let result: Promise<string> | undefined
  return () => {
    result ??= (async () => {
      const hash = createHash('sha256')
      for (const token of tokens)
        hash.update(typeof token === 'string' ? token : bytesToken(token.size, await token.sha256()))
      return hash.digest('hex')
    })()
    return result
  }
}

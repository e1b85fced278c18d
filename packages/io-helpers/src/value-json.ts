import type { EncodedValue } from './types.js'
import { isRecord } from './types.js'

/** Why `value` is not an encoded value, or undefined when it is one. */
export function encodedValueProblem(value: unknown): string | undefined {
  if (!isRecord(value)) return 'expected an encoded value object {type, encoding, data}'
  if (typeof value.type !== 'string' || value.type === '')
    return '"type" must be a non-empty string (use "*" when unknown)'
  if (typeof value.encoding !== 'string' || value.encoding === '')
    return '"encoding" must be a string such as "json" or "npy"'
  if (!('data' in value) && typeof value.ref !== 'string') return 'needs "data" (or "ref")'
  return undefined
}

function replaceBytes(value: unknown): unknown {
  if (value instanceof Uint8Array)
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64')
  if (Array.isArray(value)) return value.map(replaceBytes)
  if (isRecord(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, replaceBytes(v)]))
  return value
}

/**
 * JSON text of one encoded value, as a Remote Input's `payload` input holds it. Binary `data`
 * (`Uint8Array`, in memory or after a multipart decode) is written as base64, nested values too.
 */
export function encodedValueToJson(value: EncodedValue): string {
  return JSON.stringify(replaceBytes(value))
}

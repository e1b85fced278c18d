import type { EncodedValue } from '@comfy-remote/protocol'

/** Byte length a value's data stands for (base64 strings counted as their decoded size). */
function size(value: EncodedValue): string {
  const data = value.data
  if (data instanceof Uint8Array) return `b${data.byteLength}`
  if (typeof data === 'string' && (value.encoding === 'npy' || value.encoding === 'png')) {
    const padding = data.endsWith('==') ? 2 : data.endsWith('=') ? 1 : 0
    return `b${Math.floor((data.length * 3) / 4) - padding}`
  }
  if (value.encoding === 'object' || value.encoding === 'list') {
    const items = Object.entries((data ?? {}) as Record<string, EncodedValue>)
    return `{${items.map(([k, v]) => `${k}:${typeof v === 'object' && v !== null ? fingerprintValue(v) : '?'}`).join(',')}}`
  }
  return `j${JSON.stringify(data ?? null).length}`
}

function fingerprintValue(value: EncodedValue): string {
  return `${value.type}/${value.encoding}/${size(value)}`
}

/**
 * A cheap summary of a request's inputs (names, types, encodings, sizes; no hashing of payloads), used
 * to notice an Idempotency-Key reused for a different request. The same request sent as JSON or as
 * multipart gives the same fingerprint.
 */
export function fingerprint(inputs: Record<string, EncodedValue>): string {
  return Object.keys(inputs)
    .sort()
    .map((name) => `${name}=${fingerprintValue(inputs[name] as EncodedValue)}`)
    .join(';')
}

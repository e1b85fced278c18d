import { isRecord } from '../types.js'

/**
 * A JSON text with object keys sorted, so equal values give equal strings whatever their key order
 * (cache signatures, matching a prompt against the recorded runs).
 */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`
  if (isRecord(value)) {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`)
      .join(',')}}`
  }
  return JSON.stringify(value) ?? 'null'
}

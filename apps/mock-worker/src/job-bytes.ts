import type { EncodedValue } from '@comfy-remote/protocol'

/**
 * Bytes of payload data a value holds in memory: a Uint8Array's length, a base64 string's length
 * (npy/png sent as JSON), nested object/list items summed. JSON scalars count 0: they are small and
 * the budget is about images, latents and masks.
 */
export function valueBytes(value: EncodedValue): number {
  const data = value.data
  if (data instanceof Uint8Array) return data.byteLength
  if (typeof data === 'string') return value.encoding === 'npy' || value.encoding === 'png' ? data.length : 0
  if (
    (value.encoding === 'object' || value.encoding === 'list') &&
    typeof data === 'object' &&
    data !== null
  ) {
    return valuesBytes(data as Record<string, EncodedValue>)
  }
  return 0
}

/** Sum of `valueBytes` over a record of values (request inputs or job outputs). */
export function valuesBytes(values: Record<string, EncodedValue> | undefined): number {
  if (values === undefined) return 0
  let total = 0
  for (const value of Object.values(values)) {
    if (typeof value === 'object' && value !== null) total += valueBytes(value)
  }
  return total
}

/** Small helpers shared by the lenient readers. */

export type Dict = Record<string, unknown>

export function isDict(value: unknown): value is Dict {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !ArrayBuffer.isView(value)
}

/** A finite number, or a string that is exactly a finite number; else undefined. */
export function toFiniteNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value)
    return Number.isFinite(n) ? n : undefined
  }
  return undefined
}

/** The first value under `keys` that is a non-empty (after trim) string. */
export function firstText(obj: Dict, keys: readonly string[]): string | undefined {
  for (const key of keys) {
    const v = obj[key]
    if (typeof v === 'string' && v.trim() !== '') return v
  }
  return undefined
}

/** The first value under `keys` that is a finite number (numeric strings count). */
export function firstNumber(obj: Dict, keys: readonly string[]): number | undefined {
  for (const key of keys) {
    const n = toFiniteNumber(obj[key])
    if (n !== undefined) return n
  }
  return undefined
}

/** Sets an own enumerable property, even for keys like `__proto__` that come from untrusted JSON. */
export function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true })
}

export function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (value instanceof Uint8Array) return 'bytes'
  return typeof value
}

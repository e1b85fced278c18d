import { expect } from 'vitest'
import { bitsToFloat32, isNdArray, type NdArray } from '../src/index.js'

export interface Expected {
  kind: 'json' | 'ndarray' | 'object' | 'list' | 'error'
  value?: unknown
  dtype?: string
  shape?: number[]
  values?: unknown[]
  tolerance?: number
  items?: Record<string, Expected> | Expected[]
  code?: string
}

/** Flat JSON form of an NdArray's data, matching vectors.json (int64 as strings, bool as booleans). */
export function flatValues(array: NdArray): unknown[] {
  const out: unknown[] = []
  for (const v of array.data as Iterable<number | bigint>) {
    if (typeof v === 'bigint') out.push(String(v))
    else if (array.dtype === 'bool') out.push(v !== 0)
    else out.push(v)
  }
  return out
}

/** Asserts that `actual` (a decodeValue result) matches an `expected` description of vectors.json. */
export function expectDecoded(actual: unknown, expected: Expected, path = 'value'): void {
  switch (expected.kind) {
    case 'json':
      expect(actual, path).toEqual(expected.value)
      return
    case 'ndarray': {
      expect(isNdArray(actual), `${path} is an NdArray`).toBe(true)
      const array = actual as NdArray
      expect(array.dtype, `${path}.dtype`).toBe(expected.dtype)
      expect(array.shape, `${path}.shape`).toEqual(expected.shape)
      const got = flatValues(array)
      if (expected.tolerance === undefined) expect(got, `${path}.values`).toEqual(expected.values)
      else {
        expect(got.length).toBe(expected.values?.length)
        got.forEach((v, i) => {
          const diff = Math.abs((v as number) - (expected.values?.[i] as number))
          expect(diff, `${path}.values[${i}]`).toBeLessThanOrEqual(expected.tolerance!)
        })
      }
      return
    }
    case 'object': {
      const items = expected.items as Record<string, Expected>
      expect(Object.keys(actual as object).sort(), `${path} keys`).toEqual(Object.keys(items).sort())
      for (const [k, e] of Object.entries(items))
        expectDecoded((actual as Record<string, unknown>)[k], e, `${path}.${k}`)
      return
    }
    case 'list': {
      const items = expected.items as Expected[]
      expect(Array.isArray(actual), `${path} is a list`).toBe(true)
      expect((actual as unknown[]).length).toBe(items.length)
      items.forEach((e, i) => {
        expectDecoded((actual as unknown[])[i], e, `${path}[${i}]`)
      })
      return
    }
    default:
      throw new Error(`unexpected kind ${expected.kind}`)
  }
}

export { bitsToFloat32 }

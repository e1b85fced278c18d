import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  bitsToFloat32,
  decodeMultipart,
  decodeNpy,
  decodeValue,
  encodeMultipart,
  encodeNpy,
  encodeValue,
  type NdArray,
  serializeJson,
} from '../src/index.js'
import { codeOf } from './error-code.js'
import { type Expected, expectDecoded, flatValues } from './expect-decoded.js'

const dir = join(import.meta.dirname, '..', 'vectors')
const manifest = JSON.parse(readFileSync(join(dir, 'vectors.json'), 'utf8')) as {
  npy: {
    name: string
    file: string
    dtype: string
    shape: number[]
    values: unknown[]
    bits?: number[]
    view?: string
    view_values?: number[]
  }[]
  npy_reject: { name: string; file: string; code: string }[]
  values: { name: string; encoded: Record<string, unknown>; expected: Expected }[]
  values_reject: { name: string; encoded: unknown; code: string }[]
}
const read = (file: string) => new Uint8Array(readFileSync(join(dir, file)))

describe('npy vectors written by NumPy', () => {
  it('the manifest covers every required dtype and shape class', () => {
    const dtypes = new Set(manifest.npy.map((v) => v.view ?? v.dtype))
    for (const d of ['float32', 'float16', 'bfloat16', 'uint8', 'int32', 'int64', 'bool'])
      expect(dtypes).toContain(d)
    const ranks = new Set(manifest.npy.map((v) => v.shape.length))
    for (const r of [0, 1, 4]) expect(ranks).toContain(r)
  })

  it.each(manifest.npy)('decodes $name', (v) => {
    const array = decodeNpy(read(v.file))
    expect(array.dtype).toBe(v.dtype)
    expect(array.shape).toEqual(v.shape)
    if (v.bits) expect(Array.from(array.data as Uint16Array)).toEqual(v.bits)
    expect(
      flatValues(array).map((x, i) =>
        v.dtype === 'float16' ? Number(bitsToFloat32(array.data as Uint16Array, 'float16')[i]) : x,
      ),
    ).toEqual(v.values)
    if (v.view === 'bfloat16')
      expect(Array.from(bitsToFloat32(array.data as Uint16Array, 'bfloat16'))).toEqual(v.view_values)
  })

  it.each(manifest.npy)('re-encodes $name to bytes NumPy reads the same way', (v) => {
    const array = decodeNpy(read(v.file))
    const again = decodeNpy(encodeNpy(array))
    expect(again.dtype).toBe(array.dtype)
    expect(again.shape).toEqual(array.shape)
    expect(flatValues(again)).toEqual(flatValues(array))
  })

  it.each(manifest.npy_reject)('rejects $name with $code', (v) => {
    expect(codeOf(() => decodeNpy(read(v.file)))).toBe(v.code)
  })
})

describe('encoded value vectors', () => {
  it('cover every encoding', () => {
    const encodings = new Set(manifest.values.map((v) => v.encoded.encoding))
    for (const e of ['json', 'npy', 'png', 'object', 'list', 'identity', 'base64+pickle'])
      expect(encodings).toContain(e)
  })

  it.each(manifest.values)('decodes $name', (v) => {
    if (v.expected.kind === 'error') expect(codeOf(() => decodeValue(v.encoded))).toBe(v.expected.code)
    else expectDecoded(decodeValue(v.encoded), v.expected)
  })

  it.each(manifest.values.filter((v) => v.expected.kind !== 'error'))(
    '$name survives multipart and JSON',
    (v) => {
      const { body, contentType } = encodeMultipart({ value: v.encoded }, { inlineThreshold: 0 })
      const viaMultipart = decodeMultipart(body, contentType) as { value: unknown }
      expectDecoded(decodeValue(viaMultipart.value), v.expected)
      expectDecoded(decodeValue(JSON.parse(serializeJson(viaMultipart.value))), v.expected)
    },
  )

  it.each(manifest.values.filter((v) => v.expected.kind === 'ndarray' && v.encoded.encoding === 'npy'))(
    're-encodes $name',
    (v) => {
      const decoded = decodeValue(v.encoded) as NdArray
      expectDecoded(decodeValue(encodeValue(decoded, { type: String(v.encoded.type) })), v.expected)
    },
  )

  it.each(manifest.values_reject)('rejects $name with $code', (v) => {
    expect(codeOf(() => decodeValue(v.encoded))).toBe(v.code)
  })
})

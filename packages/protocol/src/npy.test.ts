import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { codeOf } from '../test/error-code.js'
import { DTYPES, decodeNpy, encodeNpy, type NdArray, NPY_MAX_HEADER_BYTES } from './index.js'
import { parseNpyHeader } from './npy-header.js'

function npyWithHeader(header: string, payload = new Uint8Array(0), major = 1): Uint8Array {
  const text = new TextEncoder().encode(header)
  const pre = major === 1 ? 10 : 12
  const out = new Uint8Array(pre + text.length + payload.length)
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0])
  const view = new DataView(out.buffer)
  if (major === 1) view.setUint16(8, text.length, true)
  else view.setUint32(8, text.length, true)
  out.set(text, pre)
  out.set(payload, pre + text.length)
  return out
}

describe('encodeNpy / decodeNpy', () => {
  it.each(Object.keys(DTYPES))('round-trips %s', (dtype) => {
    const info = DTYPES[dtype]!
    const data = new info.ctor(new ArrayBuffer(6 * info.size), 0, 6)
    for (let i = 0; i < 6; i++)
      (data as unknown as (number | bigint)[])[i] = typeof data[0] === 'bigint' ? BigInt(i) : i % 2
    const array: NdArray = { dtype, shape: [2, 3], data }
    const bytes = encodeNpy(array)
    expect(bytes.length % 64).toBe((6 * info.size) % 64)
    const back = decodeNpy(bytes)
    expect(back.dtype).toBe(dtype)
    expect(back.shape).toEqual([2, 3])
    expect(Array.from(back.data as ArrayLike<number>)).toEqual(Array.from(data as ArrayLike<number>))
  })

  it('writes a header numpy accepts (dict literal, 64-byte aligned, newline)', () => {
    const bytes = encodeNpy({ dtype: 'float32', shape: [3], data: new Float32Array(3) })
    const headerLen = new DataView(bytes.buffer).getUint16(8, true)
    expect((10 + headerLen) % 64).toBe(0)
    const text = new TextDecoder('latin1').decode(bytes.subarray(10, 10 + headerLen))
    expect(text).toMatch(/^\{'descr': '<f4', 'fortran_order': False, 'shape': \(3,\), \} *\n$/)
  })

  it('returns a view into aligned input and a copy for unaligned input', () => {
    const bytes = encodeNpy({ dtype: 'float32', shape: [2], data: new Float32Array([1, 2]) })
    expect(decodeNpy(bytes).data.buffer).toBe(bytes.buffer)
    const shifted = new Uint8Array(bytes.length + 1)
    shifted.set(bytes, 1)
    const view = shifted.subarray(1)
    const decoded = decodeNpy(view)
    expect(decoded.data.buffer).not.toBe(shifted.buffer)
    expect(Array.from(decoded.data as Float32Array)).toEqual([1, 2])
  })

  it('reads 0-d arrays and empty arrays', () => {
    expect(decodeNpy(encodeNpy({ dtype: 'int32', shape: [], data: new Int32Array([7]) }))).toMatchObject({
      shape: [],
    })
    expect(decodeNpy(encodeNpy({ dtype: 'int32', shape: [0, 4], data: new Int32Array(0) })).shape).toEqual([
      0, 4,
    ])
  })

  it.each([
    ['bad magic', new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]), 'NPY_BAD_HEADER'],
    ['too short', new Uint8Array([0x93]), 'NPY_BAD_HEADER'],
    [
      'version 4',
      npyWithHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", new Uint8Array(4), 4),
      'NPY_BAD_HEADER',
    ],
    ['header cut off', npyWithHeader("{'descr': '<f4'").subarray(0, 12), 'NPY_TRUNCATED'],
    ['header without shape', npyWithHeader("{'descr': '<f4', 'fortran_order': False}"), 'NPY_BAD_HEADER'],
    [
      'non-integer shape',
      npyWithHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (a,), }"),
      'NPY_BAD_HEADER',
    ],
    [
      'fortran 2-d',
      npyWithHeader("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", new Uint8Array(16)),
      'NPY_FORTRAN_ORDER',
    ],
    [
      'big-endian',
      npyWithHeader("{'descr': '>i4', 'fortran_order': False, 'shape': (1,), }", new Uint8Array(4)),
      'NPY_BIG_ENDIAN',
    ],
    [
      'object dtype',
      npyWithHeader("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }"),
      'NPY_UNSUPPORTED_DTYPE',
    ],
    [
      'complex',
      npyWithHeader("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }"),
      'NPY_UNSUPPORTED_DTYPE',
    ],
    [
      'structured',
      npyWithHeader("{'descr': [('x', '<f4')], 'fortran_order': False, 'shape': (1,), }"),
      'NPY_UNSUPPORTED_DTYPE',
    ],
    [
      'truncated data',
      npyWithHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", new Uint8Array(15)),
      'NPY_TRUNCATED',
    ],
    ['v2 truncated length', npyWithHeader('', new Uint8Array(0), 2).subarray(0, 11), 'NPY_TRUNCATED'],
    [
      'huge shape',
      npyWithHeader("{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999, 99999999999), }"),
      'NPY_TRUNCATED',
    ],
  ])('decode rejects %s', (_name, bytes, code) => expect(codeOf(() => decodeNpy(bytes))).toBe(code))

  it('accepts a big-endian marker on 1-byte types', () => {
    const bytes = npyWithHeader(
      "{'descr': '>u1', 'fortran_order': False, 'shape': (2,), }",
      new Uint8Array([1, 2]),
    )
    expect(Array.from(decodeNpy(bytes).data as Uint8Array)).toEqual([1, 2])
  })

  it.each([
    ['unknown dtype', { dtype: 'complex64', shape: [1], data: new Float32Array(2) }, 'NPY_UNSUPPORTED_DTYPE'],
    ['size mismatch', { dtype: 'float32', shape: [2, 2], data: new Float32Array(3) }, 'NPY_SHAPE_MISMATCH'],
    ['negative dim', { dtype: 'float32', shape: [-1], data: new Float32Array(0) }, 'NPY_SHAPE_MISMATCH'],
    ['data not typed', { dtype: 'float32', shape: [1], data: [1] }, 'NPY_SHAPE_MISMATCH'],
  ])('encode rejects %s', (_name, array, code) =>
    expect(codeOf(() => encodeNpy(array as unknown as NdArray))).toBe(code),
  )
})

// Issue 14 defect 4: the `'shape'` regex rescanned the header from every `'shape'`, so a 320 KB header
// took 3.9 s and a 3.2 MB one minutes (a hostile endpoint could hang `decodeValue`).
describe('npy header: quadratic regex (defect 4)', () => {
  const prefix = "{'descr': '<f4', 'fortran_order': False, "

  it('refuses a header over NPY_MAX_HEADER_BYTES before reading it', () => {
    const padded = `${prefix}'shape': (1,), }${' '.repeat(NPY_MAX_HEADER_BYTES)}\n`
    const bytes = npyWithHeader(padded, new Uint8Array(4), 2)
    expect(codeOf(() => decodeNpy(bytes))).toBe('NPY_BAD_HEADER')
    expect(() => decodeNpy(bytes)).toThrow(/over the 65536-byte limit/)
  })

  it('rejects a hostile header of repeated unterminated shapes in one pass', () => {
    const hostile = prefix + "'shape': (1,".repeat(Math.floor((NPY_MAX_HEADER_BYTES - 100) / 12))
    expect(codeOf(() => decodeNpy(npyWithHeader(hostile, new Uint8Array(0), 2)))).toBe('NPY_BAD_HEADER')
  })

  it('parses what numpy writes, in any key order and spacing', () => {
    const dims = fc.array(fc.nat({ max: 10_000 }), { maxLength: 8 })
    const space = fc.constantFrom('', ' ', '  ', '\t')
    fc.assert(
      fc.property(dims, space, fc.boolean(), fc.boolean(), (shape, sp, trailing, reorder) => {
        const tuple = `(${shape.join(`,${sp}`)}${shape.length === 1 ? ',' : ''})`
        const entries = [`'descr':${sp}'<f4'`, `'fortran_order':${sp}False`, `'shape':${sp}${tuple}`]
        if (reorder) entries.reverse()
        const text = `{${sp}${entries.join(`,${sp}`)}${trailing ? ', ' : ''}}${sp}\n`
        expect(parseNpyHeader(text)).toEqual({ descr: '<f4', fortran: false, shape })
      }),
    )
  })
})

import { describe, expect, it } from 'vitest'
import { valueBytes, valuesBytes } from './job-bytes.js'

describe('valueBytes', () => {
  it('counts binary data, base64 text and nested values; JSON scalars count 0', () => {
    expect(valueBytes({ type: 'IMAGE', encoding: 'npy', data: new Uint8Array(12) })).toBe(12)
    expect(valueBytes({ type: 'IMAGE', encoding: 'png', data: 'AAAA' })).toBe(4)
    expect(valueBytes({ type: 'STRING', encoding: 'json', data: 'a long string' })).toBe(0)
    expect(valueBytes({ type: 'INT', encoding: 'json', data: 3 })).toBe(0)
    const nested = {
      type: 'DICT',
      encoding: 'object',
      data: {
        a: { type: 'MASK', encoding: 'npy', data: new Uint8Array(5) },
        b: { type: 'INT', encoding: 'json', data: 1 },
      },
    }
    expect(valueBytes(nested as never)).toBe(5)
    expect(
      valuesBytes({ x: nested as never, y: { type: 'IMAGE', encoding: 'npy', data: new Uint8Array(7) } }),
    ).toBe(12)
    expect(valuesBytes(undefined)).toBe(0)
  })
})

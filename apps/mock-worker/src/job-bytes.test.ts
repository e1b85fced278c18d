import { describe, expect, it } from 'vitest'
import { heldBytes, valueBytes, valuesBytes } from './job-bytes.js'
import { FileBytes } from './spool/file-bytes.js'

describe('valueBytes', () => {
  it('counts binary data, base64 text and nested values', () => {
    expect(valueBytes({ type: 'IMAGE', encoding: 'npy', data: new Uint8Array(12) })).toBe(12)
    expect(valueBytes({ type: 'IMAGE', encoding: 'png', data: 'AAAA' })).toBe(4)
    const nested = {
      type: 'DICT',
      encoding: 'object',
      data: {
        a: { type: 'MASK', encoding: 'npy', data: new Uint8Array(5000) },
        b: { type: 'INT', encoding: 'json', data: 1 },
      },
    }
    expect(valueBytes(nested as never)).toBeGreaterThanOrEqual(5000)
    expect(valueBytes(nested as never)).toBeLessThan(5100)
    expect(valuesBytes(undefined)).toBe(0)
  })

  // issue 14 defect 1: json, identity, list and base64+pickle values counted 0 before
  it('worker memory budget bypass: counts json, identity, list and pickle payloads at their real size', () => {
    const big = 'x'.repeat(1_000_000)
    for (const encoding of ['json', 'identity', 'base64+pickle']) {
      expect(valueBytes({ type: 'STRING', encoding, data: big } as never)).toBe(1_000_000)
    }
    const numbers = Array.from({ length: 100_000 }, (_, i) => i)
    expect(valueBytes({ type: 'LIST', encoding: 'json', data: numbers } as never)).toBeGreaterThanOrEqual(
      800_000,
    )
    const list = {
      type: 'LIST',
      encoding: 'list',
      data: [{ type: 'STRING', encoding: 'json', data: big }],
    }
    expect(valueBytes(list as never)).toBeGreaterThanOrEqual(1_000_000)
  })

  it('counts spooled files as disk bytes, not memory', () => {
    const held = heldBytes({ type: 'IMAGE', encoding: 'npy', data: new FileBytes('/nonexistent', 123_456) })
    expect(held.disk).toBe(123_456)
    expect(held.memory).toBeLessThan(100)
  })

  it('walks deep nesting without recursion', () => {
    let deep: unknown = 1
    for (let i = 0; i < 100_000; i++) deep = [deep]
    expect(heldBytes(deep).memory).toBeGreaterThan(100_000)
  })
})

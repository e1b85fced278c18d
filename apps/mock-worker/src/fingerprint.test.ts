import { bytesToBase64 } from '@comfy-remote/protocol'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { fingerprint } from './fingerprint.js'

describe('fingerprint', () => {
  it('is the same for bytes and their base64 form (JSON vs multipart retries)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const raw = fingerprint({ image: { type: 'IMAGE', encoding: 'npy', data: bytes } })
        const b64 = fingerprint({ image: { type: 'IMAGE', encoding: 'npy', data: bytesToBase64(bytes) } })
        expect(b64).toBe(raw)
      }),
    )
  })

  it('ignores key order and notices different names, types, encodings and sizes', () => {
    const a = { type: 'STRING', encoding: 'json' as const, data: 'ab' }
    const b = { type: 'INT', encoding: 'json' as const, data: 5 }
    expect(fingerprint({ a, b })).toBe(fingerprint({ b, a }))
    expect(fingerprint({ a })).not.toBe(fingerprint({ x: a }))
    expect(fingerprint({ a })).not.toBe(fingerprint({ a: { ...a, type: 'TEXT' } }))
    expect(fingerprint({ a })).not.toBe(fingerprint({ a: { ...a, data: 'abc' } }))
  })
})

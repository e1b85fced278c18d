import { describe, expect, it } from 'vitest'
import { FileBytes } from './spool/file-bytes.js'
import { JSON_CACHE_MAX_VALUE_BYTES, jsonCacheable } from './transport.js'

describe('jsonCacheable', () => {
  it('caches envelopes without values or with small ones, not large results', () => {
    const env = (bytes: number) => ({
      status: 'completed' as const,
      outputs: { image: { type: 'IMAGE', encoding: 'npy' as const, data: new Uint8Array(bytes) } },
    })
    expect(jsonCacheable({ status: 'running' })).toBe(true)
    expect(jsonCacheable(env(JSON_CACHE_MAX_VALUE_BYTES))).toBe(true)
    expect(jsonCacheable(env(JSON_CACHE_MAX_VALUE_BYTES + 1))).toBe(false)
    const spooled = {
      status: 'completed' as const,
      outputs: {
        image: { type: 'IMAGE', encoding: 'npy' as const, data: new FileBytes('/x', 10 * 1024 * 1024) },
      },
    }
    expect(jsonCacheable(spooled)).toBe(false) // its base64 text would hold the file in memory
  })
})

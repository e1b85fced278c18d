import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { bytesToBase64 } from '@comfy-remote/protocol'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { fingerprint } from './fingerprint.js'
import { FileBytes } from './spool/file-bytes.js'
import { SpoolRoot } from './spool/spool.js'

describe('fingerprint', () => {
  it('is the same for bytes and their base64 form (JSON vs multipart retries)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), async (bytes) => {
        const raw = await fingerprint({ image: { type: 'IMAGE', encoding: 'npy', data: bytes } })()
        const b64 = await fingerprint({
          image: { type: 'IMAGE', encoding: 'npy', data: bytesToBase64(bytes) },
        })()
        expect(b64).toBe(raw)
      }),
    )
  })

  it('ignores key order and notices different names, types, encodings and sizes', async () => {
    const a = { type: 'STRING', encoding: 'json' as const, data: 'ab' }
    const b = { type: 'INT', encoding: 'json' as const, data: 5 }
    expect(await fingerprint({ a, b })()).toBe(await fingerprint({ b, a })())
    expect(await fingerprint({ a })()).not.toBe(await fingerprint({ x: a })())
    expect(await fingerprint({ a })()).not.toBe(await fingerprint({ a: { ...a, type: 'TEXT' } })())
    expect(await fingerprint({ a })()).not.toBe(await fingerprint({ a: { ...a, data: 'abc' } })())
  })
})

describe('fingerprint compares full inputs', () => {
  it('notices different JSON data of the same size (a reused Idempotency-Key must answer 409)', async () => {
    const a = { type: 'STRING', encoding: 'json' as const, data: 'cat' }
    expect(await fingerprint({ a })()).not.toBe(await fingerprint({ a: { ...a, data: 'dog' } })())
  })

  it('notices different bytes of the same length', async () => {
    const one = new Uint8Array([1, 2, 3])
    const two = new Uint8Array([1, 2, 4])
    const value = (data: Uint8Array) => ({ image: { type: 'IMAGE', encoding: 'npy' as const, data } })
    expect(await fingerprint(value(one))()).not.toBe(await fingerprint(value(two))())
  })

  it('ignores key order inside composite values', async () => {
    const x = { type: 'INT', encoding: 'json' as const, data: 1 }
    const y = { type: 'INT', encoding: 'json' as const, data: 2 }
    const left = { l: { type: 'LATENT', encoding: 'object' as const, data: { x, y } } }
    const right = { l: { type: 'LATENT', encoding: 'object' as const, data: { y, x } } }
    expect(await fingerprint(left)()).toBe(await fingerprint(right)())
  })
})

describe('fingerprint of spooled payloads', () => {
  it('is the same for bytes in memory and the same bytes spooled, and notices one changed byte', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cr-fp-'))
    const root = new SpoolRoot(dir)
    try {
      const bytes = new Uint8Array(3 * 1024 * 1024 + 17).map((_, i) => (i * 31) & 255)
      const spool = root.create()
      const spooled = await spool.write(
        Readable.from([bytes.subarray(0, 1000), bytes.subarray(1000)]),
        'p',
        [],
      )
      expect(await spooled.sha256()).toMatch(/^[0-9a-f]{64}$/)
      const plain = join(dir, 'plain.bin')
      writeFileSync(plain, bytes)
      const value = (data: unknown) => ({ image: { type: 'IMAGE', encoding: 'npy' as const, data } }) as never
      const inMemory = await fingerprint(value(bytes))()
      expect(await fingerprint(value(spooled))()).toBe(inMemory)
      expect(await fingerprint(value(new FileBytes(plain, bytes.byteLength)))()).toBe(inMemory)
      const other = bytes.slice()
      other[0] = (other[0] ?? 0) ^ 1
      writeFileSync(plain, other)
      expect(await fingerprint(value(new FileBytes(plain, other.byteLength)))()).not.toBe(inMemory)
    } finally {
      root.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

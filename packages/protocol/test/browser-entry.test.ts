import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

const dist = join(import.meta.dirname, '..', 'dist')

describe('main entry runs without Node built-ins', () => {
  it('no dist module imports node: or uses require', () => {
    const files = readdirSync(dist).filter((f) => f.endsWith('.js'))
    expect(files.length).toBeGreaterThan(5)
    for (const f of files) {
      const text = readFileSync(join(dist, f), 'utf8')
      expect(text, f).not.toMatch(/from ['"]node:|import\(['"]node:|require\(/)
    }
  })

  it('works in a process without Buffer (atob/btoa and JS byte search fallbacks)', () => {
    const script = `
      delete globalThis.Buffer
      const p = await import(${JSON.stringify(join(dist, 'index.js'))})
      const a = { dtype: 'float32', shape: [1, 4, 4, 3], data: Float32Array.from({ length: 48 }, (_, i) => i / 48) }
      const ev = p.encodeValue(a, { type: 'IMAGE' })
      const viaJson = p.decodeValue(JSON.parse(p.serializeJson(ev)))
      const bytes = Uint8Array.from({ length: 3000 }, (_, i) => (i * 7) % 256)
      const mp = p.encodeMultipart({ v: { type: '*', encoding: 'npy', data: bytes }, w: ev })
      const back = p.decodeMultipart(mp.body, mp.contentType)
      const png = p.decodeValue(p.encodeValue(a, { type: 'IMAGE', encoding: 'png' }))
      console.log(JSON.stringify({
        buffer: typeof globalThis.Buffer,
        json: Array.from(viaJson.data).every((v, i) => v === a.data[i]),
        multipart: back.v.data.length === 3000 && back.v.data.every((v, i) => v === bytes[i]),
        npy: Array.from(p.decodeValue(back.w).data).every((v, i) => v === a.data[i]),
        png: png.shape.join(','),
        b64: p.bytesToBase64(new Uint8Array([1, 2, 3, 250])),
        b64back: Array.from(p.base64ToBytes('AQID-g')),
      }))
    `
    const out = JSON.parse(
      execFileSync(process.execPath, ['--input-type=module', '-e', script], {
        encoding: 'utf8',
        timeout: 30_000,
      }),
    )
    expect(out).toEqual({
      buffer: 'undefined',
      json: true,
      multipart: true,
      npy: true,
      png: '1,4,4,3',
      b64: 'AQID+g==',
      b64back: [1, 2, 3, 250],
    })
  })
})

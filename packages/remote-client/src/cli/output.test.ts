import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { filesFor, safeName, writeOutputs } from './outputs.js'
import { bar, createProgressView, timingsLine } from './progress.js'

describe('outputs and progress', () => {
  it.each([
    ['image', 'image'],
    ['../../etc/passwd', '__.._etc_passwd'],
    ['a b/c', 'a_b_c'],
    ['', 'output'],
    ['.hidden', '_hidden'],
  ])('safeName(%j) = %j', (name, safe) => {
    expect(safeName(name)).toBe(safe)
  })

  it('writes json values as their data and other encodings as the encoded value', async () => {
    const [text] = await filesFor('/d', 'caption', { type: 'STRING', encoding: 'json', data: 'hi' })
    expect(text).toEqual({ path: '/d/caption.json', bytes: '"hi"\n' })
    const [latent] = await filesFor('/d', 'lat', { type: 'LATENT', encoding: 'object', data: {} })
    expect(JSON.parse(String(latent?.bytes))).toEqual({ type: 'LATENT', encoding: 'object', data: {} })
    const [npy] = await filesFor('/d', 'm', { type: 'MASK', encoding: 'npy', data: 'AAEC' })
    expect(npy?.path).toBe('/d/m.npy')
    expect(Array.from((npy?.bytes ?? new Uint8Array()) as Uint8Array)).toEqual([0, 1, 2])
  })

  it.each([
    ['video/mp4', undefined, 'clip.mp4'],
    ['video/webm; codecs=vp9', undefined, 'clip.webm'],
    ['audio/wav', undefined, 'clip.wav'],
    ['audio/flac', undefined, 'clip.flac'],
    [undefined, 'mesh.GLB', 'clip.glb'],
    [undefined, '../../x', 'clip.bin'],
  ])('writes a file value of mime %s (filename %s) as %s', async (mime, filename, expected) => {
    const value = {
      type: 'FILE',
      encoding: 'file' as const,
      data: 'AAEC',
      ...(mime ? { mime } : {}),
      ...(filename ? { filename } : {}),
    }
    const [file] = await filesFor('/d', 'clip', value)
    expect(file?.path).toBe(`/d/${expected}`)
    expect(Array.from(file?.bytes as Uint8Array)).toEqual([0, 1, 2])
  })

  it('never replaces a file: names that collide (outputs, earlier runs) get -2, -3', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cr-out-'))
    try {
      writeFileSync(join(dir, 'a_b.json'), 'earlier run')
      const written = await writeOutputs(dir, {
        'a b': { type: 'INT', encoding: 'json', data: 1 },
        'a/b': { type: 'INT', encoding: 'json', data: 2 },
        v: { type: 'VIDEO', encoding: 'file', mime: 'video/mp4', data: 'AAEC' },
      })
      expect(written).toEqual([join(dir, 'a_b-2.json'), join(dir, 'a_b-3.json'), join(dir, 'v.mp4')])
      expect(readFileSync(join(dir, 'a_b.json'), 'utf8')).toBe('earlier run')
      expect(readFileSync(join(dir, 'a_b-3.json'), 'utf8')).toBe('2\n')
      // an output the client already streamed into the folder stays where it is
      writeFileSync(join(dir, 'big.npy'), 'npy bytes')
      const kept = await writeOutputs(dir, {
        big: { type: 'LATENT', encoding: 'npy', data: { file: join(dir, 'big.npy') } },
      })
      expect(kept).toEqual([join(dir, 'big.npy')])
      expect(readdirSync(dir).sort()).toEqual(['a_b-2.json', 'a_b-3.json', 'a_b.json', 'big.npy', 'v.mp4'])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('draws a bounded bar and plain lines off a TTY', () => {
    expect(bar({ value: 3, max: 10 })).toBe(`[${'#'.repeat(7)}${'-'.repeat(17)}]  30% 3/10`)
    expect(bar({ value: 5, max: 0 })).toMatch(/^\[-+\] {3}0%/)
    const lines: string[] = []
    const view = createProgressView({ write: (t: string) => lines.push(t) })
    view.status('running', { status: 'running', jobId: 'j1' })
    view.progress({ value: 1, max: 2, message: 'step\u001b[31m' })
    view.done()
    expect(lines).toEqual(['status running job=j1\n', 'progress 1/2 step [31m\n'])
    const tty: string[] = []
    const live = createProgressView({ write: (t: string) => tty.push(t), isTTY: true, columns: 80 })
    live.progress({ value: 1, max: 2 })
    live.progress({ value: 2, max: 2 })
    live.done()
    expect(tty.slice(0, 2).every((t) => t.startsWith('\r\u001b[2K'))).toBe(true)
    expect(tty.at(-1)).toBe('\n')
  })
  it('timings line names a cold start and a snapshot restore', () => {
    const t = { queue_seconds: 0.5, startup_seconds: 3.1372, run_seconds: 2, transfer_seconds: 0.1 }
    expect(timingsLine(t)).toBe('timings: queue 0.5 s, start-up 3.14 s, run 2 s, transfer 0.1 s')
    expect(timingsLine({ ...t, cold_start: false })).toBe(timingsLine(t))
    expect(timingsLine({ ...t, cold_start: true })).toContain('start-up 3.14 s (cold start), run')
    expect(timingsLine({ ...t, cold_start: true, restored_from_snapshot: true })).toContain(
      'start-up 3.14 s (cold start, restored from snapshot), run',
    )
  })
})

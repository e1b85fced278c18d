// The demo path as a user runs it: the comfy-remote CLI (a real process) calls the mock worker (a real
// process) with examples/assets/sample.png and writes the outputs to files.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { decodePng } from '@comfy-remote/protocol'
import { afterAll, describe, expect, it } from 'vitest'
import { type ExampleName, examplesDir } from './support/paths.js'
import { bins, runNode, stopAll } from './support/processes.js'
import { workerUrl } from './support/shared.js'

const sample = join(examplesDir, 'assets', 'sample.png')
const outDir = mkdtempSync(join(tmpdir(), 'comfy-remote-e2e-cli-'))

// The shared echo workers of the global setup.
const urls = { get: (name: ExampleName) => workerUrl('echo', name) }

afterAll(async () => {
  await stopAll()
  rmSync(outDir, { recursive: true, force: true })
})

const pixelsOf = (bytes: Uint8Array) => {
  const image = decodePng(bytes)
  return { shape: image.shape, data: Array.from(image.data as ArrayLike<number>) }
}

describe('comfy-remote CLI against the mock worker', () => {
  it('call image-invert with sample.png writes image.png with the same pixels (echo)', async () => {
    const out = join(outDir, 'invert')
    const result = await runNode(bins.remoteClient, [
      'call',
      urls.get('image-invert')!,
      '--input',
      `image=@${sample}`,
      '--out',
      out,
    ])
    expect(result.stderr).not.toMatch(/error/i)
    expect(result.code).toBe(0)
    expect(readdirSync(out)).toEqual(['image.png'])
    const written = pixelsOf(readFileSync(join(out, 'image.png')))
    expect(written.shape).toEqual([1, 64, 64, 3])
    expect(written).toEqual(pixelsOf(readFileSync(sample)))
  })

  it('call multi-output writes one file per Remote Output', async () => {
    const out = join(outDir, 'multi')
    const args = [
      'call',
      urls.get('multi-output')!,
      '--input',
      `image=@${sample}`,
      '--input',
      'caption=a gradient',
      '--out',
      out,
    ]
    const result = await runNode(bins.remoteClient, args)
    expect(result.code, result.stderr).toBe(0)
    const files = readdirSync(out).sort()
    expect(files.map((f) => f.replace(/\.[a-z]+$/, ''))).toEqual(['caption', 'mask', 'width'])
    expect(files).toContain('caption.json')
    expect(readFileSync(join(out, 'caption.json'), 'utf8')).toContain('a gradient')
  })

  it('schema prints the inputs and outputs', async () => {
    const result = await runNode(bins.remoteClient, ['schema', urls.get('multi-output')!])
    expect(result.code).toBe(0)
    for (const name of ['image', 'caption', 'mask', 'width']) expect(result.stdout).toContain(name)
  })

  it('a missing required input fails with exit 1 and a one-line reason naming it', async () => {
    const result = await runNode(bins.remoteClient, [
      'call',
      urls.get('image-invert')!,
      '--input',
      'other=1',
      '--out',
      join(outDir, 'x'),
    ])
    expect(result.code).toBe(1)
    const lines = result.stderr.trim().split('\n')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(/image|other/)
  })
})

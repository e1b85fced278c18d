import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { describeError } from './errors.js'
import { loadInputValues, outputFileStem, storeOutputValues } from './files.js'

const dirs: string[] = []
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'cr-files-'))
  dirs.push(d)
  return d
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

describe('outputFileStem', () => {
  it.each([
    ['image', 'out-image'],
    ['../../etc/passwd', 'out-__.._etc_passwd'],
    ['a b/c', 'out-a_b_c'],
    ['', 'out-value'],
  ])('%j -> %s', (name, stem) => expect(outputFileStem(name, new Set())).toBe(stem))

  it('never hands out the same stem twice', () => {
    const taken = new Set<string>()
    expect([outputFileStem('x', taken), outputFileStem('x', taken), outputFileStem('x', taken)]).toEqual([
      'out-x',
      'out-x-2',
      'out-x-3',
    ])
  })
})

describe('loadInputValues', () => {
  it('reads file refs, also nested in object/list values, and leaves inline values alone', async () => {
    const work = tmp()
    writeFileSync(join(work, 'a.npy'), Buffer.from([1, 2, 3]))
    writeFileSync(join(work, 'b.npy'), Buffer.from([4]))
    const loaded = await loadInputValues(
      {
        a: { type: 'IMAGE', encoding: 'npy', data: { file: join(work, 'a.npy') } },
        latent: {
          type: 'LATENT',
          encoding: 'object',
          data: { samples: { type: '*', encoding: 'npy', data: { file: join(work, 'b.npy') } } },
        },
        l: { type: '*', encoding: 'list', data: [{ type: 'INT', encoding: 'json', data: 1 }] },
        s: { type: 'STRING', encoding: 'json', data: { file: 'not a ref: json data stays' } },
      },
      work,
    )
    // a Blob that reads the file when the request body streams it (the bridge never holds the payload)
    const a = loaded.a?.data
    expect(a).toBeInstanceOf(Blob)
    expect(Array.from(new Uint8Array(await (a as Blob).arrayBuffer()))).toEqual([1, 2, 3])
    const samples = (loaded.latent?.data as Record<string, { data: Blob }> | undefined)?.samples
    expect(Array.from(new Uint8Array(await samples!.data.arrayBuffer()))).toEqual([4])
    expect(loaded.l).toEqual({
      type: '*',
      encoding: 'list',
      data: [{ type: 'INT', encoding: 'json', data: 1 }],
    })
  })

  it('refuses a symlink inside workDir that points outside it', async () => {
    const work = tmp()
    const outside = join(tmp(), 'secret')
    writeFileSync(outside, 'secret')
    symlinkSync(outside, join(work, 'link.npy'))
    await expect(
      loadInputValues({ a: { encoding: 'npy', data: { file: join(work, 'link.npy') } } }, work),
    ).rejects.toMatchObject({ code: 'FILE_OUTSIDE_WORKDIR' })
  })

  it('refuses relative paths, directories and a missing workDir', async () => {
    const work = tmp()
    mkdirSync(join(work, 'dir'))
    await expect(
      loadInputValues({ a: { encoding: 'npy', data: { file: 'x.npy' } } }, work),
    ).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    })
    await expect(
      loadInputValues({ a: { encoding: 'npy', data: { file: join(work, 'dir') } } }, work),
    ).rejects.toMatchObject({ code: 'FILE_NOT_FOUND' })
    await expect(loadInputValues({}, join(work, 'nope'))).rejects.toMatchObject({ code: 'FILE_NOT_FOUND' })
  })
})

describe('storeOutputValues', () => {
  it('writes binary outputs (base64 or bytes, nested too), reuses the file for an identical result', async () => {
    const work = tmp()
    const bytes = new Uint8Array([9, 8, 7])
    const b64 = Buffer.from([5, 6]).toString('base64')
    const { outputs, result } = await storeOutputValues(
      {
        image: { type: 'IMAGE', encoding: 'npy', data: bytes },
        mask: { type: 'MASK', encoding: 'png', data: b64 },
        audio: {
          type: 'AUDIO',
          encoding: 'object',
          data: {
            waveform: { type: '*', encoding: 'npy', data: b64 },
            sample_rate: { encoding: 'json', data: 44100 },
          },
        },
        text: { type: 'STRING', encoding: 'json', data: 'hi' },
      },
      { type: 'IMAGE', encoding: 'npy', data: bytes },
      work,
    )
    const file = (v: unknown) => ((v as { data: { file: string } }).data as { file: string }).file
    expect(file(outputs.image)).toBe(join(work, 'out-image.npy'))
    expect(file(outputs.mask)).toBe(join(work, 'out-mask.png'))
    const audio = (outputs.audio as { data: Record<string, unknown> }).data
    // Same base64 as the mask: written once, both refer to that file.
    expect(file(audio.waveform)).toBe(join(work, 'out-mask.png'))
    expect(audio.sample_rate).toEqual({ encoding: 'json', data: 44100 })
    expect(outputs.text).toEqual({ type: 'STRING', encoding: 'json', data: 'hi' })
    expect(file(result)).toBe(join(work, 'out-image.npy'))
    expect(Array.from(readFileSync(join(work, 'out-image.npy')))).toEqual([9, 8, 7])
  })

  it('never overwrites an existing file', async () => {
    const work = tmp()
    writeFileSync(join(work, 'out-image.npy'), 'keep')
    const { outputs } = await storeOutputValues(
      { image: { encoding: 'npy', data: new Uint8Array([1]) } },
      null,
      work,
    )
    expect((outputs.image as { data: { file: string } }).data.file).toBe(join(work, 'out-image-2.npy'))
    expect(readFileSync(join(work, 'out-image.npy'), 'utf8')).toBe('keep')
  })
})

describe('describeError', () => {
  it.each([
    [Object.assign(new Error('x'), { code: 'FAILED' }), 'FAILED'],
    [Object.assign(new Error('no space'), { code: 'ENOSPC', syscall: 'write' }), 'IO_ERROR'],
    [Object.assign(new Error('aborted'), { name: 'AbortError' }), 'CANCELLED'],
    [new Error('boom'), 'INTERNAL'],
    ['text', 'INTERNAL'],
  ])('%s -> %s', (error, code) => expect(describeError(error).code).toBe(code))
})

import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isCliError } from '../errors.js'
import { inferType, loadInputs, parseInputSpec } from './inputs.js'

let dir = ''
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cr-inputs-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('--input parsing', () => {
  it.each([
    ['image=@a.png', { name: 'image', file: 'a.png' }],
    ['mask:MASK=@m.npy', { name: 'mask', type: 'MASK', file: 'm.npy' }],
    ['seed=42', { name: 'seed', literal: '42' }],
    ['prompt=a=b', { name: 'prompt', literal: 'a=b' }],
    ['text:string=', { name: 'text', type: 'STRING', literal: '' }],
  ])('%s', (arg, spec) => {
    expect(parseInputSpec(arg)).toEqual(spec)
  })

  it.each(['noequals', '=5', 'x=@', ':INT=3'])('rejects %j with USAGE', (arg) => {
    let error: unknown
    try {
      parseInputSpec(arg)
    } catch (e) {
      error = e
    }
    expect(isCliError(error) && error.code).toBe('USAGE')
  })

  it.each([
    ['s', 'STRING'],
    [3, 'INT'],
    [0.5, 'FLOAT'],
    [true, 'BOOLEAN'],
    [[1], '*'],
  ])('inferType(%j) = %s', (value, type) => {
    expect(inferType(value)).toBe(type)
  })

  it('builds encoded values from literals, files and the schema types', async () => {
    await writeFile(join(dir, 'v.json'), JSON.stringify({ type: 'LATENT', encoding: 'object', data: {} }))
    await writeFile(join(dir, 'plain.json'), JSON.stringify({ a: 1 }))
    await writeFile(join(dir, 't.npy'), new Uint8Array([1, 2, 3]))
    const schema = {
      inputs: [
        { name: 'strength', nodeId: '1', type: 'FLOAT', required: true },
        { name: 't', nodeId: '2', type: 'MASK', required: true },
      ],
      outputs: [],
    }
    const inputs = await loadInputs(
      [
        'strength=1',
        'text:STRING=42',
        'flag=true',
        'words=a cat',
        `v=@${join(dir, 'v.json')}`,
        `p=@${join(dir, 'plain.json')}`,
        `t=@${join(dir, 't.npy')}`,
      ],
      schema,
    )
    expect(inputs.strength).toEqual({ type: 'FLOAT', encoding: 'json', data: 1 })
    expect(inputs.text).toEqual({ type: 'STRING', encoding: 'json', data: '42' })
    expect(inputs.flag).toEqual({ type: 'BOOLEAN', encoding: 'json', data: true })
    expect(inputs.words).toEqual({ type: 'STRING', encoding: 'json', data: 'a cat' })
    expect(inputs.v).toEqual({ type: 'LATENT', encoding: 'object', data: {} })
    expect(inputs.p).toEqual({ type: '*', encoding: 'json', data: { a: 1 } })
    expect(inputs.t).toMatchObject({ type: 'MASK', encoding: 'npy' })
  })

  it.each([
    ['x=@nowhere.png', 'INPUT', /cannot read/],
    ['x=1,x=2', 'USAGE', /twice/],
  ])('%s fails with %s', async (args, code, message) => {
    const error = await loadInputs(
      args.split(',').map((a) => a.replace('nowhere', join(dir, 'nowhere'))),
    ).catch((e: unknown) => e)
    expect(isCliError(error) && error.code).toBe(code)
    expect((error as Error).message).toMatch(message)
  })

  it('rejects unknown file types and bad JSON files', async () => {
    await writeFile(join(dir, 'a.txt'), 'x')
    await writeFile(join(dir, 'bad.json'), '{')
    await expect(loadInputs([`x=@${join(dir, 'a.txt')}`])).rejects.toThrow(/unsupported file type ".txt"/)
    await expect(loadInputs([`x=@${join(dir, 'bad.json')}`])).rejects.toThrow(/not valid JSON/)
  })

  it('sends video, audio and any FILE as `file` values streamed from the file (Blob), typed by the mime', async () => {
    const clip = new Uint8Array(5000).map((_, i) => i % 251)
    await writeFile(join(dir, 'clip.mp4'), clip)
    await writeFile(join(dir, 'voice.FLAC'), new Uint8Array([1, 2]))
    await writeFile(join(dir, 'mesh.bin'), new Uint8Array([3]))
    const inputs = await loadInputs([
      `video=@${join(dir, 'clip.mp4')}`,
      `voice=@${join(dir, 'voice.FLAC')}`,
      `mesh:FILE=@${join(dir, 'mesh.bin')}`,
    ])
    expect(inputs.video).toMatchObject({
      type: 'VIDEO',
      encoding: 'file',
      mime: 'video/mp4',
      filename: 'clip.mp4',
    })
    expect(inputs.video?.data).toBeInstanceOf(Blob)
    expect(Buffer.from(await (inputs.video!.data as Blob).arrayBuffer()).equals(Buffer.from(clip))).toBe(true)
    expect(inputs.voice).toMatchObject({ type: 'AUDIO', encoding: 'file', mime: 'audio/flac' })
    expect(inputs.mesh).toMatchObject({ type: 'FILE', encoding: 'file', mime: 'application/octet-stream' })
  })

  it('sends http(s) URLs of .npy/.png/media files as refs the worker fetches; other URLs and STRINGs stay text', async () => {
    const inputs = await loadInputs([
      'a=https://example.com/x/latent.npy?sig=1',
      'b=https://example.com/photo.png',
      'c=https://cdn.example.com/v/clip.webm',
      'd=https://example.com/page',
      'e:STRING=https://example.com/clip.mp4',
    ])
    expect(inputs.a).toEqual({ type: '*', encoding: 'npy', ref: 'https://example.com/x/latent.npy?sig=1' })
    expect(inputs.b).toEqual({ type: 'IMAGE', encoding: 'png', ref: 'https://example.com/photo.png' })
    expect(inputs.c).toEqual({
      type: 'VIDEO',
      encoding: 'file',
      mime: 'video/webm',
      filename: 'clip.webm',
      ref: 'https://cdn.example.com/v/clip.webm',
    })
    expect(inputs.d).toEqual({ type: 'STRING', encoding: 'json', data: 'https://example.com/page' })
    expect(inputs.e).toEqual({ type: 'STRING', encoding: 'json', data: 'https://example.com/clip.mp4' })
  })
})

import { execFile } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { checkModels, loadProjectConfig, parseModelSpec, scaffoldModalProject } from '../src/index.js'
import { CLI, cleanupTempDirs, FIXTURES, nodePackDir, tempDir } from './helpers.js'

afterAll(cleanupTempDirs)
const workflow = join(FIXTURES, 'echo-prompt.json')
const base = () => ({ workflow, outDir: tempDir(), appName: 'models-app', nodePackDir: nodePackDir() })
const SHA = 'a'.repeat(64)

describe('model entries', () => {
  it('parses "<url>=<path>[@sha256:<hex>]", splitting at the last "="', () => {
    expect(parseModelSpec('https://h.co/x?download=true=checkpoints/x.safetensors')).toEqual({
      url: 'https://h.co/x?download=true',
      path: 'checkpoints/x.safetensors',
    })
    expect(parseModelSpec(`https://h.co/x=loras/a/b.pt@sha256:${SHA}`)).toEqual({
      url: 'https://h.co/x',
      path: 'loras/a/b.pt',
      sha256: SHA,
    })
  })

  it('normalises an upper-case sha256 and keeps entries in order', () => {
    expect(
      checkModels([
        { url: 'https://e.com/a', path: 'vae/a.safetensors', sha256: 'AB'.repeat(32) },
        'https://e.com/b=upscale_models/b.pth',
      ]),
    ).toEqual([
      { url: 'https://e.com/a', path: 'vae/a.safetensors', sha256: 'ab'.repeat(32) },
      { url: 'https://e.com/b', path: 'upscale_models/b.pth' },
    ])
  })

  it.each([
    ['http://e.com/x=checkpoints/x', 'https'],
    ['ftp://e.com/x=checkpoints/x', 'https'],
    ['file:///etc/passwd=checkpoints/x', 'https'],
    ['https://user:pw@e.com/x=checkpoints/x', 'credentials'],
    ['https://e.com/x"); import os #=checkpoints/x', 'https'],
    ['https://e.com/a b=checkpoints/x', 'https'],
    ['https://e.com/x=../x.safetensors', 'path'],
    ['https://e.com/x=checkpoints/../../x', 'path'],
    ['https://e.com/x=/etc/passwd', 'path'],
    ['https://e.com/x=checkpoints//x', 'path'],
    ['https://e.com/x=checkpoints/./x', 'path'],
    ['https://e.com/x=checkpoints\\..\\x', 'path'],
    ['https://e.com/x=C:/x', 'path'],
    ['https://e.com/x=x.safetensors', 'path'],
    ['https://e.com/x=checkpoints/.hidden', 'path'],
    ['https://e.com/x=checkpoints/x\n', 'path'],
    [`https://e.com/x=checkpoints/x@sha256:${'g'.repeat(64)}`, 'sha256'],
    ['https://e.com/x=checkpoints/x@sha256:abc', 'sha256'],
    ['no-equals-sign', 'models[0]'],
    ['https://e.com/x=', 'models[0]'],
  ])('refuses %j before anything is written', async (spec, what) => {
    const opts = { ...base(), models: [spec] }
    const error = await scaffoldModalProject(opts).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'INVALID_OPTIONS', message: expect.stringContaining('models[0]') })
    expect((error as Error).message).toContain(what)
    expect(existsSync(join(opts.outDir, 'models-app'))).toBe(false)
  })

  it.each([
    ['models', 'https://e.com/x=loras/x'],
    ['models', [{ url: 'https://e.com/x', path: 'loras/x', extra: 1 }]],
    ['models', ['https://e.com/a=loras/x', 'https://e.com/b=loras/x']],
    ['models', [null]],
    ['volume', 'a b'],
    ['volume', '../vol'],
    ['volume', 'v'.repeat(64)],
    ['modelsSecret', 'x;rm -rf'],
    ['modelsSecret', 'x"'],
  ])('%s = %j is refused naming the field', async (field, value) => {
    const opts = { ...base(), [field]: value }
    await expect(scaffoldModalProject(opts)).rejects.toMatchObject({
      code: 'INVALID_OPTIONS',
      message: expect.stringContaining(field),
    })
    expect(existsSync(join(opts.outDir, 'models-app'))).toBe(false)
  })

  it('a hand-edited modal_config.json with a hostile model path is refused at deploy time', async () => {
    const result = await scaffoldModalProject({ ...base(), models: ['https://e.com/x=loras/x.safetensors'] })
    const file = join(result.dir, 'modal_config.json')
    const config = JSON.parse(readFileSync(file, 'utf8'))
    config.models[0].path = '../../etc/cron.d/x'
    writeFileSync(file, JSON.stringify(config))
    expect(() => loadProjectConfig(result.dir)).toThrow(/models\.0\.path/)
  })

  it('projects written before models existed still load (no models, no volume)', async () => {
    const result = await scaffoldModalProject(base())
    const file = join(result.dir, 'modal_config.json')
    const config = JSON.parse(readFileSync(file, 'utf8'))
    delete config.models
    delete config.models_secret
    delete config.volume
    writeFileSync(file, JSON.stringify(config))
    expect(loadProjectConfig(result.dir)).toMatchObject({ models: [], models_secret: null, volume: null })
  })
})

describe.runIf(existsSync(CLI))('CLI --model / --models-secret / --volume', () => {
  const run = promisify(execFile)
  it('writes repeatable --model flags into modal_config.json and prints the setup commands', async () => {
    const out = tempDir()
    const { stdout, stderr } = await run(
      'node',
      [
        CLI,
        'scaffold',
        '--workflow',
        workflow,
        '--out',
        out,
        '--app-name',
        'cli-models',
        '--node-pack',
        nodePackDir(),
        '--model',
        'https://huggingface.co/o/r/resolve/main/v1-5.safetensors=checkpoints/v1-5.safetensors',
        '--model',
        `https://e.com/l.safetensors=loras/l.safetensors@sha256:${SHA}`,
        '--models-secret',
        'hf',
        '--volume',
        'my-models',
      ],
      { timeout: 30_000 },
    )
    const config = JSON.parse(readFileSync(join(stdout.trim(), 'modal_config.json'), 'utf8'))
    expect(config.models).toEqual([
      {
        url: 'https://huggingface.co/o/r/resolve/main/v1-5.safetensors',
        path: 'checkpoints/v1-5.safetensors',
      },
      { url: 'https://e.com/l.safetensors', path: 'loras/l.safetensors', sha256: SHA },
    ])
    expect(config).toMatchObject({ models_secret: 'hf', volume: 'my-models' })
    expect(stderr).toContain('modal secret create hf HF_TOKEN=')
    expect(stderr).toContain('modal volume put my-models')
  })

  it('a bad --model exits 1 naming the entry', async () => {
    const error = (await run(
      'node',
      [
        CLI,
        'scaffold',
        '--workflow',
        workflow,
        '--out',
        tempDir(),
        '--app-name',
        'x',
        '--model',
        'http://e.com/x=loras/x',
      ],
      { timeout: 30_000 },
    ).catch((e: unknown) => e)) as { code: number; stderr: string }
    expect(error.code).toBe(1)
    expect(error.stderr).toContain('INVALID_OPTIONS: models[0]')
  })
})

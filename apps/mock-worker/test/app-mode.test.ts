// An App Mode workflow (UI workflow with extra.linearData, no Remote nodes) served by the mock worker CLI
// in front of the fake ComfyUI, called with the comfy-remote CLI: real processes and ports.
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  type AppModeFixture,
  appModeFixturePath,
  createFakeComfyUI,
  type FakeComfyUI,
} from '@comfy-remote/io-helpers/testing'
import { decodePng, encodePng } from '@comfy-remote/protocol'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../src/app.js'

const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'cli.js')
const CLIENT = join(dirname(fileURLToPath(import.meta.resolve('@comfy-remote/remote-client'))), 'cli.js')
const dir = mkdtempSync(join(tmpdir(), 'comfy-remote-app-mode-'))
const children = new Set<ChildProcess>()
let comfy: FakeComfyUI

function start(args: string[]): Promise<{ url: string; output: () => string }> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  children.add(child)
  let seen = ''
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL within 15 s:\n${seen}`)), 15_000)
    const onData = (chunk: Buffer) => {
      seen += chunk.toString('utf8')
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(seen)
      if (match?.[1] && seen.includes('Outputs:')) {
        clearTimeout(timer)
        resolve({ url: match[1], output: () => seen })
      }
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`exited early (${code}):\n${seen}`))
    })
  })
}

async function run(
  bin: string,
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  children.add(child)
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (c: Buffer) => (stdout += c))
  child.stderr.on('data', (c: Buffer) => (stderr += c))
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
  const [code] = (await once(child, 'exit')) as [number | null]
  clearTimeout(timer)
  return { code, stdout, stderr }
}

const serve = (fixture: AppModeFixture) =>
  start([
    '--workflow',
    appModeFixturePath(fixture),
    '--engine',
    'comfyui',
    '--comfyui-url',
    comfy.url,
    '--port',
    '0',
  ])

/** A 3x2 RGB test image with distinct pixel values. */
const sample = join(dir, 'sample.png')
const pixels = Float32Array.from({ length: 18 }, (_, i) => (i * 14) / 255)

beforeAll(async () => {
  comfy = await createFakeComfyUI()
  writeFileSync(sample, encodePng({ dtype: 'float32', shape: [1, 2, 3, 3], data: pixels }, 'IMAGE').bytes)
})

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL')
  await comfy.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('mock worker serving an App Mode workflow (LoadImage -> ImageInvert -> SaveImage)', () => {
  it('prints the App Mode inputs/outputs, warns about the deleted-node entry, /schema shows them', async () => {
    const { url, output } = await serve('invert-widget-ids')
    expect(output()).toMatch(/image\s+IMAGE\s+no\s+"example.png"\s+1 image \(App Mode\)/)
    expect(output()).toMatch(/filename_prefix\s+STRING\s+no\s+"inverted"\s+3 filename_prefix \(App Mode\)/)
    expect(output()).toMatch(/images\s+IMAGE\s+3 \(App Mode\)/)
    expect(output()).toMatch(/warning: App Mode input 2 .*"seed".*node 42 is not in the workflow.*skipped/)
    const schema = (await (await fetch(`${url}/schema`)).json()) as Record<string, unknown>
    expect(schema.inputs).toEqual([
      expect.objectContaining({
        name: 'image',
        type: 'IMAGE',
        required: false,
        source: 'app',
        description: 'The image to invert',
      }),
      expect.objectContaining({
        name: 'filename_prefix',
        type: 'STRING',
        required: false,
        default: 'inverted',
      }),
    ])
    expect(schema.outputs).toEqual([{ name: 'images', nodeId: '3', type: 'IMAGE', source: 'app' }])
  })

  it('comfy-remote call uploads the image, runs it and writes the inverted PNG', async () => {
    const { url } = await serve('invert-node-ids')
    const out = join(dir, 'out')
    const result = await run(CLIENT, [
      'call',
      url,
      '--input',
      `image=@${sample}`,
      '--input',
      'filename_prefix=from_cli',
      '--out',
      out,
    ])
    expect(result.stderr).not.toMatch(/error/i)
    expect(result.code).toBe(0)
    expect(readdirSync(out)).toEqual(['images.png'])
    const written = decodePng(new Uint8Array(readFileSync(join(out, 'images.png'))))
    expect(written.shape).toEqual([1, 2, 3, 3])
    const expected = Array.from(pixels, (x) => Math.round((1 - x) * 255))
    expect(Array.from(written.data as ArrayLike<number>, (x) => Math.round(x * 255))).toEqual(expected)

    const upload = comfy.requests.find((r) => r.path === '/upload/image')
    expect(upload?.method).toBe('POST')
    const posted = comfy.requests.filter((r) => r.path === '/prompt' && r.method === 'POST').at(-1)
    const prompt = (posted!.body as { prompt: Record<string, { inputs: Record<string, unknown> }> }).prompt
    expect(prompt['1']!.inputs.image).toMatch(/^comfy_remote\/cr-[A-Za-z0-9_-]+-0\.png$/)
    expect(prompt['3']!.inputs.filename_prefix).toBe('from_cli')
  })

  it('a wrong value is a 400 naming the input; an unknown name lists the App Mode names', async () => {
    const { url } = await serve('subgraph-promoted')
    const res = await fetch(`${url}/run`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        inputs: {
          blur_radius: { type: 'INT', encoding: 'json', data: 'big' },
          size: { type: 'INT', encoding: 'json', data: 1 },
        },
      }),
    })
    expect(res.status).toBe(400)
    const body = (await res.json()) as { error: { code: string; message: string } }
    expect(body.error.code).toBe('BAD_REQUEST')
    expect(body.error.message).toMatch(/inputs\.size: .*known: "image", "blur_radius", "sigma"/)
    expect(body.error.message).toMatch(/inputs\.blur_radius: .*expects an integer, got "big"/)
  })
})

describe('echo engine on an App Mode workflow', () => {
  it('the output node returns the file sent to the upload widget upstream of it; widget values are checked', async () => {
    const app = await buildApp({
      workflow: JSON.parse(readFileSync(appModeFixturePath('invert-node-ids'), 'utf8')),
      steps: 1,
      stepMs: 0,
      docs: false,
    })
    try {
      const png = readFileSync(sample).toString('base64')
      const ok = await app.inject({
        method: 'POST',
        url: '/run?wait=10',
        payload: { inputs: { image: { type: 'IMAGE', encoding: 'png', data: png } } },
      })
      expect(ok.json()).toMatchObject({
        status: 'completed',
        outputs: { images: { type: 'IMAGE', encoding: 'png', data: png } },
      })
      const bad = await app.inject({
        method: 'POST',
        url: '/run',
        payload: { inputs: { filename_prefix: { type: 'STRING', encoding: 'json', data: 7 } } },
      })
      expect(bad.statusCode).toBe(400)
      expect(bad.json().error.message).toMatch(/inputs\.filename_prefix: .*expects a string, got 7/)
    } finally {
      await app.close()
    }
  })
})

import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { appModeFixturePath } from '@comfy-remote/io-helpers/testing'
import { decodePng, encodePng, zWorkflowSchema } from '@comfy-remote/protocol'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { scaffoldModalProject } from '../src/index.js'
import { cleanupTempDirs, nodePackDir, OBJECT_INFO, REPO_DIR, tempDir } from './helpers.js'
import { canServe, FAKE_COMFY, Processes } from './serve-helpers.js'

// An App Mode workflow (UI format, extra.linearData, no Remote nodes) scaffolded into a Modal project and
// served locally (`comfy-remote-modal serve`: uvicorn + the in-process modal) in front of the io-helpers
// fake ComfyUI (a separate process), called with the comfy-remote CLI (a real process).
const CLIENT = join(REPO_DIR, 'packages', 'remote-client', 'dist', 'cli.js')
const canRun = canServe(CLIENT)
const TOKEN = 'app-mode-token-0123456789abcdef'
const processes = new Processes()
let base = ''
let contract: Awaited<ReturnType<typeof scaffoldModalProject>>['config']['contract']
let promptJson: Record<string, { inputs: Record<string, unknown>; _meta?: Record<string, unknown> }>

async function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = processes.track(
    spawn(process.execPath, [CLIENT, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, COMFY_REMOTE_TOKEN: TOKEN },
    }),
  )
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (c: Buffer) => (stdout += c))
  child.stderr.on('data', (c: Buffer) => (stderr += c))
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
  const [code] = (await once(child, 'exit')) as [number | null]
  clearTimeout(timer)
  return { code, stdout, stderr }
}

const pixels = Float32Array.from({ length: 18 }, (_, i) => (i * 14) / 255)
const sample = join(tempDir('cr-app-mode-'), 'sample.png')

beforeAll(async () => {
  writeFileSync(sample, encodePng({ dtype: 'float32', shape: [1, 2, 3, 3], data: pixels }, 'IMAGE').bytes)
  const { dir, config } = await scaffoldModalProject({
    workflow: appModeFixturePath('invert-widget-ids'),
    objectInfo: OBJECT_INFO,
    outDir: tempDir(),
    appName: 'app-mode',
    nodePackDir: nodePackDir(),
  })
  contract = config.contract
  promptJson = JSON.parse(readFileSync(join(dir, 'prompt.json'), 'utf8'))
  if (!canRun) return
  const comfy = await processes.start('node', [FAKE_COMFY, '--port', '0'])
  base = await processes.serve(dir, comfy, '--token', TOKEN)
}, 90_000)

afterAll(async () => {
  await processes.stopAll()
  cleanupTempDirs()
})

describe('scaffolding an App Mode workflow', () => {
  it('the contract lists the App Mode inputs/outputs; prompt.json keeps the marks in _meta', () => {
    expect(contract.inputs).toEqual([
      {
        name: 'image',
        nodeId: '1',
        type: 'IMAGE',
        required: false,
        default: 'example.png',
        source: 'app',
        input: 'image',
        description: 'The image to invert',
      },
      {
        name: 'filename_prefix',
        nodeId: '3',
        type: 'STRING',
        required: false,
        default: 'inverted',
        source: 'app',
        input: 'filename_prefix',
      },
    ])
    expect(contract.outputs).toEqual([{ name: 'images', nodeId: '3', type: 'IMAGE', source: 'app' }])
    expect(promptJson['1']!._meta).toMatchObject({
      comfy_remote_app: { inputs: [{ name: 'image', input: 'image', upload: 'image', type: 'IMAGE' }] },
    })
  })
})

describe.runIf(canRun)('the generated app serving it', () => {
  it('/schema shows the App Mode inputs/outputs', async () => {
    const schema = zWorkflowSchema.parse(
      await (await fetch(`${base}/schema`, { headers: { authorization: `Bearer ${TOKEN}` } })).json(),
    )
    expect(schema.inputs.map((i) => [i.name, i.type, i.source])).toEqual([
      ['image', 'IMAGE', 'app'],
      ['filename_prefix', 'STRING', 'app'],
    ])
  })

  it('comfy-remote call uploads the image, runs it and writes the inverted PNG', async () => {
    const out = join(tempDir('cr-app-mode-out-'), 'out')
    const result = await run([
      'call',
      base,
      '--input',
      `image=@${sample}`,
      '--input',
      'filename_prefix=modal',
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
  })

  it('a wrong widget value is refused before the job starts, naming the input', async () => {
    const res = await fetch(`${base}/run`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: { filename_prefix: { type: 'STRING', encoding: 'json', data: 5 } } }),
    })
    expect(res.status).toBe(400)
    const body = (await res.json()) as { error: { code: string; message: string } }
    expect(body.error.message).toMatch(
      /inputs\.filename_prefix: App Mode input 'filename_prefix' expects a string, got 5/,
    )
  })
})

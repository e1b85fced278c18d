// The node pack's Remote API Python path (comfy_remote call_remote_api -> the bundled bridge ->
// remote-client) against the mock worker in both engines (comfyui engine in front of the fake
// ComfyUI), for each example, as real processes. Needs python3 with numpy (as the root test script).
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ExampleName, exampleNames, repoRoot } from './support/paths.js'
import { workerUrl } from './support/shared.js'

const pack = join(repoRoot, 'apps', 'comfyui-extension')
const script = join(repoRoot, 'tests', 'e2e', 'test', 'support', 'remote_api_call.py')
const python = process.env.PYTHON ?? 'python3'

type Described = { shape: number[]; dtype: string; equals_sent_image: boolean } | string | number | null
interface Outcome {
  outputs: Record<string, Described>
  result: Described
  progress: number[]
}

function callRemoteApi(url: string, names: string, slots: Record<string, unknown>): Promise<Outcome> {
  const child = spawn(python, [script], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, COMFY_REMOTE_TOKEN: '' },
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString('utf8')
  })
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString('utf8')
  })
  child.stdin.end(JSON.stringify({ pack, url, names, slots }))
  const timer = setTimeout(() => child.kill('SIGKILL'), 45_000)
  return new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('close', (code) => {
      clearTimeout(timer)
      if (code !== 0) reject(new Error(`${python} ${script} exited ${code}:\n${stderr}`))
      else resolve(JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as Outcome)
    })
  })
}

const image = { image: [1, 8, 8, 3] }
// What the Remote API node sends for each example: the names its frontend reads from /schema, and the
// values linked to input_1..N in that order.
const calls: Record<
  ExampleName,
  { names: string; slots: Record<string, unknown>; check: (o: Outcome) => void }
> = {
  'image-invert': {
    names: 'image',
    slots: { input_1: image },
    check: (o) => {
      expect(o.outputs.image).toMatchObject({
        shape: [1, 8, 8, 3],
        dtype: 'float32',
        equals_sent_image: true,
      })
      expect(o.result).toEqual(o.outputs.image)
    },
  },
  'typed-inputs': {
    names: 'prompt, seed, strength, image',
    slots: { input_1: 'a heron', input_2: 5, input_3: 0.5, input_4: image },
    check: (o) => {
      expect(o.outputs.prompt).toBe('a heron')
      expect(o.outputs.image).toMatchObject({ equals_sent_image: true })
    },
  },
  'multi-output': {
    names: 'image, caption',
    slots: { input_1: image, input_2: 'a test card' },
    check: (o) => {
      expect(Object.keys(o.outputs).sort()).toEqual(['caption', 'mask', 'width'])
      expect(o.outputs.caption).toBe('a test card')
      expect(o.outputs.mask).toMatchObject({ equals_sent_image: true })
    },
  },
}

// The shared workers of the global setup (the comfyui ones in front of the shared fake ComfyUI).
const urls = {
  get: (key: string) => workerUrl(key.split('/')[1] as 'echo' | 'comfyui', key.split('/')[0] as ExampleName),
}

describe.each(['echo', 'comfyui'] as const)(
  'Remote API Python path -> bridge -> mock worker (%s engine)',
  (engine) => {
    it.each(exampleNames)('%s: values come back decoded, bit-exact, with progress in order', async (name) => {
      const call = calls[name]
      const outcome = await callRemoteApi(urls.get(`${name}/${engine}`)!, call.names, call.slots)
      call.check(outcome)
      expect(outcome.progress.length).toBeGreaterThan(0)
      expect(outcome.progress).toEqual([...outcome.progress].sort((a, b) => a - b))
    })
  },
)

describe('a hostile endpoint answering the Remote API node with a pickle', () => {
  let server: Server
  let url = ''
  const dir = mkdtempSync(join(tmpdir(), 'comfy-remote-e2e-pickle-'))
  const marker = join(dir, 'unpickled-marker')

  beforeAll(async () => {
    // A pickle that creates `marker` when loaded (open(marker, 'w')). Pickling it runs nothing.
    const make = `import base64, pickle\nclass P:\n    def __reduce__(self):\n        return (open, (${JSON.stringify(marker)}, "w"))\nprint(base64.b64encode(pickle.dumps(P())).decode())`
    const pickled = execFileSync(python, ['-c', make], { encoding: 'utf8' }).trim()
    server = createServer((req, res) => {
      req.resume()
      req.on('end', () => {
        const value = { type: 'IMAGE', encoding: 'base64+pickle', data: pickled }
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end(
          JSON.stringify({
            status: 'completed',
            job_id: 'j',
            progress: { value: 1, max: 1 },
            result: value,
            outputs: { image: value },
          }),
        )
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const address = server.address()
    url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
  })
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve))
    rmSync(dir, { recursive: true, force: true })
  })

  it('refuses it with PICKLE_REFUSED and never unpickles', async () => {
    const error = await callRemoteApi(url, 'image', { input_1: 'x' }).then(
      () => undefined,
      (e: unknown) => e as Error,
    )
    expect(error?.message).toMatch(/PICKLE_REFUSED/)
    expect(existsSync(marker)).toBe(false)
  })
})

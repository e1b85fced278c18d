import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { encodeNpy, parseEnvelope } from '@comfy-remote/protocol'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { scaffoldModalProject } from '../src/index.js'
import { cleanupTempDirs, FIXTURES, nodePackDir, PACKAGE_DIR, REPO_DIR, tempDir } from './helpers.js'

// `comfy-remote-modal serve` of a project with memory snapshots and a warm-up: the GPU class's
// `@modal.enter(snap=True)` start, then `@modal.enter()` ready (warm-up against the fake ComfyUI), and
// the first job reports the cold start in its timings.
const PY = '/usr/bin/python3'
const FAKE_COMFY = join(REPO_DIR, 'packages', 'io-helpers', 'dist', 'testing', 'cli.js')
const canRun =
  existsSync(PY) &&
  existsSync(FAKE_COMFY) &&
  spawnSync(PY, ['-c', 'import fastapi, uvicorn'], { stdio: 'ignore', timeout: 20_000 }).status === 0
const children: ChildProcess[] = []
let base = ''
let serveLog = ''

/** Starts a server; resolves with the URL of its `{"url"}` / `listening on <url>` line. */
async function start(cmd: string, args: string[]): Promise<string> {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  children.push(child)
  child.stderr?.on('data', (chunk: Buffer) => {
    serveLog += chunk.toString()
  })
  const lines = createInterface({ input: child.stdout! })
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
  const url = await new Promise<string>((resolve) => {
    lines.on('line', (line) => {
      const found = /"url":\s*"([^"]+)"|listening on (http\S+)/.exec(line)
      if (found) resolve((found[1] ?? found[2]) as string)
    })
    child.once('exit', () => resolve(''))
  })
  clearTimeout(timer)
  if (!url) throw new Error(`${cmd} ${args.join(' ')} did not start:\n${serveLog}`)
  return url
}

beforeAll(async () => {
  if (!canRun) return
  const comfy = await start('node', [FAKE_COMFY, '--port', '0'])
  const { dir } = await scaffoldModalProject({
    workflow: join(FIXTURES, 'echo-prompt.json'),
    outDir: tempDir(),
    appName: 'served-snap',
    nodePackDir: nodePackDir(),
    memorySnapshot: true,
    warmup: true,
    auth: 'none',
  })
  const cli = join(PACKAGE_DIR, 'dist', 'cli.js')
  base = await start('node', [cli, 'serve', dir, '--comfyui-url', comfy, '--port', '0', '--python', PY])
}, 60_000)

afterAll(async () => {
  for (const child of children.reverse()) {
    if (child.exitCode !== null) continue
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
    await once(child, 'exit')
    clearTimeout(timer)
  }
  cleanupTempDirs()
})

async function run(): Promise<Record<string, unknown>> {
  const npy = encodeNpy({ dtype: 'float32', shape: [1, 2, 2, 3], data: new Float32Array(12).fill(0.25) })
  const data = Buffer.from(npy).toString('base64')
  const body = { inputs: { image: { type: 'IMAGE', encoding: 'npy', data } } }
  const res = await fetch(`${base}/run?wait=20`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  const env = parseEnvelope(await res.json())
  expect(env.status, JSON.stringify(env.error)).toBe('completed')
  return env.timings as Record<string, unknown>
}

describe.runIf(canRun)('serve: a project with memory snapshots and a warm-up', () => {
  it('warms up at start and reports the cold start on the first job only', async () => {
    expect(serveLog).toMatch(/warm-up run completed in [\d.]+ s/)
    const first = await run()
    expect(first).toMatchObject({ cold_start: true, restored_from_snapshot: false })
    expect(first.startup_seconds as number).toBeGreaterThan(0)
    const second = await run()
    expect(second).toMatchObject({ cold_start: false, startup_seconds: 0 })
    expect(second).not.toHaveProperty('restored_from_snapshot')
  }, 60_000)
})

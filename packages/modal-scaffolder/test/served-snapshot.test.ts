import { join } from 'node:path'
import { encodeNpy, parseEnvelope } from '@comfy-remote/protocol'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { scaffoldModalProject } from '../src/index.js'
import { cleanupTempDirs, FIXTURES, nodePackDir, tempDir } from './helpers.js'
import { canServe, FAKE_COMFY, Processes } from './serve-helpers.js'

// `comfy-remote-modal serve` of a project with memory snapshots and a warm-up: the GPU class's
// `@modal.enter(snap=True)` start, then `@modal.enter()` ready (warm-up against the fake ComfyUI), and
// the first job reports the cold start in its timings.
const canRun = canServe()
const processes = new Processes()
let base = ''

beforeAll(async () => {
  if (!canRun) return
  const comfy = await processes.start('node', [FAKE_COMFY, '--port', '0'])
  const { dir } = await scaffoldModalProject({
    workflow: join(FIXTURES, 'echo-prompt.json'),
    outDir: tempDir(),
    appName: 'served-snap',
    nodePackDir: nodePackDir(),
    memorySnapshot: true,
    warmup: true,
    auth: 'none',
  })
  base = await processes.serve(dir, comfy)
}, 60_000)

afterAll(async () => {
  await processes.stopAll()
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
    expect(processes.stderr).toMatch(/warm-up run completed in [\d.]+ s/)
    const first = await run()
    expect(first).toMatchObject({ cold_start: true, restored_from_snapshot: false })
    expect(first.startup_seconds as number).toBeGreaterThan(0)
    const second = await run()
    expect(second).toMatchObject({ cold_start: false, startup_seconds: 0 })
    expect(second).not.toHaveProperty('restored_from_snapshot')
  }, 60_000)
})

import { readFileSync } from 'node:fs'
import { startWorker } from '@comfy-remote/mock-worker'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { killBridges, runBridge, startBridge } from './helpers/bridge.js'
import { cleanupWorkDirs, imageNpy, makeWorkDir, writeInput } from './helpers/values.js'

const prompt = JSON.parse(readFileSync(new URL('./fixtures/echo-prompt.json', import.meta.url), 'utf8'))
const TOKEN = 'bridge-test-token'

let fast: Awaited<ReturnType<typeof startWorker>>
let slow: Awaited<ReturnType<typeof startWorker>>

beforeAll(async () => {
  fast = await startWorker({ workflow: prompt, port: 0, steps: 4, stepMs: 5, token: TOKEN, docs: false })
  slow = await startWorker({ workflow: prompt, port: 0, steps: 200, stepMs: 50, docs: false })
})

afterAll(async () => {
  killBridges()
  cleanupWorkDirs()
  await Promise.all([fast?.app.close(), slow?.app.close()])
})

describe('bridge process against the mock worker (echo engine)', () => {
  it.each(['auto', 'json'] as const)(
    'round-trips a float32 image bit-exact (transport %s)',
    async (transport) => {
      const npy = imageNpy(32, 48, transport === 'auto' ? 3 : 4)
      const workDir = makeWorkDir()
      const file = writeInput(workDir, 'in-image.npy', npy)
      const { code, events, stderr } = await runBridge({
        op: 'run',
        url: fast.url,
        token: TOKEN,
        timeout: 20,
        pollInterval: 0.05,
        inputs: {
          image: { type: 'IMAGE', encoding: 'npy', data: { file } },
          scale: { type: 'FLOAT', encoding: 'json', data: 0.5 },
        },
        workDir,
        transport,
      })
      expect(code, `${stderr}\n${JSON.stringify(events)}`).toBe(0)
      const result = events.at(-1) as {
        event: string
        outputs: Record<string, { encoding: string; data: unknown }>
      }
      expect(result.event).toBe('result')
      expect(Object.keys(result.outputs).sort()).toEqual(['image', 'scale'])
      const image = result.outputs.image as { type: string; encoding: string; data: { file: string } }
      expect(image).toMatchObject({ type: 'IMAGE', encoding: 'npy' })
      expect(image.data.file.startsWith(workDir)).toBe(true)
      expect(Buffer.from(readFileSync(image.data.file)).equals(Buffer.from(npy))).toBe(true)
      expect(result.outputs.scale).toMatchObject({ encoding: 'json', data: 0.5 })

      const progress = events.filter((e) => e.event === 'progress').map((e) => e.value as number)
      expect(progress.length).toBeGreaterThan(0)
      expect(progress).toEqual([...progress].sort((a, b) => a - b))
      const statuses = events.filter((e) => e.event === 'status').map((e) => e.status)
      expect(statuses.at(-1)).toBe('completed')
      expect(new Set(events.filter((e) => e.event === 'status').map((e) => e.jobId)).size).toBe(1)
    },
  )

  it('answers schema with the workflow contract', async () => {
    const { code, events } = await runBridge({ op: 'schema', url: fast.url, token: TOKEN })
    expect(code).toBe(0)
    const schema = (
      events[0] as unknown as { schema: { inputs: { name: string }[]; outputs: { name: string }[] } }
    ).schema
    expect(schema.inputs.map((i) => i.name).sort()).toEqual(['image', 'scale'])
    expect(schema.outputs.map((o) => o.name).sort()).toEqual(['image', 'scale'])
  })

  it('SIGTERM cancels the job on the worker', async () => {
    const workDir = makeWorkDir()
    const bridge = startBridge({
      op: 'run',
      url: slow.url,
      token: null,
      timeout: 30,
      pollInterval: 0.05,
      inputs: {
        image: {
          type: 'IMAGE',
          encoding: 'npy',
          data: { file: writeInput(workDir, 'a.npy', imageNpy(4, 4)) },
        },
        scale: { type: 'FLOAT', encoding: 'json', data: 1 },
      },
      workDir,
      transport: 'auto',
    })
    const running = await bridge.waitFor((e) => e.event === 'progress' && (e.value as number) >= 1)
    expect(running).toBeTruthy()
    const jobId = bridge.events.find((e) => e.event === 'status' && e.jobId)?.jobId as string
    expect(jobId).toBeTruthy()
    bridge.child.kill('SIGTERM')
    const { code, events } = await bridge.done
    expect(code).toBe(1)
    expect(events.at(-1)).toMatchObject({ event: 'error', code: 'CANCELLED' })
    // The worker ends the job on DELETE; allow it a moment (bounded) to settle.
    let status = ''
    for (let i = 0; i < 60 && status !== 'cancelled'; i++) {
      if (i) await new Promise((r) => setTimeout(r, 50))
      status = ((await (await fetch(`${slow.url}/jobs/${jobId}`)).json()) as { status: string }).status
    }
    expect(status).toBe('cancelled')
  })
})

// Real-port suite, comfyui engine: remote-client -> worker -> fake ComfyUI (io-helpers/testing).
import { createFakeComfyUI, type FakeComfyUI } from '@comfy-remote/io-helpers/testing'
import { base64ToBytes, type EncodedValue, encodeNpy } from '@comfy-remote/protocol'
import { createRemoteClient, isRemoteJobError } from '@comfy-remote/remote-client'
import type { FastifyInstance } from 'fastify'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startWorker } from '../src/app.js'
import type { WorkerOptions } from '../src/options.js'
import { echoPrompt, fixture, imageValue, waitUntil } from './helpers.js'

const fastRetry = { retries: 1, minDelay: 10, maxDelay: 50 }
const opened: Array<{ close(): Promise<unknown> }> = []

async function worker(comfy: FakeComfyUI, options: Partial<WorkerOptions> = {}) {
  const started = await startWorker({
    workflow: echoPrompt(),
    engine: 'comfyui',
    comfyuiUrl: comfy.url,
    port: 0,
    docs: false,
    historyPollMs: 200,
    shutdownGraceMs: 0,
    ...options,
  })
  opened.push(started.app)
  return { ...started, client: createRemoteClient({ url: started.url, retry: fastRetry, pollInterval: 30 }) }
}

async function fake(options: Parameters<typeof createFakeComfyUI>[0] = {}): Promise<FakeComfyUI> {
  const comfy = await createFakeComfyUI(options)
  opened.push(comfy)
  return comfy
}

const posts = (comfy: FakeComfyUI, path: string) =>
  comfy.requests.filter((r) => r.method === 'POST' && r.path === path)

afterEach(async () => {
  // Workers first (they talk to the fakes), then the fakes.
  for (const item of opened.splice(0).reverse()) await item.close().catch(() => {})
})

describe('comfyui engine against the fake ComfyUI', () => {
  it('runs a job: inputs injected, progress folded, outputs collected, history deleted', async () => {
    const comfy = await fake({ progressSteps: 3, stepDelayMs: 5, progressText: true })
    const { client } = await worker(comfy)
    const progress: Array<{ value: number; max: number; message?: string }> = []
    const image = imageValue([[[0.1, 0.2, 0.3]]])
    const env = await client.run(
      { image, caption: { type: 'STRING', encoding: 'json', data: 'cap' } as EncodedValue },
      {
        onProgress: (p) => progress.push(p),
        timeout: 20_000,
      },
    )
    expect(env.status).toBe('completed')
    expect(env.outputs?.result).toEqual(image)
    expect(env.outputs?.caption_out).toMatchObject({ encoding: 'json', data: 'cap' })
    const prompt = posts(comfy, '/prompt')[0]?.body as {
      prompt: Record<string, { inputs: Record<string, unknown> }>
      client_id: string
    }
    expect(typeof prompt.client_id).toBe('string')
    expect(JSON.parse(String(prompt.prompt['1']?.inputs.payload))).toEqual(image)
    expect(progress.length).toBeGreaterThan(0)
    expect(progress.map((p) => p.value)).toEqual([...progress.map((p) => p.value)].sort((a, b) => a - b))
    // ComfyUI's progress text (binary type-3 frames) becomes the job's progress message.
    expect(progress.some((p) => /step \d+\/\d+/.test(p.message ?? ''))).toBe(true)
    await waitUntil(() => comfy.history.size === 0)
    expect(posts(comfy, '/history').length).toBeGreaterThan(0)
  })

  it('binary npy values survive the multipart transport and the ComfyUI round trip', async () => {
    const comfy = await fake()
    const { url } = await worker(comfy)
    const client = createRemoteClient({ url, transport: 'multipart', retry: fastRetry })
    const bytes = encodeNpy({
      dtype: 'float32',
      shape: [1, 4, 4, 3],
      data: new Float32Array(48).map((_, i) => i / 48),
    })
    const env = await client.run(
      { image: { type: 'IMAGE', encoding: 'npy', data: bytes } },
      { timeout: 20_000 },
    )
    const data = env.outputs?.result?.data
    const out = data instanceof Uint8Array ? data : base64ToBytes(String(data))
    expect(out).toEqual(bytes)
  })

  it('a ComfyUI validation error is a 400 envelope naming node and input', async () => {
    const comfy = await fake()
    const { url } = await worker(comfy, { workflow: fixture('invalid-blur-prompt.json') })
    const res = await fetch(`${url}/run?wait=10`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: { image: imageValue() } }),
    })
    expect(res.status).toBe(400)
    const body = (await res.json()) as { status: string; error: { code: string; message: string } }
    expect(body.status).toBe('failed')
    expect(body.error.code).toBe('COMFYUI_VALIDATION')
    expect(body.error.message).toContain('node 3')
    expect(body.error.message).toContain('blur_radius')
  })

  it("an execution error fails the job with ComfyUI's message", async () => {
    const comfy = await fake({ failNode: (id) => (id === '2' ? 'invert exploded' : undefined) })
    const { client } = await worker(comfy)
    const error = await client.run({ image: imageValue() }, { timeout: 20_000 }).catch((e: unknown) => e)
    expect(isRemoteJobError(error)).toBe(true)
    const env = (error as { envelope?: { error?: { code: string; message: string } } }).envelope
    expect(env?.error?.code).toBe('COMFYUI_EXECUTION')
    expect(env?.error?.message).toContain('invert exploded')
  })

  it('cancelling the running job interrupts exactly that prompt', async () => {
    const comfy = await fake({ nodeDelayMs: 300, progressSteps: 5, stepDelayMs: 60 })
    const { client } = await worker(comfy)
    const job = await client.submit({ image: imageValue() })
    await waitUntil(async () => (await client.status(job.jobId as string)).status === 'running')
    const env = await client.cancel(job.jobId as string)
    expect(env.status).toBe('cancelled')
    await waitUntil(() => posts(comfy, '/interrupt').length > 0)
    // Only that prompt: the interrupt names it, and nothing was removed from the queue.
    const interrupt = posts(comfy, '/interrupt')[0]?.body as { prompt_id?: string } | undefined
    expect(interrupt?.prompt_id).toMatch(/^[0-9a-f-]{36}$/)
    expect(posts(comfy, '/queue')).toHaveLength(0)
  })

  it("cancelling a job waiting in ComfyUI's queue removes it from the queue", async () => {
    const comfy = await fake({ nodeDelayMs: 300, progressSteps: 5, stepDelayMs: 60 })
    const { client } = await worker(comfy, { concurrency: 2 })
    const first = await client.submit({ image: imageValue() })
    const second = await client.submit({ image: imageValue() })
    await waitUntil(() => posts(comfy, '/prompt').length === 2)
    const env = await client.cancel(second.jobId as string)
    expect(env.status).toBe('cancelled')
    await waitUntil(() => posts(comfy, '/queue').length > 0)
    const body = posts(comfy, '/queue')[0]?.body as { delete?: string[] }
    expect(body.delete).toHaveLength(1)
    expect(posts(comfy, '/interrupt')).toHaveLength(0)
    await client.cancel(first.jobId as string)
  })

  it('ComfyUI going away mid-job fails it with COMFYUI_UNAVAILABLE and the worker keeps serving', async () => {
    const comfy = await fake({ nodeDelayMs: 500, progressSteps: 5, stepDelayMs: 100 })
    const { client, url } = await worker(comfy)
    const job = await client.submit({ image: imageValue() })
    await waitUntil(async () => (await client.status(job.jobId as string)).status === 'running')
    await comfy.goAway()
    let env = await client.status(job.jobId as string)
    for (let i = 0; i < 100 && env.status === 'running'; i++)
      env = await client.status(job.jobId as string, { wait: 1 })
    expect(env.status).toBe('failed')
    expect(env.error?.code).toBe('COMFYUI_UNAVAILABLE')
    const health = (await (await fetch(`${url}/health`)).json()) as { status: string }
    expect(health.status).toBe('degraded')
    // A new job fails cleanly too.
    const next = await client.submit({ image: imageValue() }, { wait: 10 }).catch((e: unknown) => e)
    expect(isRemoteJobError(next)).toBe(true)
  })
})

describe('comfyui engine with ComfyUI down from the start', () => {
  let app: FastifyInstance
  let url: string
  beforeAll(async () => {
    ;({ app, url } = await startWorker({
      workflow: echoPrompt(),
      engine: 'comfyui',
      comfyuiUrl: 'http://127.0.0.1:9',
      port: 0,
      docs: false,
      comfyuiTimeoutMs: 2_000,
    }))
  })
  afterAll(() => app.close())

  it('fails jobs with COMFYUI_UNAVAILABLE and a clear message', async () => {
    const res = await fetch(`${url}/run?wait=10`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: { image: imageValue() } }),
    })
    const body = (await res.json()) as { status: string; error: { code: string; message: string } }
    expect(body.status).toBe('failed')
    expect(body.error.code).toBe('COMFYUI_UNAVAILABLE')
    expect(body.error.message).toContain('127.0.0.1:9')
  })
})

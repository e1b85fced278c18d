// Real-port suite, echo engine: the real remote-client drives the worker over 127.0.0.1.

import { base64ToBytes, type EncodedValue, encodeNpy } from '@comfy-remote/protocol'
import { createRemoteClient, isRemoteJobError, parseSse } from '@comfy-remote/remote-client'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startWorker } from '../src/app.js'
import { echoPrompt, imageValue } from './helpers.js'

const fastRetry = { retries: 2, minDelay: 10, maxDelay: 50 }

function bytesOf(value: EncodedValue | undefined): Uint8Array {
  const data = value?.data
  if (data instanceof Uint8Array) return data
  if (typeof data === 'string') return base64ToBytes(data)
  throw new Error(`no bytes in ${JSON.stringify(value)}`)
}

function npyImage(): EncodedValue {
  const floats = new Float32Array(2 * 3 * 4 * 3).map((_, i) => i / 100)
  const bytes = encodeNpy({ dtype: 'float32', shape: [2, 3, 4, 3], data: floats })
  return { type: 'IMAGE', encoding: 'npy', data: bytes }
}

describe('echo engine over a real port', () => {
  let app: FastifyInstance
  let url: string
  beforeAll(async () => {
    ;({ app, url } = await startWorker({
      workflow: echoPrompt(),
      port: 0,
      steps: 4,
      stepMs: 15,
      docs: false,
    }))
  })
  afterAll(() => app.close())

  it.each(['json', 'multipart'] as const)(
    'run() completes over the %s transport and returns the bytes that went in',
    async (transport) => {
      const client = createRemoteClient({ url, transport, retry: fastRetry, pollInterval: 50 })
      const image = npyImage()
      const env = await client.run({ image }, { timeout: 20_000 })
      expect(env.status).toBe('completed')
      expect(bytesOf(env.outputs?.result)).toEqual(image.data)
      expect(bytesOf(env.result)).toEqual(image.data)
      expect(env.outputs?.caption_out).toMatchObject({ encoding: 'json', data: 'hello' })
    },
  )

  it.each(['events', 'long-poll', 'poll'] as const)(
    'follows a job by %s with progress in order',
    async (follow) => {
      const client = createRemoteClient({ url, follow, retry: fastRetry, pollInterval: 30 })
      const seen: number[] = []
      const env = await client.run(
        { image: imageValue(), caption: { type: 'STRING', encoding: 'json', data: 'x' } as EncodedValue },
        {
          onProgress: (p) => seen.push(p.value / p.max),
          timeout: 20_000,
        },
      )
      expect(env.status).toBe('completed')
      expect(env.outputs?.caption_out).toMatchObject({ data: 'x' })
      expect(seen.length).toBeGreaterThan(0)
      expect([...seen].sort((a, b) => a - b)).toEqual(seen)
      expect(seen.at(-1)).toBe(1)
    },
  )

  it('sync run with ?wait= returns the finished job from the submit itself', async () => {
    const client = createRemoteClient({ url, retry: fastRetry })
    const env = await client.submit({ image: imageValue() }, { wait: 10 })
    expect(env.status).toBe('completed')
  })

  it('the SSE stream sends every change and ends after the final envelope', async () => {
    const client = createRemoteClient({ url, retry: fastRetry })
    const job = await client.submit({ image: imageValue() })
    const res = await fetch(`${url}/jobs/${job.jobId}/events`, { signal: AbortSignal.timeout(10_000) })
    expect(res.headers.get('content-type')).toContain('text/event-stream')
    const statuses: string[] = []
    for await (const event of parseSse(res.body as ReadableStream<Uint8Array>))
      statuses.push(JSON.parse(event.data).status)
    expect(statuses.at(-1)).toBe('completed')
    expect(statuses.filter((s) => s === 'completed')).toHaveLength(1)
  })

  it('SSE leaves large values out of its events; run() still returns them (read once with GET)', async () => {
    const floats = new Float32Array(1 * 128 * 256 * 3).map((_, i) => (i % 255) / 255)
    const big: EncodedValue = {
      type: 'IMAGE',
      encoding: 'npy',
      data: encodeNpy({ dtype: 'float32', shape: [1, 128, 256, 3], data: floats }),
    }
    const client = createRemoteClient({ url, follow: 'events', transport: 'multipart', retry: fastRetry })
    const job = await client.submit({ image: big })
    const res = await fetch(`${url}/jobs/${job.jobId}/events`, { signal: AbortSignal.timeout(10_000) })
    let last: Record<string, unknown> = {}
    for await (const event of parseSse(res.body as ReadableStream<Uint8Array>)) last = JSON.parse(event.data)
    expect(last).toMatchObject({ status: 'completed', values_omitted: true })
    expect(last.outputs).toBeUndefined()
    const env = await client.run({ image: big }, { timeout: 20_000 })
    expect(bytesOf(env.outputs?.result)).toEqual(big.data)
  })

  it('client.events() yields envelopes until the job ends', async () => {
    const client = createRemoteClient({ url, retry: fastRetry })
    const job = await client.submit({ image: imageValue() })
    const seen: string[] = []
    for await (const env of client.events(job.jobId as string)) seen.push(env.status)
    expect(seen.at(-1)).toBe('completed')
  })

  it('the same idempotency key never runs a job twice', async () => {
    const client = createRemoteClient({ url, retry: fastRetry })
    const key = `key-${Date.now()}`
    const [a, b] = await Promise.all([
      client.submit({ image: imageValue() }, { idempotencyKey: key }),
      client.submit({ image: imageValue() }, { idempotencyKey: key }),
    ])
    expect(a.jobId).toBeDefined()
    expect(b.jobId).toBe(a.jobId)
  })

  it('bad input is rejected with the field named', async () => {
    const client = createRemoteClient({ url, retry: false })
    const error = await client.run({ nope: imageValue() }, { timeout: 5_000 }).catch((e: unknown) => e)
    expect(isRemoteJobError(error)).toBe(true)
    expect(String((error as Error).message)).toContain('inputs.nope')
  })

  it('schema() and health() advertise the contract and both transports', async () => {
    const client = createRemoteClient({ url, retry: fastRetry })
    const schema = await client.schema()
    expect(schema.inputs.map((i) => i.name)).toEqual(['image', 'caption'])
    expect(schema.transports).toEqual(['json', 'multipart'])
    expect((await client.health()).transports).toEqual(['json', 'multipart'])
  })
})

describe('cancel, auth and limits over a real port', () => {
  let app: FastifyInstance
  let url: string
  const token = 'real-port-token'
  beforeAll(async () => {
    ;({ app, url } = await startWorker({
      workflow: echoPrompt(),
      port: 0,
      steps: 200,
      stepMs: 20,
      token,
      bodyLimit: 64 * 1024,
      shutdownGraceMs: 0,
      docs: false,
    }))
  })
  afterAll(() => app.close())

  it('aborting run() cancels the job on the worker', async () => {
    const client = createRemoteClient({ url, token, retry: fastRetry, pollInterval: 30 })
    const controller = new AbortController()
    const key = `cancel-${Date.now()}`
    const error = await client
      .run(
        { image: imageValue() },
        {
          signal: controller.signal,
          idempotencyKey: key,
          onProgress: () => controller.abort(),
          timeout: 20_000,
        },
      )
      .catch((e: unknown) => e)
    expect(isRemoteJobError(error) && error.code).toBe('CANCELLED')
    // The same key finds the same job: it is cancelled on the worker too (DELETE is best effort, so allow a moment).
    let status = ''
    for (let i = 0; i < 50 && status !== 'cancelled'; i++) {
      const res = await fetch(`${url}/run`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          'idempotency-key': key,
        },
        body: JSON.stringify({ inputs: { image: imageValue() } }),
      })
      status = ((await res.json()) as { status: string }).status
      if (status !== 'cancelled') await new Promise((r) => setTimeout(r, 20))
    }
    expect(status).toBe('cancelled')
  })

  it('cancel() ends a running job as cancelled', async () => {
    const client = createRemoteClient({ url, token, retry: fastRetry })
    const job = await client.submit({ image: imageValue() })
    const env = await client.cancel(job.jobId as string)
    expect(env.status).toBe('cancelled')
    expect((await client.status(job.jobId as string)).status).toBe('cancelled')
  })

  it('without the token the client gets UNAUTHORIZED; /health stays open', async () => {
    const client = createRemoteClient({ url, retry: false })
    const error = await client.schema().catch((e: unknown) => e)
    expect(isRemoteJobError(error) && error.code).toBe('UNAUTHORIZED')
    const res = await fetch(`${url}/health`)
    expect(res.status).toBe(200)
    const wrong = await fetch(`${url}/schema`, { headers: { authorization: 'Bearer wrong-token' } })
    expect(wrong.status).toBe(401)
  })

  it('a body over the limit is refused with 413 naming the limit', async () => {
    const res = await fetch(`${url}/run`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: { image: imageValue('x'.repeat(100_000)) } }),
    })
    expect(res.status).toBe(413)
    const body = (await res.json()) as { error: { code: string; message: string } }
    expect(body.error.code).toBe('PAYLOAD_TOO_LARGE')
    expect(body.error.message).toContain(String(64 * 1024))
  })
})

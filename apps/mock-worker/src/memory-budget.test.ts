// The byte budget of finished results: oldest evicted first, a distinct 404, one big job still readable.
import { type EncodedValue, encodeMultipart, encodeValue } from '@comfy-remote/protocol'
import type { FastifyInstance } from 'fastify'
import { describe, expect, it } from 'vitest'
import { echoApp } from '../test/helpers.js'

/** A float32 IMAGE [1, side, side, 3] as npy bytes (about 12 * side^2 bytes). */
function image(side: number, fill: number): EncodedValue {
  const data = new Float32Array(side * side * 3).fill(fill)
  return encodeValue(
    { data, shape: [1, side, side, 3], dtype: 'float32' },
    { type: 'IMAGE', encoding: 'npy' },
  )
}

async function run(app: FastifyInstance, value: EncodedValue, key?: string) {
  const { body, contentType } = encodeMultipart({ inputs: { image: value } })
  const headers: Record<string, string> = { 'content-type': contentType }
  if (key !== undefined) headers['idempotency-key'] = key
  const res = await app.inject({
    method: 'POST',
    url: '/run?wait=10',
    headers,
    payload: Buffer.from(body as Uint8Array),
  })
  expect(res.statusCode).toBe(200)
  return res.json() as { job_id: string; poll_url: string; status: string; result: EncodedValue }
}

const health = async (app: FastifyInstance) =>
  (await app.inject({ method: 'GET', url: '/health' })).json().jobs as Record<string, number>

describe('memory budget of finished results (maxStoredBytes)', () => {
  it('evicts the oldest finished jobs first once the results exceed the budget, with a 404 that says so', async () => {
    const one = image(32, 0.5) // ~12 KiB
    const bytes = (one.data as Uint8Array).byteLength
    const app = await echoApp({ maxStoredBytes: bytes * 2 + bytes / 2, steps: 1, stepMs: 0 })
    try {
      const a = await run(app, one)
      const b = await run(app, image(32, 0.25))
      // the npy payloads plus the small json outputs of the echo workflow
      const stored = (await health(app)).storedBytes
      expect(stored).toBeGreaterThanOrEqual(bytes * 2)
      expect(stored).toBeLessThan(bytes * 2 + 200)
      const c = await run(app, image(32, 0.75))
      expect((await health(app)).storedBytes).toBe(stored)
      const gone = await app.inject({ method: 'GET', url: a.poll_url })
      expect(gone.statusCode).toBe(404)
      expect(gone.json().error).toMatchObject({
        code: 'NOT_FOUND',
        details: { job_id: a.job_id, evicted: true, reason: 'memory_budget' },
      })
      expect(gone.json().error.message).toMatch(/evicted to stay within the worker's memory budget/)
      expect(gone.json().error.message).not.toMatch(/expired/)
      for (const kept of [b, c]) {
        const res = await app.inject({ method: 'GET', url: kept.poll_url })
        expect(res.statusCode).toBe(200)
        expect(res.json().status).toBe('completed')
      }
    } finally {
      await app.close()
    }
  })

  it('a job that alone exceeds the budget still runs and is readable; the next one replaces it', async () => {
    const app = await echoApp({ maxStoredBytes: 1024, steps: 1, stepMs: 0 })
    try {
      const big = await run(app, image(16, 0.5)) // ~3 KiB > 1 KiB
      expect(big.status).toBe('completed')
      expect(big.result.data).toBeTypeOf('string') // JSON answer: the npy bytes came back as base64
      const again = await app.inject({ method: 'GET', url: big.poll_url })
      expect(again.statusCode).toBe(200)
      expect(again.json().result.data).toBe(big.result.data)
      const next = await run(app, image(16, 0.25))
      expect((await app.inject({ method: 'GET', url: next.poll_url })).statusCode).toBe(200)
      const res = await app.inject({ method: 'GET', url: big.poll_url })
      expect(res.statusCode).toBe(404)
      expect(res.json().error.details.reason).toBe('memory_budget')
    } finally {
      await app.close()
    }
  })

  it('an evicted job frees its idempotency key; a kept one still answers the same key with the same job', async () => {
    const app = await echoApp({ maxStoredBytes: 1024, steps: 1, stepMs: 0 })
    try {
      const first = await run(app, image(16, 0.5), 'key-1')
      // Same key, same request: same job although the store dropped the request's inputs.
      expect((await run(app, image(16, 0.5), 'key-1')).job_id).toBe(first.job_id)
      await run(app, image(16, 0.25), 'key-2') // evicts key-1's job
      const retried = await run(app, image(16, 0.5), 'key-1')
      expect(retried.job_id).not.toBe(first.job_id)
      expect(retried.status).toBe('completed')
    } finally {
      await app.close()
    }
  })

  it('/health counts the bytes held: inputs while a job runs, nothing once results are evicted', async () => {
    const app = await echoApp({ maxStoredBytes: 0, steps: 200, stepMs: 20, shutdownGraceMs: 0 })
    try {
      const value = image(8, 0.5)
      const { body, contentType } = encodeMultipart({ inputs: { image: value } })
      const res = await app.inject({
        method: 'POST',
        url: '/run',
        headers: { 'content-type': contentType },
        payload: Buffer.from(body as Uint8Array),
      })
      expect(res.statusCode).toBe(202)
      expect(await health(app)).toMatchObject({
        activeBytes: (value.data as Uint8Array).byteLength,
        storedBytes: 0,
      })
      await app.inject({ method: 'DELETE', url: `/jobs/${res.json().job_id}` })
      // Cancelled: no outputs, the inputs are no longer counted; budget 0 keeps only this newest job.
      expect(await health(app)).toMatchObject({ activeBytes: 0, storedBytes: 0, jobs: 1 })
    } finally {
      await app.close()
    }
  })
})

// issue 14 defect 1: json / identity / list values counted 0 bytes and queued inputs had no budget.
describe('worker memory budget bypass (issue 14 defect 1)', () => {
  // untyped (`*`): the `image` input is IMAGE, and a STRING would be refused before any budget applies
  const jsonValue = (chars: number, fill = 'x'): EncodedValue => ({
    type: '*',
    encoding: 'json',
    data: fill.repeat(chars),
  })
  const post = (app: FastifyInstance, value: EncodedValue, wait = '') =>
    app.inject({
      method: 'POST',
      url: `/run${wait}`,
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ inputs: { image: value } }),
    })

  it('worker memory budget bypass: large json results count their size and are evicted by maxStoredBytes', async () => {
    const app = await echoApp({ maxStoredBytes: 500_000, steps: 1, stepMs: 0 })
    try {
      const ids: string[] = []
      for (let i = 0; i < 6; i++) {
        const res = await post(app, jsonValue(200_000, String(i)), '?wait=10')
        expect(res.json().status).toBe('completed')
        ids.push(res.json().job_id)
      }
      const stored = (await health(app)).storedBytes
      expect(stored).toBeGreaterThanOrEqual(400_000) // two 200 kB results are held
      expect(stored).toBeLessThanOrEqual(500_000)
      const first = await app.inject({ method: 'GET', url: `/jobs/${ids[0]}` })
      expect(first.statusCode).toBe(404)
      expect(first.json().error.details.reason).toBe('memory_budget')
      expect((await app.inject({ method: 'GET', url: `/jobs/${ids[5]}` })).statusCode).toBe(200)
    } finally {
      await app.close()
    }
  })

  it('worker memory budget bypass: queued + running inputs beyond maxInputBytes get 503 QUEUE_FULL with Retry-After', async () => {
    const app = await echoApp({
      maxInputBytes: 1_000_000,
      concurrency: 1,
      steps: 1000,
      stepMs: 10,
      retryAfterSeconds: 3,
      shutdownGraceMs: 0,
    })
    try {
      expect((await post(app, jsonValue(400_000))).statusCode).toBe(202) // running
      expect((await post(app, jsonValue(400_000))).statusCode).toBe(202) // queued
      const refused = await post(app, jsonValue(400_000))
      expect(refused.statusCode).toBe(503)
      expect(refused.headers['retry-after']).toBe('3')
      expect(refused.json().error).toMatchObject({ code: 'QUEUE_FULL', details: { reason: 'input_budget' } })
      expect(refused.json().error.message).toMatch(/--max-input-bytes/)
      expect((await health(app)).activeBytes).toBeGreaterThanOrEqual(800_000)
    } finally {
      await app.close()
    }
  })

  it('worker memory budget bypass: one request whose inputs alone exceed maxInputBytes is a 413', async () => {
    const app = await echoApp({ maxInputBytes: 1_000_000 })
    try {
      const res = await post(app, jsonValue(1_200_000))
      expect(res.statusCode).toBe(413)
      expect(res.json().error).toMatchObject({
        code: 'PAYLOAD_TOO_LARGE',
        details: { reason: 'input_budget' },
      })
      expect((await health(app)).activeBytes).toBe(0)
    } finally {
      await app.close()
    }
  })

  it('binary parts spooled to disk do not count against maxInputBytes', async () => {
    const app = await echoApp({ maxInputBytes: 1_000_000, spoolThreshold: 64 * 1024, steps: 1, stepMs: 0 })
    try {
      const big = await run(app, image(300, 0.5)) // ~1 MiB npy > budget, spooled
      expect(big.status).toBe('completed')
    } finally {
      await app.close()
    }
  })
})

// Hostile and odd requests over a real port (issue 14): every answer is one of our coded envelopes.
import { MAX_JSON_DEPTH } from '@comfy-remote/protocol'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startWorker } from '../src/app.js'
import { echoPrompt } from './helpers.js'

const nested = (depth: number) => `${'['.repeat(depth)}1${']'.repeat(depth)}`
const body = (depth: number, key = 'input_1') =>
  `{"inputs": {"${key}": {"type": "*", "encoding": "json", "data": ${nested(depth)}}}}`

describe('hostile requests against the mock worker', () => {
  let app: FastifyInstance
  let url: string
  beforeAll(async () => {
    ;({ app, url } = await startWorker({
      workflow: echoPrompt(),
      port: 0,
      steps: 50,
      stepMs: 20,
      docs: false,
    }))
  })
  afterAll(() => app.close())

  const post = (text: string, headers: Record<string, string> = {}) =>
    fetch(`${url}/run`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: text,
    })

  // Defect 3: depth >= ~10,000 was a 500 from fingerprinting; ~3,000-4,900 was accepted and then every
  // GET /jobs/:id was a 500 and the SSE stream never ended.
  it.each([MAX_JSON_DEPTH + 1, 4_000, 20_000])(
    'deeply nested JSON (depth %i) is a coded 400 at parse time, before fingerprinting',
    async (depth) => {
      const res = await post(body(depth), { 'idempotency-key': `deep-${depth}` })
      expect(res.status).toBe(400)
      const env = (await res.json()) as { status: string; error: { code: string; message: string } }
      expect(env.error.code).toBe('BAD_REQUEST')
      expect(env.error.message).toMatch(`deeper than ${MAX_JSON_DEPTH} levels`)
      expect((await fetch(`${url}/health`)).status).toBe(200)
    },
  )

  it('nesting within the limit still runs and round-trips', async () => {
    const res = await post(body(MAX_JSON_DEPTH - 10), { 'idempotency-key': 'deep-ok' })
    expect([200, 202]).toContain(res.status)
    const env = (await res.json()) as { poll_url: string }
    const job = await fetch(new URL(env.poll_url, url))
    expect(job.status).toBe(200)
  })

  // Defect 7: many clients send Content-Type: application/json on every request.
  it('DELETE with Content-Type application/json and no body cancels the job', async () => {
    const submitted = (await (await post(body(1))).json()) as { job_id: string }
    const res = await fetch(`${url}/jobs/${submitted.job_id}`, {
      method: 'DELETE',
      headers: { 'content-type': 'application/json' },
    })
    expect(res.status).toBe(200)
    const env = (await res.json()) as { status: string }
    expect(['cancelled', 'completed']).toContain(env.status)
    const after = (await (await fetch(`${url}/jobs/${submitted.job_id}`)).json()) as { status: string }
    expect(after.status).toBe(env.status)
  })

  it('DELETE ignores any body and content type (text/plain, junk JSON)', async () => {
    for (const [type, text] of [
      ['text/plain', 'x'],
      ['application/json', '{not json'],
    ]) {
      const submitted = (await (await post(body(1))).json()) as { job_id: string }
      const res = await fetch(`${url}/jobs/${submitted.job_id}`, {
        method: 'DELETE',
        headers: { 'content-type': type! },
        body: text,
      })
      expect(res.status).toBe(200)
    }
  })

  // Defect 9: ids over Fastify's maxParamLength (100) got its raw 414 body.
  it.each([101, 200, 5000])('a job id of %i characters is our NOT_FOUND envelope', async (length) => {
    for (const path of [`/jobs/${'a'.repeat(length)}`, `/jobs/${'a'.repeat(length)}/events`]) {
      const res = await fetch(`${url}${path}`)
      expect(res.status).toBe(404)
      const env = (await res.json()) as { status: string; error: { code: string } }
      expect(env).toMatchObject({ status: 'failed', error: { code: 'NOT_FOUND' } })
    }
  })
})

import {
  decodeMultipart,
  encodeMultipart,
  encodeNpy,
  zErrorBody,
  zJobEnvelopeWire,
  zWorkflowSchema,
} from '@comfy-remote/protocol'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { echoApp, imageValue } from '../test/helpers.js'

describe('echo worker routes (inject)', () => {
  let app: FastifyInstance
  beforeAll(async () => {
    app = await echoApp({ docs: true })
  })
  afterAll(() => app.close())

  it('GET /health needs nothing and advertises multipart', async () => {
    const res = await app.inject({ method: 'GET', url: '/health' })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toMatchObject({ status: 'ok', engine: 'echo', transports: ['json', 'multipart'] })
  })

  it("GET /schema is the workflow's contract", async () => {
    const res = await app.inject({ method: 'GET', url: '/schema' })
    const body = zWorkflowSchema.parse(res.json())
    expect(body.inputs).toEqual([
      { name: 'image', nodeId: '1', type: 'IMAGE', required: true },
      { name: 'caption', nodeId: '5', type: '*', required: false, default: 'hello' },
    ])
    expect(body.outputs.map((o) => [o.name, o.type])).toEqual([
      ['result', 'IMAGE'],
      ['caption_out', '*'],
    ])
    expect(body.transports).toContain('multipart')
  })

  it('POST /run?wait= returns the finished envelope; outputs echo the upstream Remote Input', async () => {
    const image = imageValue([[1, 2, 3]])
    const res = await app.inject({ method: 'POST', url: '/run?wait=10', payload: { inputs: { image } } })
    expect(res.statusCode).toBe(200)
    const env = zJobEnvelopeWire.parse(res.json())
    expect(env.status).toBe('completed')
    expect(env.outputs?.result).toEqual(image)
    expect(env.result).toEqual(image)
    expect(env.outputs?.caption_out).toEqual({ type: '*', encoding: 'json', data: 'hello' })
    expect(env.progress).toEqual({ value: 2, max: 2 })
  })

  it('POST / accepts the original list form (input_1 -> first Remote Input)', async () => {
    const payload = {
      node: { id: '9', name: 'Remote API' },
      inputs: [
        { name: 'input_1', comfy_type: 'IMAGE', encoding: 'identity', data: [7] },
        { name: 'input_2', comfy_type: 'STRING', encoding: 'json', data: 'hi' },
      ],
      input_order: ['input_1', 'input_2'],
    }
    const res = await app.inject({ method: 'POST', url: '/?wait=10', payload })
    const env = res.json()
    expect(env.status).toBe('completed')
    expect(env.outputs.result).toMatchObject({ type: 'IMAGE', data: [7] })
    expect(env.outputs.caption_out).toMatchObject({ type: 'STRING', data: 'hi' })
  })

  it.each([
    [
      'two names for one Remote Input',
      { image: imageValue(), input_1: imageValue() },
      /already receives inputs\.image/,
    ],
    ['a zero-padded original name', { input_01: imageValue() }, /inputs\.input_01: unknown input/],
  ])('POST /run rejects %s with 400 naming the field', async (_label, inputs, message) => {
    const res = await app.inject({ method: 'POST', url: '/run', payload: { inputs } })
    expect(res.statusCode).toBe(400)
    expect(res.json().error.message).toMatch(message)
  })

  it('POST /run without wait answers 202 with poll_url and Location; long-poll reaches completion', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/run',
      payload: { inputs: { image: imageValue() } },
    })
    expect(res.statusCode).toBe(202)
    const env = zJobEnvelopeWire.parse(res.json())
    expect(['pending', 'running']).toContain(env.status)
    expect(env.poll_url).toBe(`/jobs/${env.job_id}`)
    expect(res.headers.location).toBe(env.poll_url)
    let status = env.status
    for (let i = 0; i < 20 && status !== 'completed'; i++) {
      const poll = await app.inject({ method: 'GET', url: `${env.poll_url}?wait=5` })
      expect(poll.statusCode).toBe(200)
      status = poll.json().status
    }
    expect(status).toBe('completed')
  })

  it.each([
    ['missing required input', { inputs: {} }, 'inputs.image'],
    ['unknown input', { inputs: { image: imageValue(), nope: imageValue() } }, 'inputs.nope'],
    ['inputs is a number', { inputs: 5 }, 'inputs'],
    ['value without encoding', { inputs: { image: { type: 'IMAGE', data: 1 } } }, 'inputs.image.encoding'],
    ['list input without name', { inputs: [{ encoding: 'json', data: 1 }] }, 'inputs[0].name'],
  ])('400 for %s, naming the field', async (_label, payload, field) => {
    const res = await app.inject({ method: 'POST', url: '/run', payload })
    expect(res.statusCode).toBe(400)
    const body = zErrorBody.parse(res.json())
    expect(body.error.code).toBe('BAD_REQUEST')
    expect(body.error.message).toContain(field)
  })

  it('400 for malformed JSON and 415 for an unknown content type, without stack traces', async () => {
    const bad = await app.inject({
      method: 'POST',
      url: '/run',
      payload: '{"inputs":',
      headers: { 'content-type': 'application/json' },
    })
    expect(bad.statusCode).toBe(400)
    expect(bad.json().error.code).toBe('BAD_REQUEST')
    expect(bad.body).not.toMatch(/\bat .*\.js:\d+/)
    const text = await app.inject({
      method: 'POST',
      url: '/run',
      payload: '<x/>',
      headers: { 'content-type': 'application/xml' },
    })
    expect(text.statusCode).toBe(415)
    expect(text.json().error.code).toBe('UNSUPPORTED_MEDIA_TYPE')
  })

  it('400 for a bad ?wait=', async () => {
    const res = await app.inject({ method: 'GET', url: '/jobs/x?wait=soon' })
    expect(res.statusCode).toBe(400)
    expect(res.json().error.message).toContain('querystring.wait')
  })

  it('404 envelopes for unknown jobs and routes', async () => {
    const job = await app.inject({ method: 'GET', url: '/jobs/does-not-exist' })
    expect(job.statusCode).toBe(404)
    expect(job.json().error).toMatchObject({ code: 'NOT_FOUND' })
    expect(job.json().error.message).toContain('does-not-exist')
    const route = await app.inject({ method: 'GET', url: '/nope' })
    expect(route.statusCode).toBe(404)
    expect(route.json().status).toBe('failed')
  })

  it('the same Idempotency-Key gives the same job', async () => {
    const send = () =>
      app.inject({
        method: 'POST',
        url: '/run',
        payload: { inputs: { image: imageValue() } },
        headers: { 'idempotency-key': 'k-1' },
      })
    const [a, b] = await Promise.all([send(), send()])
    const c = await send()
    expect(a.json().job_id).toBeDefined()
    expect(b.json().job_id).toBe(a.json().job_id)
    expect(c.json().job_id).toBe(a.json().job_id)
    const other = await app.inject({
      method: 'POST',
      url: '/run',
      payload: { inputs: { image: imageValue() } },
      headers: { 'idempotency-key': 'k-2' },
    })
    expect(other.json().job_id).not.toBe(a.json().job_id)
  })

  it('an Idempotency-Key reused for a different request is a 409', async () => {
    const send = (data: unknown) =>
      app.inject({
        method: 'POST',
        url: '/run',
        payload: { inputs: { image: imageValue(data) } },
        headers: { 'idempotency-key': 'k-conflict' },
      })
    const first = await send([1, 2])
    expect(first.statusCode).toBeLessThan(300)
    const again = await send([1, 2])
    expect(again.json().job_id).toBe(first.json().job_id)
    const other = await send([3, 4]) // same size, different data: a different request
    expect(other.statusCode).toBe(409)
    expect(other.json().error.code).toBe('IDEMPOTENCY_CONFLICT')
    expect(other.json().error.message).toContain(first.json().job_id)
  })

  it('multipart in, multipart out when asked; JSON with base64 when not', async () => {
    const bytes = encodeNpy({ dtype: 'float32', shape: [1, 2, 2, 3], data: new Float32Array(12).fill(0.5) })
    const { body, contentType } = encodeMultipart({
      inputs: { image: { type: 'IMAGE', encoding: 'npy', data: bytes } },
    })
    const payload = Buffer.from(body)
    const multi = await app.inject({
      method: 'POST',
      url: '/run?wait=10',
      payload,
      headers: { 'content-type': contentType, accept: 'multipart/form-data, application/json' },
    })
    expect(multi.statusCode).toBe(200)
    expect(multi.headers['content-type']).toContain('multipart/form-data')
    const decoded = decodeMultipart(
      new Uint8Array(multi.rawPayload),
      String(multi.headers['content-type']),
    ) as {
      status: string
      outputs: { result: { data: Uint8Array } }
    }
    expect(decoded.status).toBe('completed')
    expect(decoded.outputs.result.data).toEqual(bytes)
    const json = await app.inject({
      method: 'POST',
      url: '/run?wait=10',
      payload,
      headers: { 'content-type': contentType },
    })
    expect(json.headers['content-type']).toContain('application/json')
    expect(Buffer.from(json.json().outputs.result.data, 'base64')).toEqual(Buffer.from(bytes))
  })

  it('a malformed multipart body is a 400', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/run',
      payload: 'garbage',
      headers: { 'content-type': 'multipart/form-data; boundary=xyz' },
    })
    expect(res.statusCode).toBe(400)
    expect(res.json().status).toBe('failed')
  })

  it('serves OpenAPI generated from the zod schemas at /docs', async () => {
    const spec = (await app.inject({ method: 'GET', url: '/docs/json' })).json()
    expect(Object.keys(spec.paths)).toEqual(
      expect.arrayContaining(['/run', '/', '/jobs/{id}', '/jobs/{id}/events', '/schema', '/health']),
    )
    expect(spec.paths['/run'].post.responses['202']).toBeDefined()
    const ui = await app.inject({ method: 'GET', url: '/docs' })
    expect(ui.statusCode).toBeLessThan(400)
  })
})

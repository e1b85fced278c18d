import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { echoApp } from '../test/helpers.js'

const run = { inputs: { image: { type: 'IMAGE', encoding: 'json', data: [[0.5]] } } }

describe('browser defences of a local worker', () => {
  let app: FastifyInstance
  beforeAll(async () => {
    app = await echoApp({ allowOrigins: ['http://127.0.0.1:8188'] })
  })
  afterAll(() => app.close())

  it.each([
    ['no Origin (a program)', {}, 202],
    ['its own origin', { host: '127.0.0.1:8787', origin: 'http://127.0.0.1:8787' }, 202],
    ['an allowed origin', { origin: 'http://127.0.0.1:8188' }, 202],
    ['a foreign web page', { origin: 'https://evil.example' }, 403],
    ['a page on another local port', { host: '127.0.0.1:8787', origin: 'http://127.0.0.1:9999' }, 403],
    ['a rebinding host name', { host: 'evil.example:8787' }, 403],
  ])('POST /run from %s answers %i', async (_, headers, status) => {
    const res = await app.inject({ method: 'POST', url: '/run', payload: run, headers })
    expect(res.statusCode).toBe(status)
    if (status === 403) {
      expect(res.json()).toMatchObject({
        status: 'failed',
        error: { code: expect.stringMatching(/^FORBIDDEN_/) },
      })
      expect(res.json().error.message).toMatch(/127\.0\.0\.1|--allow-origin/)
    }
  })

  it('text/plain bodies (what an HTML form can post cross-site) are refused with 415', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/run',
      payload: JSON.stringify(run),
      headers: { 'content-type': 'text/plain' },
    })
    expect(res.statusCode).toBe(415)
    expect(res.json()).toMatchObject({ status: 'failed', error: { code: 'UNSUPPORTED_MEDIA_TYPE' } })
  })

  it('a worker bound to a public interface (with a token) does not check Host', async () => {
    const open = await echoApp({ host: '0.0.0.0', token: 'secret-token-123' })
    try {
      const res = await open.inject({
        method: 'GET',
        url: '/schema',
        headers: { host: 'gpu-box.lan:8787', authorization: 'Bearer secret-token-123' },
      })
      expect(res.statusCode).toBe(200)
    } finally {
      await open.close()
    }
  })
})

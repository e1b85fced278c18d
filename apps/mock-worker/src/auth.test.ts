import { describe, expect, it } from 'vitest'
import { echoApp, echoPrompt } from '../test/helpers.js'
import { buildApp } from './app.js'
import { isMockWorkerError } from './errors.js'

describe('auth and host safety', () => {
  it('with a token every route but /health needs the bearer token', async () => {
    const app = await echoApp({ token: 's3cret-token' })
    try {
      expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200)
      const none = await app.inject({ method: 'GET', url: '/schema' })
      expect(none.statusCode).toBe(401)
      expect(none.headers['www-authenticate']).toContain('Bearer')
      expect(none.json().error.code).toBe('UNAUTHORIZED')
      const wrong = await app.inject({
        method: 'GET',
        url: '/schema',
        headers: { authorization: 'Bearer nope' },
      })
      expect(wrong.statusCode).toBe(401)
      const post = await app.inject({ method: 'POST', url: '/run', payload: { inputs: {} } })
      expect(post.statusCode).toBe(401)
      const ok = await app.inject({
        method: 'GET',
        url: '/schema',
        headers: { authorization: 'Bearer s3cret-token' },
      })
      expect(ok.statusCode).toBe(200)
    } finally {
      await app.close()
    }
  })

  it('refuses a non-loopback host without a token', async () => {
    const error = await buildApp({ workflow: echoPrompt(), host: '0.0.0.0' }).catch((e: unknown) => e)
    expect(isMockWorkerError(error) && error.code).toBe('INSECURE_HOST')
    const app = await buildApp({
      workflow: echoPrompt(),
      host: '0.0.0.0',
      token: 'long-enough-token',
      docs: false,
    })
    await app.close()
  })

  it('rejects bad options naming the field', async () => {
    const error = await buildApp({ workflow: echoPrompt(), failRate: 2, steps: 0 }).catch((e: unknown) => e)
    expect(isMockWorkerError(error) && error.code).toBe('INVALID_OPTIONS')
    expect(String((error as Error).message)).toMatch(/failRate.*steps|steps.*failRate/)
  })

  it('rejects a workflow without a Remote Output', async () => {
    const error = await buildApp({
      workflow: { '1': { class_type: 'ComfyRemoteInput', inputs: { key: 'a' } } },
    }).catch((e: unknown) => e)
    expect(isMockWorkerError(error) && error.code).toBe('INVALID_WORKFLOW')
  })
})

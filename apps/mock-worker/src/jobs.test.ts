import { describe, expect, it } from 'vitest'
import { echoApp, imageValue } from '../test/helpers.js'

describe('jobs: cancel, queue, TTL, failure injection', () => {
  it('DELETE cancels a running job and it stays cancelled', async () => {
    const app = await echoApp({ steps: 100, stepMs: 20 })
    try {
      const { job_id } = (
        await app.inject({ method: 'POST', url: '/run', payload: { inputs: { image: imageValue() } } })
      ).json()
      const del = await app.inject({ method: 'DELETE', url: `/jobs/${job_id}` })
      expect(del.statusCode).toBe(200)
      expect(del.json()).toMatchObject({ status: 'cancelled', error: { code: 'CANCELLED' } })
      await new Promise((r) => setTimeout(r, 60))
      expect((await app.inject({ method: 'GET', url: `/jobs/${job_id}` })).json().status).toBe('cancelled')
    } finally {
      await app.close()
    }
  })

  it('reports queue positions under a concurrency limit, and cancelling a queued job moves the others up', async () => {
    const app = await echoApp({ steps: 100, stepMs: 20, concurrency: 1, shutdownGraceMs: 0 })
    try {
      const submit = async () =>
        (
          await app.inject({ method: 'POST', url: '/run', payload: { inputs: { image: imageValue() } } })
        ).json()
      const first = await submit()
      const second = await submit()
      const third = await submit()
      expect(first.status).toBe('running')
      expect(second).toMatchObject({ status: 'pending', queue_position: 1 })
      expect(third).toMatchObject({ status: 'pending', queue_position: 2 })
      await app.inject({ method: 'DELETE', url: `/jobs/${second.job_id}` })
      expect((await app.inject({ method: 'GET', url: `/jobs/${third.job_id}` })).json().queue_position).toBe(
        1,
      )
    } finally {
      await app.close()
    }
  })

  it('503 QUEUE_FULL when the queue is full', async () => {
    const app = await echoApp({ steps: 100, stepMs: 20, concurrency: 1, maxQueue: 1, shutdownGraceMs: 0 })
    try {
      const submit = () =>
        app.inject({ method: 'POST', url: '/run', payload: { inputs: { image: imageValue() } } })
      expect((await submit()).statusCode).toBe(202)
      expect((await submit()).statusCode).toBe(202)
      const full = await submit()
      expect(full.statusCode).toBe(503)
      expect(full.json().error.code).toBe('QUEUE_FULL')
    } finally {
      await app.close()
    }
  })

  it('finished jobs expire after the TTL with a 404 that says so', async () => {
    const app = await echoApp({ resultTtlSeconds: 0.05 })
    try {
      const env = (
        await app.inject({
          method: 'POST',
          url: '/run?wait=10',
          payload: { inputs: { image: imageValue() } },
        })
      ).json()
      expect(env.status).toBe('completed')
      await new Promise((r) => setTimeout(r, 120))
      const res = await app.inject({ method: 'GET', url: env.poll_url })
      expect(res.statusCode).toBe(404)
      expect(res.json().error.message).toMatch(/expired/)
    } finally {
      await app.close()
    }
  })

  it('--fail-rate 1 fails every job with INJECTED_FAILURE (an envelope, not a crash)', async () => {
    const app = await echoApp({ failRate: 1 })
    try {
      const res = await app.inject({
        method: 'POST',
        url: '/run?wait=10',
        payload: { inputs: { image: imageValue() } },
      })
      expect(res.statusCode).toBe(200)
      expect(res.json()).toMatchObject({ status: 'failed', error: { code: 'INJECTED_FAILURE' } })
      expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200)
    } finally {
      await app.close()
    }
  })

  it('413 with the limit in the message for a body over the limit', async () => {
    const app = await echoApp({ bodyLimit: 4096 })
    try {
      const res = await app.inject({
        method: 'POST',
        url: '/run',
        payload: { inputs: { image: imageValue('x'.repeat(10_000)) } },
      })
      expect(res.statusCode).toBe(413)
      expect(res.json().error.code).toBe('PAYLOAD_TOO_LARGE')
      expect(res.json().error.message).toContain('4096')
    } finally {
      await app.close()
    }
  })

  it('logs one line per job state change, and a graceful close finishes running jobs and refuses new ones', async () => {
    const lines: Array<Record<string, unknown>> = []
    const stream = { write: (line: string) => lines.push(JSON.parse(line)) }
    const app = await echoApp({
      steps: 5,
      stepMs: 20,
      shutdownGraceMs: 5_000,
      logger: { level: 'info', stream },
    })
    const { job_id } = (
      await app.inject({ method: 'POST', url: '/run', payload: { inputs: { image: imageValue() } } })
    ).json()
    const closing = app.close()
    const refused = await app
      .inject({ method: 'POST', url: '/run', payload: { inputs: { image: imageValue() } } })
      .catch(() => undefined)
    if (refused !== undefined) expect(refused.statusCode).toBe(503)
    await closing
    const states = lines.filter((l) => l.jobId === job_id).map((l) => l.msg)
    expect(states).toEqual(['job pending', 'job running', 'job completed'])
  })

  it('a close with no grace cancels running jobs', async () => {
    const lines: Array<Record<string, unknown>> = []
    const stream = { write: (line: string) => lines.push(JSON.parse(line)) }
    const app = await echoApp({
      steps: 100,
      stepMs: 20,
      shutdownGraceMs: 0,
      logger: { level: 'info', stream },
    })
    const { job_id } = (
      await app.inject({ method: 'POST', url: '/run', payload: { inputs: { image: imageValue() } } })
    ).json()
    await app.close()
    expect(lines.filter((l) => l.jobId === job_id).map((l) => l.msg)).toEqual([
      'job pending',
      'job running',
      'job cancelled',
    ])
  })
})

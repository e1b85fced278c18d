import { afterEach, describe, expect, it } from 'vitest'
import { createRemoteClient, isRemoteJobError } from '../src/index.js'
import { type FlakyWorker, startFlakyWorker } from './helpers/flaky-worker.js'
import { json, startServer, type TestServer, until, wait } from './helpers/server.js'
import { startV1Worker, type V1Worker } from './helpers/v1-worker.js'

let flaky: FlakyWorker | undefined
let v1: V1Worker | undefined
afterEach(async () => {
  await flaky?.close()
  await v1?.close()
  flaky = undefined
  v1 = undefined
})

const input = { a: { type: 'INT', encoding: 'json', data: 1 } } as const
const POLL = 150

describe('cancellation', () => {
  it('aborting mid-job sends DELETE and stops polling within one poll interval', async () => {
    flaky = await startFlakyWorker(1_000)
    const w = flaky
    const controller = new AbortController()
    const client = createRemoteClient({ url: w.url, pollInterval: POLL, follow: 'poll', timeout: 15_000 })
    const running = client.run(input, { signal: controller.signal }).catch((e: unknown) => e)
    const polls = () => w.requests.filter((r) => r.method === 'GET' && r.path === '/jobs/job1')
    await until(() => polls().length >= 2)
    const abortedAt = Date.now()
    controller.abort()
    const error = await running
    expect(isRemoteJobError(error) && error.code).toBe('CANCELLED')
    const del = w.requests.find((r) => r.method === 'DELETE')
    expect(del?.path).toBe('/jobs/job1')
    // watch two more poll intervals: nothing may poll after the abort settled
    const count = polls().length
    await wait(POLL * 2)
    expect(polls().length).toBe(count)
    expect(polls().every((r) => r.at <= abortedAt + POLL)).toBe(true)
  })

  it('aborting while following server-sent events cancels the job and closes the stream', async () => {
    v1 = await startV1Worker({ steps: 1_000_000, tick: 30 })
    const w = v1
    const controller = new AbortController()
    const values: number[] = []
    const running = createRemoteClient({ url: w.url, pollInterval: POLL, timeout: 15_000 })
      .run(input, { signal: controller.signal, onProgress: (p) => values.push(p.value) })
      .catch((e: unknown) => e)
    await until(() => values.length >= 3)
    controller.abort()
    const error = await running
    expect(isRemoteJobError(error) && error.code).toBe('CANCELLED')
    expect(isRemoteJobError(error) && error.jobId).toBe('j1')
    expect(w.requests.some((r) => r.method === 'DELETE' && r.path === '/jobs/j1')).toBe(true)
    expect(w.jobs.get('j1')?.cancelled).toBe(true)
    expect(values).toEqual([...values].sort((a, b) => a - b))
  })

  it('an already aborted signal sends nothing and rejects with CANCELLED', async () => {
    flaky = await startFlakyWorker()
    const error = await createRemoteClient({ url: flaky.url })
      .run(input, { signal: AbortSignal.abort() })
      .catch((e: unknown) => e)
    expect(isRemoteJobError(error) && error.code).toBe('CANCELLED')
    expect(flaky.requests.filter((r) => r.method === 'POST')).toHaveLength(0)
  })

  // Issue 14 defect 8: the client polled the announced poll_url but sent DELETE to <base>/jobs/<id>.
  it('cancels the job resource the server announced (poll_url), not <base>/jobs/<id>', async () => {
    let server: TestServer | undefined
    try {
      server = await startServer((req, res) => {
        if (req.path === '/api/health') return json(res, 200, { status: 'ok', transports: ['json'] })
        if (req.method === 'POST' && req.path === '/api/run')
          return json(res, 202, { status: 'running', job_id: 'j1', poll_url: '/queue/j1' })
        if (req.path === '/queue/j1' && req.method === 'GET')
          return json(res, 200, { status: 'running', job_id: 'j1', poll_url: '/queue/j1' })
        if (req.path === '/queue/j1' && req.method === 'DELETE')
          return json(res, 200, { status: 'cancelled', job_id: 'j1' })
        return json(res, 404, { status: 'failed', error: { code: 'NOT_FOUND', message: req.path } })
      })
      const s = server
      const controller = new AbortController()
      const client = createRemoteClient({ url: `${s.url}/api/`, pollInterval: 50, follow: 'poll' })
      const running = client.run(input, { signal: controller.signal }).catch((e: unknown) => e)
      await until(() => s.requests.some((r) => r.method === 'GET' && r.path === '/queue/j1'))
      controller.abort()
      const error = await running
      expect(isRemoteJobError(error) && error.code).toBe('CANCELLED')
      expect(s.requests.filter((r) => r.method === 'DELETE').map((r) => r.path)).toEqual(['/queue/j1'])
    } finally {
      await server?.close()
    }
  })
})

import { afterEach, describe, expect, it } from 'vitest'
import type { ProgressInfo } from '../src/index.js'
import { createRemoteClient, isRemoteJobError } from '../src/index.js'
import { type FlakyWorker, startFlakyWorker } from './helpers/flaky-worker.js'

let worker: FlakyWorker | undefined
afterEach(async () => {
  await worker?.close()
  worker = undefined
})

const input = { a: { type: 'INT', encoding: 'json', data: 1 } } as const
const options = (url: string) => ({
  url,
  pollInterval: 20,
  requestTimeout: 800,
  timeout: 15_000,
  retry: { retries: 4, minDelay: 10, maxDelay: 50 },
})
const posts = (w: FlakyWorker) => w.requests.filter((r) => r.method === 'POST')

describe('a worker that fails', () => {
  it('retries a dropped, 502, 429 and slow submit with one idempotency key: the job runs once', async () => {
    worker = await startFlakyWorker()
    worker.faults.post.push('drop', '502', '429', 'slow')
    const progress: ProgressInfo[] = []
    const env = await createRemoteClient(options(worker.url)).run(input, {
      onProgress: (p) => progress.push(p),
    })
    expect(env.status).toBe('completed')
    expect(env.outputs?.out).toMatchObject({ data: 1 })
    // 4 failed attempts + the one that got through (more only if this machine is very slow)
    expect(posts(worker).length).toBeGreaterThanOrEqual(5)
    expect(new Set(posts(worker).map((r) => r.headers['idempotency-key'])).size).toBe(1)
    expect(worker.jobsCreated()).toBe(1)
    expect(progress.map((p) => p.value)).toEqual([0, 1, 2, 3])
  })

  it('honours Retry-After on a 503', async () => {
    worker = await startFlakyWorker(1)
    worker.faults.post.push('503-retry-after')
    await createRemoteClient(options(worker.url)).run(input)
    const [first, second] = posts(worker)
    expect(second && first && second.at - first.at).toBeGreaterThanOrEqual(950)
    expect(worker.jobsCreated()).toBe(1)
  })

  it('keeps polling through 503s, dropped connections, malformed JSON and slow answers', async () => {
    worker = await startFlakyWorker(3)
    worker.faults.get.push('503', 'drop', 'malformed', 'slow', '502')
    const progress: ProgressInfo[] = []
    const env = await createRemoteClient(options(worker.url)).run(input, {
      onProgress: (p) => progress.push(p),
    })
    expect(env.status).toBe('completed')
    expect(progress.map((p) => p.value)).toEqual([0, 1, 2, 3])
    expect(worker.jobsCreated()).toBe(1)
  })

  it('gives up with NETWORK after the retries of a submit, and with UNAUTHORIZED at once on 401', async () => {
    worker = await startFlakyWorker()
    worker.faults.post.push('drop', 'drop', 'drop', 'drop', 'drop', 'drop')
    const error = await createRemoteClient(options(worker.url))
      .run(input)
      .catch((e: unknown) => e)
    expect(isRemoteJobError(error) && error.code).toBe('NETWORK')
    expect(posts(worker)).toHaveLength(5)

    worker.faults.post.length = 0
    worker.faults.post.push('401')
    const denied = await createRemoteClient({ ...options(worker.url), token: 'wrong' })
      .run(input)
      .catch((e: unknown) => e)
    expect(isRemoteJobError(denied) && denied.code).toBe('UNAUTHORIZED')
    expect(isRemoteJobError(denied) && denied.status).toBe(401)
    expect((denied as Error).message).toMatch(/token/)
    const last = posts(worker).at(-1)
    expect(last?.headers.authorization).toBe('Bearer wrong')
    expect(posts(worker)).toHaveLength(6)
  })

  it('rejects with NETWORK when nothing listens (after its retries)', async () => {
    const gone = await startFlakyWorker()
    await gone.close()
    const error = await createRemoteClient({ ...options(gone.url), retry: { retries: 1, minDelay: 5 } })
      .run(input)
      .catch((e: unknown) => e)
    expect(isRemoteJobError(error) && error.code).toBe('NETWORK')
    expect((error as Error).message).toMatch(/check the server is up/)
  })

  it('rejects with TIMEOUT when the job outlives the timeout, and cancels it', async () => {
    worker = await startFlakyWorker(1_000)
    const error = await createRemoteClient({ ...options(worker.url), timeout: 400 })
      .run(input)
      .catch((e: unknown) => e)
    expect(isRemoteJobError(error) && error.code).toBe('TIMEOUT')
    expect(worker.requests.some((r) => r.method === 'DELETE' && r.path === '/jobs/job1')).toBe(true)
  })
})

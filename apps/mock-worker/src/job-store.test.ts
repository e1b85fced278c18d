import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isMockWorkerError, MockWorkerError } from './errors.js'
import type { Runner } from './job.js'
import { JobStore, type JobStoreOptions } from './job-store.js'

const silent = { info: () => {}, warn: () => {} }

function store(runner: Runner, options: Partial<JobStoreOptions> = {}): JobStore {
  return new JobStore({
    runner,
    logger: silent,
    concurrency: 2,
    maxQueue: 100,
    maxJobs: 1000,
    resultTtlMs: 60_000,
    ...options,
  })
}

const deferred = () => {
  let resolve!: (v: Record<string, never>) => void
  let reject!: (e: unknown) => void
  const promise = new Promise<Record<string, never>>((a, b) => {
    resolve = a
    reject = b
  })
  return { promise, resolve, reject }
}

describe('JobStore', () => {
  it('never runs more than `concurrency` jobs and runs them FIFO', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 12 }),
        async (concurrency, count) => {
          let active = 0
          let peak = 0
          const order: number[] = []
          const s = store(
            async (job) => {
              active++
              peak = Math.max(peak, active)
              order.push(job.payload as number)
              await new Promise((r) => setTimeout(r, 1))
              active--
              return {}
            },
            { concurrency },
          )
          const jobs = Array.from({ length: count }, (_, i) => s.submit(i).job)
          await Promise.all(jobs.map((job) => s.waitFor(job, (j) => j.status === 'completed', 5_000)))
          s.close()
          expect(peak).toBeLessThanOrEqual(concurrency)
          expect(order).toEqual(Array.from({ length: count }, (_, i) => i))
          expect(jobs.every((j) => j.status === 'completed')).toBe(true)
        },
      ),
      { numRuns: 20 },
    )
  })

  it('a cancelled running job stays cancelled when the engine finishes later', async () => {
    const d = deferred()
    const s = store(() => d.promise)
    const { job } = s.submit(null)
    s.cancel(job.id)
    d.resolve({})
    await new Promise((r) => setTimeout(r, 5))
    expect(job.status).toBe('cancelled')
    expect(job.error?.code).toBe('CANCELLED')
    s.close()
  })

  it('maps engine errors: coded ones keep their code, others become JOB_FAILED without a stack', async () => {
    const s = store(async (job) => {
      if (job.payload === 'coded')
        throw new MockWorkerError('COMFYUI_EXECUTION', 'boom', { details: { node_id: '3' } })
      throw new TypeError('undefined is not a function')
    })
    const a = s.submit('coded').job
    const b = s.submit('plain').job
    await s.waitFor(a, (j) => j.finishedAt !== undefined, 1_000)
    await s.waitFor(b, (j) => j.finishedAt !== undefined, 1_000)
    expect(a.error).toEqual({ code: 'COMFYUI_EXECUTION', message: 'boom', details: { node_id: '3' } })
    expect(b.error?.code).toBe('JOB_FAILED')
    expect(b.error?.message).not.toMatch(/\n\s+at /)
    s.close()
  })

  it('evicts the oldest finished job when full, and refuses when every job is unfinished', async () => {
    const s = store(async () => ({}), { maxJobs: 2 })
    const first = s.submit(1).job
    await s.waitFor(first, (j) => j.status === 'completed', 1_000)
    const second = s.submit(2).job
    await s.waitFor(second, (j) => j.status === 'completed', 1_000)
    s.submit(3)
    expect(s.get(first.id)).toBeUndefined()
    expect(s.wasExpired(first.id)).toBe(true)
    s.close()
    const busy = store(() => new Promise(() => {}), { maxJobs: 1 })
    busy.submit(1)
    const error = (() => {
      try {
        busy.submit(2)
      } catch (e) {
        return e
      }
    })()
    expect(isMockWorkerError(error) && error.code).toBe('QUEUE_FULL')
    busy.close()
  })

  it('drain cancels queued jobs and refuses new ones', async () => {
    const s = store(() => new Promise(() => {}), { concurrency: 1 })
    const running = s.submit(1).job
    const queued = s.submit(2).job
    await s.drain(0)
    expect(queued.status).toBe('cancelled')
    expect(running.status).toBe('cancelled')
    expect(() => s.submit(3)).toThrow(/shutting down/)
    s.close()
  })

  it('idempotency keys return the same job until it expires', async () => {
    const s = store(async () => ({}), { resultTtlMs: 30 })
    const a = s.submit(1, 'k')
    const b = s.submit(2, 'k')
    expect(a.created).toBe(true)
    expect(b.created).toBe(false)
    expect(b.job).toBe(a.job)
    await s.waitFor(a.job, (j) => j.status === 'completed', 1_000)
    await new Promise((r) => setTimeout(r, 50))
    const c = s.submit(3, 'k')
    expect(c.created).toBe(true)
    expect(c.job.id).not.toBe(a.job.id)
    s.close()
  })
})

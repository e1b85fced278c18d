import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isMockWorkerError, MockWorkerError } from './errors.js'
import type { Job, Runner } from './job.js'
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
    expect(s.goneReason(first.id)).toBe('evicted-count')
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

  it('drops the request payload once the runner has it, and when a queued job is cancelled', async () => {
    const gate = deferred()
    const seen: unknown[] = []
    const s = store(
      (job) => {
        seen.push(job.payload)
        return gate.promise
      },
      { concurrency: 1 },
    )
    const running = s.submit({ image: 'a' }, undefined, async () => 'print', 100).job
    const queued = s.submit({ image: 'b' }, undefined, async () => 'print', 50).job
    expect(seen).toEqual([{ image: 'a' }])
    expect(running.payload).toBeUndefined()
    expect(queued.payload).toEqual({ image: 'b' })
    expect(s.stats.activeBytes).toBe(150)
    s.cancel(queued.id)
    expect(queued.payload).toBeUndefined()
    expect(s.stats.activeBytes).toBe(100)
    gate.resolve({})
    await s.waitFor(running, (j) => j.status === 'completed', 1_000)
    expect(s.stats).toMatchObject({ activeBytes: 0, storedBytes: 0 })
    expect(await running.fingerprint()).toBe('print') // what idempotency compares survives
    s.close()
  })

  it('keeps finished outputs within maxStoredBytes, oldest evicted first, the newest always kept', async () => {
    const out = (n: number) => ({
      image: { type: 'IMAGE', encoding: 'npy' as const, data: new Uint8Array(n) },
    })
    const sizes = [40, 30, 50, 500, 10]
    let i = 0
    const s = store(async () => out(sizes[i++] ?? 0) as never, { concurrency: 1, maxStoredBytes: 100 })
    const jobs: Job[] = []
    for (const _ of sizes) {
      const job = s.submit(null).job
      await s.waitFor(job, (j) => j.status === 'completed', 1_000)
      jobs.push(job)
    }
    const alive = () => jobs.map((j) => s.get(j.id) !== undefined)
    // 40+30 fit; +50 evicts 40; 500 alone over budget: evicts everything else but stays; +10 evicts 500.
    expect(alive()).toEqual([false, false, false, false, true])
    expect(jobs.slice(0, 4).map((j) => s.goneReason(j.id))).toEqual(Array(4).fill('evicted-memory'))
    expect(jobs[0]?.outputs).toBeUndefined() // the evicted job lets go of its bytes
    expect(s.stats.storedBytes).toBe(10)
    s.close()
  })
})

import { randomUUID } from 'node:crypto'
import type { EncodedValue } from '@comfy-remote/protocol'
import { isMockWorkerError, MockWorkerError } from './errors.js'
import { isTerminal, type Job, type JobError, type JobStatus, type RunContext, type Runner } from './job.js'
import { JobEvents } from './job-events.js'

export interface JobLogger {
  info(obj: object, msg: string): void
  warn(obj: object, msg: string): void
}

export interface JobStoreOptions {
  runner: Runner
  logger: JobLogger
  /** Jobs handed to the engine at once. */
  concurrency: number
  /** Jobs waiting for a slot at most; beyond it submit throws QUEUE_FULL. */
  maxQueue: number
  /** Jobs kept in memory at most (active + finished); oldest finished are evicted first. */
  maxJobs: number
  /** How long a finished job stays readable, in ms. */
  resultTtlMs: number
}

const EXPIRED_MEMORY = 10_000

/**
 * Bounded in-memory job store: FIFO queue with a concurrency limit, queue
 * positions, idempotency keys, TTL for finished jobs, change listeners.
 */
export class JobStore {
  readonly #o: JobStoreOptions
  readonly #jobs = new Map<string, Job>()
  readonly #byKey = new Map<string, string>()
  readonly #queue: Job[] = []
  readonly #running = new Map<string, { abort: AbortController; done: Promise<void> }>()
  readonly #events = new JobEvents()
  readonly #expired = new Set<string>()
  readonly #sweep: NodeJS.Timeout
  #accepting = true

  constructor(options: JobStoreOptions) {
    this.#o = options
    this.#sweep = setInterval(() => this.sweep(), Math.max(50, Math.min(options.resultTtlMs, 5_000)))
    this.#sweep.unref()
  }

  get accepting(): boolean {
    return this.#accepting
  }

  /** Throws SHUTTING_DOWN once `shutdown` has begun. */
  assertAccepting(): void {
    if (!this.#accepting) {
      throw new MockWorkerError(
        'SHUTTING_DOWN',
        'The worker is shutting down and accepts no new jobs; retry on another worker.',
      )
    }
  }

  get stats(): { jobs: number; running: number; queued: number } {
    return { jobs: this.#jobs.size, running: this.#running.size, queued: this.#queue.length }
  }

  /** Submit a job; the same idempotency key returns the same job. */
  submit(payload: unknown, idempotencyKey?: string, fingerprint = ''): { job: Job; created: boolean } {
    if (idempotencyKey !== undefined) {
      const job = this.findByKey(idempotencyKey)
      if (job !== undefined) return { job, created: false }
    }
    this.assertAccepting()
    if (this.#queue.length >= this.#o.maxQueue && this.#running.size >= this.#o.concurrency) {
      throw new MockWorkerError(
        'QUEUE_FULL',
        `The job queue is full (${this.#o.maxQueue} waiting); retry later or raise the queue limit.`,
      )
    }
    this.sweep()
    if (this.#jobs.size >= this.#o.maxJobs && !this.#evictOldestFinished()) {
      throw new MockWorkerError(
        'QUEUE_FULL',
        `The worker holds ${this.#o.maxJobs} unfinished jobs; retry later or raise the job limit.`,
      )
    }
    const job: Job = {
      id: randomUUID(),
      payload,
      idempotencyKey,
      fingerprint,
      createdAt: Date.now(),
      status: 'pending',
      progress: { value: 0, max: 1 },
      outputs: undefined,
      error: undefined,
      queuePosition: undefined,
      finishedAt: undefined,
      version: 0,
      admitted: false,
    }
    this.#jobs.set(job.id, job)
    if (idempotencyKey !== undefined) this.#byKey.set(idempotencyKey, job.id)
    this.#log(job, 'job pending')
    this.#queue.push(job)
    this.#pump()
    return { job, created: true }
  }

  get(id: string): Job | undefined {
    const job = this.#jobs.get(id)
    if (job !== undefined && this.#isExpired(job, Date.now())) {
      this.#remove(job)
      return undefined
    }
    return job
  }

  /** The live job submitted with this idempotency key, if any. */
  findByKey(key: string): Job | undefined {
    const id = this.#byKey.get(key)
    return id === undefined ? undefined : this.get(id)
  }

  /** True when the id belonged to a job whose result expired. */
  wasExpired(id: string): boolean {
    return this.#expired.has(id)
  }

  get resultTtlMs(): number {
    return this.#o.resultTtlMs
  }

  /** Cancel a job: a waiting job leaves the queue, a running one is aborted. */
  cancel(id: string): Job | undefined {
    const job = this.get(id)
    if (job === undefined || isTerminal(job.status)) return job
    const queued = this.#queue.indexOf(job)
    if (queued >= 0) {
      this.#queue.splice(queued, 1)
      this.#updatePositions()
    }
    this.#finish(job, 'cancelled', undefined, { code: 'CANCELLED', message: 'The job was cancelled.' })
    this.#running.get(job.id)?.abort.abort(new MockWorkerError('CANCELLED', 'The job was cancelled.'))
    return job
  }

  /** Calls `listener` after every change of the job; returns the unsubscribe function. */
  subscribe(id: string, listener: () => void): () => void {
    return this.#events.subscribe(id, listener)
  }

  /** Resolves when `until(job)` holds (checked after every change) or after `timeoutMs`. */
  waitFor(job: Job, until: (job: Job) => boolean, timeoutMs: number): Promise<void> {
    return this.#events.waitFor(job, until, timeoutMs)
  }

  /** Stop accepting jobs, cancel queued ones, let running ones finish for `graceMs`, then cancel them. */
  async drain(graceMs: number): Promise<void> {
    this.#accepting = false
    for (const job of [...this.#queue]) this.cancel(job.id)
    const running = [...this.#running.values()].map((r) => r.done)
    if (running.length > 0) {
      let timer: NodeJS.Timeout | undefined
      await Promise.race([Promise.all(running), new Promise((r) => (timer = setTimeout(r, graceMs)))])
      clearTimeout(timer)
    }
    for (const id of [...this.#running.keys()]) this.cancel(id)
    // Give aborted engines a bounded moment to clean up (interrupt ComfyUI).
    const rest = [...this.#running.values()].map((r) => r.done)
    if (rest.length > 0) {
      let timer: NodeJS.Timeout | undefined
      await Promise.race([Promise.all(rest), new Promise((r) => (timer = setTimeout(r, 2_000)))])
      clearTimeout(timer)
    }
  }

  close(): void {
    clearInterval(this.#sweep)
    this.#events.clear()
  }

  /** Remove expired finished jobs. */
  sweep(): void {
    const now = Date.now()
    for (const job of this.#jobs.values()) if (this.#isExpired(job, now)) this.#remove(job)
  }

  #isExpired(job: Job, now: number): boolean {
    return job.finishedAt !== undefined && now - job.finishedAt >= this.#o.resultTtlMs
  }

  #evictOldestFinished(): boolean {
    for (const job of this.#jobs.values()) {
      if (job.finishedAt !== undefined) {
        this.#remove(job)
        return true
      }
    }
    return false
  }

  #remove(job: Job): void {
    this.#jobs.delete(job.id)
    if (job.idempotencyKey !== undefined && this.#byKey.get(job.idempotencyKey) === job.id) {
      this.#byKey.delete(job.idempotencyKey)
    }
    this.#expired.add(job.id)
    if (this.#expired.size > EXPIRED_MEMORY) {
      const oldest = this.#expired.values().next().value
      if (oldest !== undefined) this.#expired.delete(oldest)
    }
  }

  #pump(): void {
    while (this.#running.size < this.#o.concurrency && this.#queue.length > 0) {
      const job = this.#queue.shift()
      if (job !== undefined) this.#start(job)
    }
    this.#updatePositions()
  }

  #updatePositions(): void {
    this.#queue.forEach((job, index) => {
      const position = index + 1
      if (job.queuePosition !== position) {
        job.queuePosition = position
        job.admitted = true
        this.#changed(job)
      }
    })
  }

  #start(job: Job): void {
    const abort = new AbortController()
    job.queuePosition = undefined
    const ctx: RunContext = {
      jobId: job.id,
      signal: abort.signal,
      admitted: () => {
        if (!job.admitted) {
          job.admitted = true
          this.#changed(job)
        }
      },
      running: () => {
        if (job.status !== 'pending') return
        job.status = 'running'
        job.admitted = true
        this.#log(job, 'job running')
        this.#changed(job)
      },
      progress: (value, max, message) => {
        if (isTerminal(job.status)) return
        const p = job.progress
        if (p.value === value && p.max === max && p.message === message) return
        job.progress = message === undefined ? { value, max } : { value, max, message }
        if (job.status === 'pending') ctx.running()
        else this.#changed(job)
      },
    }
    const done = this.#run(job, ctx).finally(() => {
      this.#running.delete(job.id)
      this.#pump()
    })
    this.#running.set(job.id, { abort, done })
  }

  async #run(job: Job, ctx: RunContext): Promise<void> {
    try {
      const outputs = await this.#o.runner(job, ctx)
      if (isTerminal(job.status)) return
      job.progress = { value: job.progress.max, max: job.progress.max }
      this.#finish(job, 'completed', outputs, undefined)
    } catch (error) {
      if (isTerminal(job.status)) return
      if (isMockWorkerError(error)) {
        const status = error.code === 'CANCELLED' ? 'cancelled' : 'failed'
        const body: JobError = { code: error.code, message: error.message }
        if (error.details !== undefined) body.details = error.details
        this.#finish(job, status, undefined, body)
      } else {
        this.#o.logger.warn({ jobId: job.id, err: error }, 'engine fault')
        this.#finish(job, 'failed', undefined, {
          code: 'JOB_FAILED',
          message: `The job failed inside the worker: ${error instanceof Error ? error.message : String(error)}`,
        })
      }
    }
  }

  #finish(
    job: Job,
    status: JobStatus,
    outputs: Record<string, EncodedValue> | undefined,
    error: JobError | undefined,
  ): void {
    job.status = status
    job.outputs = outputs
    job.error = error
    job.queuePosition = undefined
    job.admitted = true
    job.finishedAt = Date.now()
    this.#log(job, `job ${status}`)
    this.#changed(job)
  }

  #log(job: Job, msg: string): void {
    const entry: Record<string, unknown> = { jobId: job.id, status: job.status }
    if (job.error !== undefined) entry.code = job.error.code
    this.#o.logger.info(entry, msg)
  }

  #changed(job: Job): void {
    job.version++
    this.#events.notify(job.id)
  }
}

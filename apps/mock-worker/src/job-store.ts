import { randomUUID } from 'node:crypto'
import type { EncodedValue } from '@comfy-remote/protocol'
import { isMockWorkerError, MockWorkerError } from './errors.js'
import type { Fingerprint } from './fingerprint.js'
import { GoneJobs, type GoneReason } from './gone-jobs.js'
import { isTerminal, type Job, type JobError, type JobStatus, type RunContext } from './job.js'
import { spooledPaths, valuesHeldBytes } from './job-bytes.js'
import { JobEvents } from './job-events.js'
import type { JobStoreOptions, JobStoreStats } from './job-store-options.js'
import { createRunContext } from './run-context.js'
import { type JobSpool, SpoolRoot } from './spool/spool.js'

export type { JobLogger, JobStoreOptions, JobStoreStats } from './job-store-options.js'

/**
 * Bounded in-memory job store: FIFO queue with a concurrency limit, queue
 * positions, idempotency keys, TTL for finished jobs, change listeners.
 */
const NO_FINGERPRINT: Fingerprint = async () => ''

export class JobStore {
  readonly #o: JobStoreOptions
  readonly #jobs = new Map<string, Job>()
  readonly #byKey = new Map<string, string>()
  readonly #queue: Job[] = []
  readonly #running = new Map<string, { abort: AbortController; done: Promise<void> }>()
  readonly #events = new JobEvents()
  readonly #previews = new JobEvents()
  readonly #gone = new GoneJobs()
  /** Finished jobs in the order they finished (oldest first), for byte-budget eviction. */
  readonly #finished = new Set<Job>()
  #storedBytes = 0
  #storedDiskBytes = 0
  #activeBytes = 0
  readonly #spools: SpoolRoot
  readonly #ownSpools: boolean
  readonly #sweep: NodeJS.Timeout
  #accepting = true

  constructor(options: JobStoreOptions) {
    this.#o = options
    this.#ownSpools = options.spools === undefined
    this.#spools = options.spools ?? new SpoolRoot()
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

  get stats(): JobStoreStats {
    return {
      jobs: this.#jobs.size,
      running: this.#running.size,
      queued: this.#queue.length,
      activeBytes: this.#activeBytes,
      storedBytes: this.#storedBytes,
      storedDiskBytes: this.#storedDiskBytes,
    }
  }

  get maxStoredBytes(): number {
    return this.#o.maxStoredBytes ?? Number.POSITIVE_INFINITY
  }

  get maxActiveBytes(): number {
    return this.#o.maxActiveBytes ?? Number.POSITIVE_INFINITY
  }

  /** A new spool directory for a request (handed to `submit`, or disposed by the caller). */
  createSpool(): JobSpool {
    return this.#spools.create()
  }

  /** Issue 14 defect 1: queued + running inputs may hold `maxActiveBytes` of memory together. */
  #assertActiveBudget(inputBytes: number): void {
    const budget = this.maxActiveBytes
    if (inputBytes > budget) {
      throw new MockWorkerError(
        'PAYLOAD_TOO_LARGE',
        `The request's inputs hold ${inputBytes} bytes in memory, more than the worker's budget of ${budget} bytes for queued and running inputs (--max-input-bytes). Send large values as multipart binary parts (spooled to disk, not counted) or by ref, or start the worker with a larger --max-input-bytes.`,
        { details: { input_bytes: inputBytes, budget, reason: 'input_budget' } },
      )
    }
    if (this.#activeBytes + inputBytes > budget) {
      throw new MockWorkerError(
        'QUEUE_FULL',
        `Queued and running jobs already hold ${this.#activeBytes} of the worker's ${budget} bytes for inputs (--max-input-bytes); this request needs ${inputBytes}. Retry after Retry-After seconds.`,
        {
          details: {
            active_bytes: this.#activeBytes,
            input_bytes: inputBytes,
            budget,
            reason: 'input_budget',
          },
        },
      )
    }
  }

  /**
   * Submit a job; the same idempotency key returns the same job. `inputBytes` is what the request's
   * inputs hold (see job-bytes.ts), counted in `stats.activeBytes` until the job finishes.
   */
  submit(
    payload: unknown,
    idempotencyKey?: string,
    fingerprint: Fingerprint = NO_FINGERPRINT,
    inputBytes = 0,
    spool?: JobSpool,
  ): { job: Job; created: boolean } {
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
    this.#assertActiveBudget(inputBytes)
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
      inputBytes,
      outputBytes: 0,
      outputDiskBytes: 0,
      spool: spool ?? this.#spools.create(),
      createdAt: Date.now(),
      status: 'pending',
      progress: { value: 0, max: 1 },
      outputs: undefined,
      error: undefined,
      queuePosition: undefined,
      finishedAt: undefined,
      version: 0,
      admitted: false,
      transferMs: 0,
      startupMs: 0,
    }
    this.#jobs.set(job.id, job)
    this.#activeBytes += inputBytes
    if (idempotencyKey !== undefined) this.#byKey.set(idempotencyKey, job.id)
    this.#log(job, 'job pending')
    this.#queue.push(job)
    this.#pump()
    return { job, created: true }
  }

  get(id: string): Job | undefined {
    const job = this.#jobs.get(id)
    if (job !== undefined && this.#isExpired(job, Date.now())) {
      this.#remove(job, 'expired')
      return undefined
    }
    return job
  }

  /** The live job submitted with this idempotency key, if any. */
  findByKey(key: string): Job | undefined {
    const id = this.#byKey.get(key)
    return id === undefined ? undefined : this.get(id)
  }

  /** True when the id belonged to a job whose result expired or was evicted. */
  wasExpired(id: string): boolean {
    return this.#gone.get(id) !== undefined
  }

  /** Why a job id is no longer readable (TTL, byte budget, job count), if it was a job here. */
  goneReason(id: string): GoneReason | undefined {
    return this.#gone.get(id)
  }

  get resultTtlMs(): number {
    return this.#o.resultTtlMs
  }

  get maxJobs(): number {
    return this.#o.maxJobs
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

  /**
   * Forget a finished job now instead of at its TTL (`DELETE /jobs/:id/outputs`): its spooled inputs and
   * outputs are deleted and its Idempotency-Key is free again. False when the job has not finished.
   */
  release(job: Job): boolean {
    if (!isTerminal(job.status)) return false
    this.#remove(job, 'released')
    return true
  }

  /** Tell the job's watchers it changed (a field outside the store's own, e.g. webhook status). */
  touch(job: Job): void {
    this.#changed(job)
  }

  /** Calls `listener` after every new preview of the job; returns the unsubscribe function. */
  subscribePreviews(id: string, listener: () => void): () => void {
    return this.#previews.subscribe(id, listener)
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
    this.#previews.clear()
    for (const job of this.#jobs.values()) job.spool.disposeSync()
    if (this.#ownSpools) this.#spools.close()
  }

  /** Remove expired finished jobs. */
  sweep(): void {
    const now = Date.now()
    for (const job of this.#finished) {
      if (!this.#isExpired(job, now)) break // finish order: the rest finished later
      this.#remove(job, 'expired')
    }
  }

  #isExpired(job: Job, now: number): boolean {
    return job.finishedAt !== undefined && now - job.finishedAt >= this.#o.resultTtlMs
  }

  #evictOldestFinished(): boolean {
    const oldest = this.#finished.values().next().value
    if (oldest === undefined) return false
    this.#remove(oldest, 'evicted-count')
    return true
  }

  /** Evict the oldest finished jobs until the stored bytes fit the budget; `keep` always stays. */
  #enforceByteBudget(keep: Job): void {
    const budget = this.maxStoredBytes
    const disk = this.#o.maxStoredDiskBytes ?? Number.POSITIVE_INFINITY
    for (const job of this.#finished) {
      if (this.#storedBytes <= budget && this.#storedDiskBytes <= disk) return
      if (job !== keep) this.#remove(job, 'evicted-memory')
    }
  }

  #remove(job: Job, reason: GoneReason): void {
    this.#jobs.delete(job.id)
    if (this.#finished.delete(job)) {
      this.#storedBytes -= job.outputBytes
      this.#storedDiskBytes -= job.outputDiskBytes
    }
    job.spool.dispose().catch((err: unknown) => this.#o.logger.warn({ jobId: job.id, err }, 'spool cleanup'))
    if (job.idempotencyKey !== undefined && this.#byKey.get(job.idempotencyKey) === job.id) {
      this.#byKey.delete(job.idempotencyKey)
    }
    job.outputs = undefined
    this.#gone.add(job.id, reason)
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
    job.startedAt = Date.now()
    const ctx = createRunContext(job, abort.signal, {
      changed: (j) => this.#changed(j),
      previewed: (j) => this.#previews.notify(j.id),
      log: (j, msg) => this.#log(j, msg),
    })
    const run = this.#run(job, ctx)
    job.payload = undefined // the runner holds what it needs; the store keeps no copy of the inputs
    const done = run.finally(() => {
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
    job.payload = undefined
    job.preview = undefined // live only: the outputs are the result
    this.#activeBytes -= job.inputBytes
    job.inputBytes = 0
    const held = valuesHeldBytes(outputs)
    job.outputBytes = held.memory
    job.outputDiskBytes = held.disk
    this.#storedBytes += job.outputBytes
    this.#storedDiskBytes += job.outputDiskBytes
    this.#finished.add(job)
    this.#enforceByteBudget(job)
    this.#log(job, `job ${status}`)
    this.#changed(job)
    this.#releaseInputs(job)
  }

  /**
   * A finished job's spooled inputs are deleted at once (only its outputs are read again) unless it has
   * an Idempotency-Key: a replay of the key compares the request with them (hashing them earlier would
   * compete with ComfyUI for the CPU: measured ~100 ms slower per 48 MiB job on 2 cores).
   */
  #releaseInputs(job: Job): void {
    if (job.idempotencyKey !== undefined) return
    job.spool
      .releaseExcept(spooledPaths(job.outputs))
      .catch((err: unknown) => this.#o.logger.warn({ jobId: job.id, err }, 'spool cleanup'))
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

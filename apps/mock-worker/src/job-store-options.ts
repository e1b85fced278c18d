import type { Runner } from './job.js'

export interface JobLogger {
  info(obj: object, msg: string): void
  warn(obj: object, msg: string): void
}

export interface JobStoreStats {
  jobs: number
  running: number
  queued: number
  /** Payload bytes of the inputs of unfinished jobs. */
  activeBytes: number
  /** Payload bytes of the outputs of finished jobs (bounded by `maxStoredBytes`). */
  storedBytes: number
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
  /**
   * Payload bytes finished jobs may hold together (see job-bytes.ts); beyond it the oldest finished
   * jobs are evicted. The newest finished job is always kept, even alone over the budget.
   */
  maxStoredBytes?: number
}

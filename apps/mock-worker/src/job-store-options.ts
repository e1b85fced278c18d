import type { Runner } from './job.js'
import type { SpoolRoot } from './spool/spool.js'

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
  /** Spool-file bytes of the outputs of finished jobs (bounded by `maxStoredDiskBytes`). */
  storedDiskBytes: number
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
  /** Like maxStoredBytes for the outputs' spool files (disk). */
  maxStoredDiskBytes?: number
  /**
   * Memory bytes the inputs of queued and running jobs may hold together: a job that would go
   * beyond it is refused with QUEUE_FULL (503, retry later), one that alone exceeds it with
   * PAYLOAD_TOO_LARGE (413).
   */
  maxActiveBytes?: number
  /** Where jobs' spool directories live (a private temp dir when not given). */
  spools?: SpoolRoot
}

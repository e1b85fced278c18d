import type { EncodedValue } from '@comfy-remote/protocol'
import type { Fingerprint } from './fingerprint.js'
import type { Preview, PreviewInput } from './previews.js'
import { outputsAsRefs } from './refs/output-refs.js'
import type { JobSpool } from './spool/spool.js'
import type { WebhookStatus } from './webhooks/dispatcher.js'

export type JobStatus = 'pending' | 'running' | 'completed' | 'failed' | 'cancelled'

export interface JobProgress {
  value: number
  max: number
  message?: string
  /** The remote node the progress is about (per-node progress), and its class. */
  node?: string
  class_type?: string
}

/** The node a progress report is about. */
export interface ProgressNode {
  id: string
  classType?: string
}

export interface JobError {
  code: string
  message: string
  details?: unknown
}

/** One job as the store keeps it. Mutated only by the store. */
export interface Job {
  readonly id: string
  /**
   * What the engine prepared from the request (see Engine.prepare). The store drops it (sets
   * `undefined`) as soon as it has handed it to the runner, or when a queued job is cancelled: the
   * request's images live only as long as the engine needs them. Runners read it synchronously.
   */
  payload: unknown
  /** Payload bytes of the request's inputs the job holds (see job-bytes.ts); 0 once finished. */
  inputBytes: number
  /** Payload bytes of the finished job's outputs (counted against `maxStoredBytes`). */
  outputBytes: number
  /** Spool-file bytes of the finished job's outputs (counted against `maxStoredDiskBytes`). */
  outputDiskBytes: number
  /**
   * The job's spool directory: the request's large parts and fetched refs, files engines write
   * (outputs read back from ComfyUI). Deleted when the job leaves the store.
   */
  readonly spool: JobSpool
  readonly idempotencyKey: string | undefined
  /** Summary of the request's inputs (see fingerprint.ts), taken when its Idempotency-Key comes again. */
  readonly fingerprint: Fingerprint
  readonly createdAt: number
  status: JobStatus
  progress: JobProgress
  outputs: Record<string, EncodedValue> | undefined
  error: JobError | undefined
  queuePosition: number | undefined
  finishedAt: number | undefined
  /** Increases on every visible change (status, progress, queue position). */
  version: number
  /** True once the engine accepted the job (or it is queued / finished). */
  admitted: boolean
  /** When the store handed the job to the engine / the engine reported it running (ms epoch). */
  startedAt?: number
  runningAt?: number
  /** Time spent moving bytes for this job (request body, engine uploads/downloads), ms. */
  transferMs: number
  /** Cold start inside this job (engine start-up), ms. */
  startupMs: number
  /** The latest live preview while the job runs (dropped when it finishes). */
  preview?: Preview
  /** Delivery status of the job's latest webhook event, when it has a webhook. */
  webhook?: WebhookStatus
  /** The request asked for `output_refs`: large binary outputs are answered as refs. */
  outputRefs?: boolean
}

/** Where a finished job's time went, in seconds (see docs/protocol.md). */
export interface JobTimings {
  queue_seconds: number
  startup_seconds: number
  run_seconds: number
  transfer_seconds: number
  /** The mock worker has no container to start: always false (the generated app: true on a cold start). */
  cold_start: boolean
}

const secs = (ms: number): number => Math.max(0, Math.round(ms) / 1000)

/** Timings of a finished job: queue = created..running, run = running..finished. */
export function jobTimings(job: Job): JobTimings | undefined {
  if (job.finishedAt === undefined) return undefined
  const running = job.runningAt ?? job.startedAt ?? job.finishedAt
  return {
    queue_seconds: secs(running - job.createdAt),
    startup_seconds: secs(job.startupMs),
    run_seconds: secs(job.finishedAt - running),
    transfer_seconds: secs(job.transferMs),
    cold_start: false,
  }
}

/** What an engine gets to report on a running job. */
export interface RunContext {
  readonly jobId: string
  /** Aborted when the job is cancelled or the worker shuts down. */
  readonly signal: AbortSignal
  /**
   * Where the engine may write files (e.g. outputs streamed back from ComfyUI): `spool.newPath(hint)`
   * then `spool.adopt(path, size)` gives a FileBytes to put in an output's `data`.
   */
  readonly spool: JobSpool
  /** The engine accepted the job (e.g. ComfyUI answered POST /prompt). */
  admitted(): void
  /** The job really started (e.g. ComfyUI sent execution_start). */
  running(): void
  progress(value: number, max: number, message?: string, node?: ProgressNode): void
  /** A live preview image (rate-limited and size-capped by the worker; newest wins). */
  preview(preview: PreviewInput): void
}

export type Runner = (job: Job, ctx: RunContext) => Promise<Record<string, EncodedValue>>

export function isTerminal(status: JobStatus): boolean {
  return status === 'completed' || status === 'failed' || status === 'cancelled'
}

/** Wire envelope (snake_case) of a job, as every route answers it. */
export interface WireEnvelope {
  status: JobStatus
  job_id?: string
  poll_url?: string
  progress?: JobProgress
  message?: string
  result?: EncodedValue
  outputs?: Record<string, EncodedValue>
  error?: JobError
  queue_position?: number
  retry_after?: number
  timings?: JobTimings
  webhook?: WebhookStatus
}

export function jobPollUrl(id: string): string {
  return `/jobs/${encodeURIComponent(id)}`
}

/**
 * The envelope of a job. `result` is the first Remote Output in the
 * workflow's order (what the original callers read).
 */
export function toEnvelope(job: Job, outputOrder: readonly string[], retryAfter: number): WireEnvelope {
  const env: WireEnvelope = {
    status: job.status,
    job_id: job.id,
    poll_url: jobPollUrl(job.id),
    progress: job.progress,
  }
  if (job.progress.message !== undefined) env.message = job.progress.message
  if (job.outputs !== undefined) {
    const outputs = job.outputRefs ? outputsAsRefs(job.outputs, job.id) : job.outputs
    env.outputs = outputs
    const first = outputOrder.find((name) => outputs[name] !== undefined) ?? Object.keys(outputs)[0]
    const result = first === undefined ? undefined : outputs[first]
    if (result !== undefined) env.result = result
  }
  if (job.error !== undefined) {
    env.error = job.error
    env.message = job.error.message
  }
  if (job.status === 'pending' && job.queuePosition !== undefined) env.queue_position = job.queuePosition
  if (!isTerminal(job.status)) env.retry_after = retryAfter
  const timings = jobTimings(job)
  if (timings !== undefined) env.timings = timings
  if (job.webhook !== undefined) env.webhook = { ...job.webhook }
  return env
}

/** An error envelope for requests that did not make a job. */
export function errorEnvelope(code: string, message: string, details?: unknown): WireEnvelope {
  const error: JobError = details === undefined ? { code, message } : { code, message, details }
  return { status: 'failed', progress: { value: 0, max: 1 }, message, error }
}

import type { Engine } from './engines/types.js'
import type { Job, WireEnvelope } from './job.js'
import { toEnvelope } from './job.js'
import type { JobStore } from './job-store.js'
import type { RefPolicy } from './refs/safe-fetch.js'
import type { WebhookDispatcher } from './webhooks/dispatcher.js'
import type { WebhookSetup } from './webhooks/request.js'
import type { WorkflowContract } from './workflow.js'

/** What the routes share. */
export interface WorkerContext {
  store: JobStore
  engine: Engine
  contract: WorkflowContract
  /** Longest `?wait=` honoured, in seconds. */
  maxWaitSeconds: number
  /** How long POST /run waits for the engine to accept a job it started at once, in ms. */
  admissionTimeoutMs: number
  /** `retry_after` advertised in unfinished envelopes, in seconds. */
  retryAfterSeconds: number
  /** SSE keep-alive comment interval, in ms. */
  heartbeatMs: number
  /** Webhook signing config and default target (config undefined: no secret configured). */
  webhooks: WebhookSetup
  /** Sends job events to webhooks; undefined without a signing secret. */
  dispatcher: WebhookDispatcher | undefined
  /** What inputs given by `ref` may fetch. */
  refPolicy: RefPolicy
  /** `token` when every route but /health needs a bearer token, else `none`. */
  auth: 'token' | 'none'
  /** `base64+pickle` inputs are passed on (else refused with PICKLE_REFUSED). */
  allowPickle: boolean
  envelope(job: Job): WireEnvelope
}

export function createContext(init: Omit<WorkerContext, 'envelope'>): WorkerContext {
  const order = init.contract.outputs.map((o) => o.name)
  return { ...init, envelope: (job) => toEnvelope(job, order, init.retryAfterSeconds) }
}

/** `?wait=` in seconds, clamped to the worker's maximum, as ms. */
export function waitMs(ctx: WorkerContext, wait: number | undefined): number {
  if (wait === undefined || !Number.isFinite(wait) || wait <= 0) return 0
  return Math.min(wait, ctx.maxWaitSeconds) * 1000
}

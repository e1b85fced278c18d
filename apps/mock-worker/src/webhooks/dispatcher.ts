import { serializeJson } from '@comfy-remote/protocol'
import { isTerminal, type Job, type WireEnvelope } from '../job.js'
import type { JobLogger } from '../job-store-options.js'
import { type AttemptResult, postWebhook, type ResolveHost } from './post.js'
import { newWebhookId, signWebhook } from './signature.js'

export const WEBHOOK_EVENTS = ['completed', 'failed', 'cancelled', 'progress'] as const
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number]
export const DEFAULT_WEBHOOK_EVENTS: readonly WebhookEvent[] = ['completed', 'failed', 'cancelled']

/** Where one job's events go. */
export interface WebhookTarget {
  url: URL
  events: ReadonlySet<WebhookEvent>
}

/** Delivery status of a job's latest webhook event, as the envelope shows it. */
export interface WebhookStatus {
  delivered: boolean
  attempts: number
  last_error: string | null
}

export interface WebhookConfig {
  /** HMAC key (the decoded whsec_ secret). */
  key: Buffer
  allowLoopback: boolean
  /** Per attempt (connect + answer), ms. */
  timeoutMs: number
  /** Attempts of one event at most (the first included). */
  maxAttempts: number
  /** Time from the first attempt after which no retry starts, ms. */
  maxTotalMs: number
  /** First retry delay, doubled per attempt, with jitter; ms. */
  backoffMs: number
  /** Longest wait between attempts (also caps Retry-After), ms. */
  maxBackoffMs: number
  /** Shortest gap between two `progress` deliveries of one job, ms. */
  progressIntervalMs: number
  resolve?: ResolveHost
  random?: () => number
}

/** What the dispatcher needs from the worker. */
export interface WebhookHost {
  envelope(job: Job): WireEnvelope
  /** The job's envelope changed (bumps its version, wakes long-polls). */
  changed(job: Job): void
  subscribe(id: string, listener: () => void): () => void
  logger: JobLogger
}

interface Pending {
  event: WebhookEvent
  body: Buffer
}

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal.aborted) return resolve()
    const timer = setTimeout(done, ms)
    function done(): void {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    signal.addEventListener('abort', done, { once: true })
  })

/**
 * Delivers job events to webhook receivers, signed per Standard Webhooks. At least once per terminal
 * event (same webhook-id on every retry, exponential backoff with jitter, Retry-After honoured,
 * bounded attempts and time); `progress` events are best effort (one attempt, newest wins, at most
 * one per progressIntervalMs). Deliveries run beside the job and never delay or fail it.
 */
export class WebhookDispatcher {
  readonly #config: WebhookConfig
  readonly #host: WebhookHost
  readonly #active = new Set<Promise<void>>()
  readonly #stop = new AbortController()

  constructor(config: WebhookConfig, host: WebhookHost) {
    this.#config = config
    this.#host = host
  }

  /** Send `job`'s events to `target` from now on. */
  watch(job: Job, target: WebhookTarget): void {
    job.webhook = { delivered: false, attempts: 0, last_error: null }
    let lastProgress = ''
    let done = false
    let terminal: Pending | undefined
    let progress: Pending | undefined
    let lastProgressAt = 0
    let busy = false
    const unsubscribe = this.#host.subscribe(job.id, () => check())
    const take = (): Pending | undefined => {
      if (terminal !== undefined) {
        const next = terminal
        terminal = undefined
        progress = undefined
        return next
      }
      const next = progress
      progress = undefined
      return next
    }
    const pump = async (): Promise<void> => {
      for (let next = take(); next !== undefined; next = take()) {
        if (next.event === 'progress') {
          const wait = lastProgressAt + this.#config.progressIntervalMs - Date.now()
          if (wait > 0) {
            progress ??= next // a newer one may replace it meanwhile
            await sleep(wait, this.#stop.signal)
            if (this.#stop.signal.aborted) return
            continue
          }
          lastProgressAt = Date.now()
        }
        await this.#deliver(job, target.url, next)
      }
    }
    const check = (): void => {
      if (isTerminal(job.status)) {
        if (terminal !== undefined || done) return
        done = true
        unsubscribe()
        if (target.events.has(job.status as WebhookEvent))
          terminal = this.#pending(job, job.status as WebhookEvent)
      } else if (target.events.has('progress') && job.status === 'running') {
        // Only status/progress changes are news (not this dispatcher's own status updates).
        const seen = JSON.stringify(job.progress)
        if (seen === lastProgress) return
        lastProgress = seen
        progress = this.#pending(job, 'progress')
      } else return
      if (busy) return
      busy = true
      const run = pump().finally(() => {
        busy = false
        this.#active.delete(run)
        if (terminal !== undefined || progress !== undefined) check()
      })
      this.#active.add(run)
    }
    check()
  }

  #pending(job: Job, event: WebhookEvent): Pending {
    const { webhook: _self, ...envelope } = this.#host.envelope(job) as WireEnvelope & { webhook?: unknown }
    return { event, body: Buffer.from(serializeJson({ ...envelope, event })) }
  }

  async #deliver(job: Job, url: URL, pending: Pending): Promise<void> {
    const c = this.#config
    const id = newWebhookId()
    const status: WebhookStatus = { delivered: false, attempts: 0, last_error: null }
    const record = (): void => {
      job.webhook = { ...status }
      this.#host.changed(job)
    }
    const maxAttempts = pending.event === 'progress' ? 1 : c.maxAttempts
    const deadline = Date.now() + c.maxTotalMs
    const random = c.random ?? Math.random
    for (;;) {
      if (this.#stop.signal.aborted) {
        status.last_error = `${status.last_error ?? 'not delivered'} (the worker shut down before it was delivered)`
        return record()
      }
      status.attempts++
      const headers = {
        'content-type': 'application/json',
        'user-agent': 'comfy-remote-webhooks/1',
        ...signWebhook(c.key, id, Math.floor(Date.now() / 1000), pending.body),
      }
      const result: AttemptResult = await postWebhook(url, headers, pending.body, {
        timeoutMs: c.timeoutMs,
        allowLoopback: c.allowLoopback,
        signal: this.#stop.signal,
        ...(c.resolve ? { resolve: c.resolve } : {}),
      }).catch((error: unknown) => ({ ok: false, error: (error as Error).message }))
      if (result.ok) {
        status.delivered = true
        status.last_error = null
        return record()
      }
      status.last_error = result.error ?? 'delivery failed'
      this.#host.logger.warn(
        {
          jobId: job.id,
          webhookId: id,
          event: pending.event,
          attempt: status.attempts,
          err: status.last_error,
        },
        `webhook to ${url.origin} failed`,
      )
      const backoff = Math.min(c.maxBackoffMs, c.backoffMs * 2 ** (status.attempts - 1))
      const delay = Math.min(c.maxBackoffMs, result.retryAfterMs ?? backoff * (0.5 + random() / 2))
      if (result.permanent || status.attempts >= maxAttempts || Date.now() + delay > deadline) {
        if (!result.permanent && maxAttempts > 1)
          status.last_error = `${status.last_error}; gave up after ${status.attempts} attempts`
        return record()
      }
      record()
      await sleep(delay, this.#stop.signal)
    }
  }

  /** Waits up to `ms` for deliveries in flight, then stops retrying. */
  async drain(ms: number): Promise<void> {
    if (this.#active.size > 0) {
      let timer: NodeJS.Timeout | undefined
      await Promise.race([
        Promise.allSettled([...this.#active]),
        new Promise((r) => {
          timer = setTimeout(r, ms)
        }),
      ])
      clearTimeout(timer)
    }
    this.#stop.abort()
    await Promise.allSettled([...this.#active])
  }
}

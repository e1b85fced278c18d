import { RemoteJobError } from './errors.js'

/** Retry policy for transient HTTP failures (connection errors, 408, 429, 502, 503, 504). */
export interface RetryOptions {
  /** Retries of one request after the first attempt (submit, schema, cancel). Polls retry until the run's timeout. Default 4. */
  retries?: number
  /** First backoff delay in ms (doubled each retry, with jitter). Default 300. */
  minDelay?: number
  /** Largest backoff delay in ms. Default 10000. */
  maxDelay?: number
  /** Largest `Retry-After` the client honours, in ms (larger values are capped). Default 60000. */
  maxRetryAfter?: number
}

export type Transport = 'auto' | 'json' | 'multipart'
export type FollowMode = 'auto' | 'events' | 'long-poll' | 'poll'

export interface RemoteClientOptions {
  /** Endpoint base URL, e.g. `https://me--app.modal.run` or `http://127.0.0.1:8188`. */
  url: string
  /** Bearer token, sent as `Authorization: Bearer <token>`. */
  token?: string
  /** Extra headers sent with every request. */
  headers?: Record<string, string>
  /** Overall time budget of one `run` in ms (submit + follow). Default 300000. */
  timeout?: number
  /** Delay between polls in ms when the server gives none (`retry_after`). Default 1500. */
  pollInterval?: number
  /** Retry policy; `false` or `0` disables retries. */
  retry?: RetryOptions | number | false
  /** A fetch implementation (defaults to globalThis.fetch). */
  fetch?: typeof globalThis.fetch
  /** Time budget of one HTTP request in ms (a slower answer is retried). Default 30000. */
  requestTimeout?: number
  /** Wire form of requests/responses. `auto` uses multipart when the server advertises it. Default `auto`. */
  transport?: Transport
  /** How `run` follows a job. `auto`: SSE, else long-poll, else polling. Default `auto`. */
  follow?: FollowMode
  /** Seconds a long-poll (`GET /jobs/:id?wait=`) may wait on the server. Default 20. */
  longPollWait?: number
  /** ms without any event-stream byte (events or heartbeats) before `run` switches to long-polling. Default 45000. */
  eventsIdleTimeout?: number
  /**
   * Ask the worker for large binary outputs by reference (`output_refs`; fetched right after the job,
   * streamed, resumable) instead of inside the envelope. Invisible to callers. Default true.
   */
  outputRefs?: boolean
}

export interface ResolvedRetry {
  retries: number
  minDelay: number
  maxDelay: number
  maxRetryAfter: number
}

export interface ResolvedOptions {
  url: URL
  headers: Record<string, string>
  timeout: number
  pollInterval: number
  retry: ResolvedRetry
  fetch: typeof globalThis.fetch | undefined
  requestTimeout: number
  transport: Transport
  follow: FollowMode
  longPollWait: number
  eventsIdleTimeout: number
  outputRefs: boolean
}

function bad(field: string, fix: string): RemoteJobError {
  return new RemoteJobError('BAD_OPTIONS', `createRemoteClient: option \`${field}\` ${fix}`)
}

function positive(value: unknown, field: string, fallback: number, allowZero = false): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw bad(
      field,
      `must be a ${allowZero ? 'non-negative' : 'positive'} finite number (got ${String(value)})`,
    )
  }
  return value
}

function resolveRetry(retry: RemoteClientOptions['retry']): ResolvedRetry {
  const base: ResolvedRetry = { retries: 4, minDelay: 300, maxDelay: 10_000, maxRetryAfter: 60_000 }
  if (retry === undefined) return base
  if (retry === false) return { ...base, retries: 0 }
  if (typeof retry === 'number') return { ...base, retries: Math.floor(positive(retry, 'retry', 4, true)) }
  if (typeof retry !== 'object' || retry === null) throw bad('retry', 'must be a number, false or an object')
  return {
    retries: Math.floor(positive(retry.retries, 'retry.retries', base.retries, true)),
    minDelay: positive(retry.minDelay, 'retry.minDelay', base.minDelay, true),
    maxDelay: positive(retry.maxDelay, 'retry.maxDelay', base.maxDelay, true),
    maxRetryAfter: positive(retry.maxRetryAfter, 'retry.maxRetryAfter', base.maxRetryAfter, true),
  }
}

function flag(value: unknown, field: string, fallback: boolean): boolean {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') throw bad(field, `must be true or false (got ${String(value)})`)
  return value
}

function oneOf<T extends string>(value: unknown, field: string, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T
  throw bad(field, `must be one of ${allowed.join(', ')} (got ${String(value)})`)
}

export function resolveOptions(options: RemoteClientOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) throw bad('url', 'is required: pass { url }')
  let url: URL
  try {
    url = new URL(options.url)
  } catch (cause) {
    throw new RemoteJobError(
      'BAD_OPTIONS',
      `createRemoteClient: option \`url\` must be an absolute http(s) URL (got ${JSON.stringify(options.url)})`,
      { cause },
    )
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw bad('url', `must use http or https (got ${url.protocol})`)
  const headers: Record<string, string> = { ...(options.headers ?? {}) }
  if (options.token !== undefined && options.token !== '') {
    if (typeof options.token !== 'string' || /[\r\n]/.test(options.token))
      throw bad('token', 'must be a single-line string')
    headers.authorization = `Bearer ${options.token}`
  }
  if (options.fetch !== undefined && typeof options.fetch !== 'function')
    throw bad('fetch', 'must be a fetch function')
  return {
    url,
    headers,
    timeout: positive(options.timeout, 'timeout', 300_000),
    pollInterval: positive(options.pollInterval, 'pollInterval', 1_500),
    retry: resolveRetry(options.retry),
    fetch: options.fetch,
    requestTimeout: positive(options.requestTimeout, 'requestTimeout', 30_000),
    transport: oneOf(options.transport, 'transport', ['auto', 'json', 'multipart'], 'auto'),
    follow: oneOf(options.follow, 'follow', ['auto', 'events', 'long-poll', 'poll'], 'auto'),
    longPollWait: positive(options.longPollWait, 'longPollWait', 20),
    eventsIdleTimeout: positive(options.eventsIdleTimeout, 'eventsIdleTimeout', 45_000),
    outputRefs: flag(options.outputRefs, 'outputRefs', true),
  }
}

/** `base` + `/path`, keeping the base's own path prefix and query. */
export function joinUrl(base: URL, path: string): string {
  const url = new URL(base.href)
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`
  return url.href
}

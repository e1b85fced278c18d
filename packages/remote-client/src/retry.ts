import type { ResolvedRetry } from './options.js'

/** HTTP statuses that mean "try again later" (the request had no effect, or is idempotent). */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([408, 425, 429, 502, 503, 504])

/** Exponential backoff with jitter: a delay in [d/2, d] where d = minDelay * 2^attempt, capped. */
export function backoffDelay(
  policy: ResolvedRetry,
  attempt: number,
  random: () => number = Math.random,
): number {
  const full = Math.min(policy.maxDelay, policy.minDelay * 2 ** Math.min(attempt, 30))
  return full / 2 + (full / 2) * random()
}

/** Parses a `Retry-After` header (delta seconds or an HTTP date) into ms, or undefined. */
export function parseRetryAfter(
  header: string | null | undefined,
  now: number = Date.now(),
): number | undefined {
  if (header === null || header === undefined) return undefined
  const text = header.trim()
  if (text === '') return undefined
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000
  const date = Date.parse(text)
  if (Number.isNaN(date)) return undefined
  return Math.max(0, date - now)
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason)
      return
    }
    const onAbort = (): void => {
      clearTimeout(timer)
      reject(signal?.reason)
    }
    const timer = setTimeout(
      () => {
        signal?.removeEventListener('abort', onAbort)
        resolve()
      },
      Math.max(0, ms),
    )
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

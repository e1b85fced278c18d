import { describe, expect, it } from 'vitest'
import { backoffDelay, parseRetryAfter, sleep } from './retry.js'

const policy = { retries: 4, minDelay: 100, maxDelay: 1_000, maxRetryAfter: 5_000 }

describe('retry helpers', () => {
  it.each([
    [0, 50, 100],
    [1, 100, 200],
    [3, 400, 800],
    [10, 500, 1_000],
  ])('backoff of attempt %i lies in [%i, %i] (exponential, jittered, capped)', (attempt, low, high) => {
    expect(backoffDelay(policy, attempt, () => 0)).toBe(low)
    expect(backoffDelay(policy, attempt, () => 1)).toBe(high)
  })

  it.each([
    ['2', 2_000],
    ['0', 0],
    ['1.5', 1_500],
    [' 3 ', 3_000],
    ['', undefined],
    ['soon', undefined],
    [null, undefined],
  ])('Retry-After %j -> %j ms', (header, ms) => {
    expect(parseRetryAfter(header)).toBe(ms)
  })

  it('reads an HTTP-date Retry-After relative to now', () => {
    const now = Date.parse('2026-01-01T00:00:00Z')
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now)).toBe(5_000)
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0)
  })

  it('sleep rejects as soon as the signal aborts', async () => {
    const controller = new AbortController()
    const pending = sleep(60_000, controller.signal)
    controller.abort(new Error('stop'))
    await expect(pending).rejects.toThrow('stop')
    await expect(sleep(10, AbortSignal.abort(new Error('early')))).rejects.toThrow('early')
  })
})

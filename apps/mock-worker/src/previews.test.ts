import { afterEach, describe, expect, it, vi } from 'vitest'
import { PREVIEW_MAX_BYTES, type Preview, PreviewThrottle } from './previews.js'

afterEach(() => {
  vi.useRealTimers()
})

const image = (n: number): Uint8Array => new Uint8Array([n, 1, 2, 3])

describe('PreviewThrottle', () => {
  it('publishes at most 4 per second, newest wins', () => {
    vi.useFakeTimers()
    const seen: Preview[] = []
    const throttle = new PreviewThrottle((p) => seen.push(p))
    for (let i = 0; i < 100; i++) {
      throttle.offer({ mime: 'image/jpeg', data: image(i) })
      vi.advanceTimersByTime(10) // 100 offers over 1 s
    }
    vi.advanceTimersByTime(250)
    expect(seen.length).toBeGreaterThanOrEqual(4)
    expect(seen.length).toBeLessThanOrEqual(5)
    expect(seen.at(-1)?.data[0]).toBe(99) // the newest one is never lost
    expect(seen.map((p) => p.seq)).toEqual(seen.map((_, i) => i + 1))
  })

  it('drops oversized and empty images, and everything after close', () => {
    vi.useFakeTimers()
    const seen: Preview[] = []
    const throttle = new PreviewThrottle((p) => seen.push(p))
    expect(throttle.offer({ mime: 'image/png', data: new Uint8Array(PREVIEW_MAX_BYTES + 1) })).toBe(false)
    expect(throttle.offer({ mime: 'image/png', data: new Uint8Array(0) })).toBe(false)
    expect(throttle.offer({ mime: 'image/png', data: image(1) })).toBe(true)
    expect(throttle.offer({ mime: 'image/png', data: image(2) })).toBe(true) // pending
    throttle.close()
    vi.advanceTimersByTime(1000)
    expect(throttle.offer({ mime: 'image/png', data: image(3) })).toBe(false)
    expect(seen.map((p) => p.data[0])).toEqual([1])
  })
})

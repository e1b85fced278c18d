import { describe, expect, it } from 'vitest'
import { isRemoteJobError } from './errors.js'
import type { ProgressInfo } from './follow.js'
import { createReporter, settle } from './follow.js'

describe('reporting', () => {
  it('reports status, queue position and progress changes only', () => {
    const progress: ProgressInfo[] = []
    const statuses: string[] = []
    const report = createReporter({
      onProgress: (p) => progress.push(p),
      onStatus: (s, e) => statuses.push(`${s}@${e.queuePosition ?? '-'}`),
    })
    expect(report({ status: 'pending', queuePosition: 2 })).toBe(true)
    expect(report({ status: 'pending', queuePosition: 1 })).toBe(true)
    expect(report({ status: 'running', progress: { value: 1, max: 4 }, message: 'a' })).toBe(true)
    expect(report({ status: 'running', progress: { value: 1, max: 4 }, message: 'a' })).toBe(false)
    expect(report({ status: 'running', progress: { value: 1, max: 4 }, message: 'b' })).toBe(true)
    expect(report({ status: 'running', progress: { value: 2, max: 4 } })).toBe(true)
    expect(report({ status: 'completed', progress: { value: 2, max: 4 } })).toBe(true)
    expect(statuses).toEqual(['pending@2', 'pending@1', 'running@-', 'completed@-'])
    expect(progress).toEqual([
      { value: 1, max: 4, message: 'a' },
      { value: 1, max: 4, message: 'b' },
      { value: 2, max: 4 },
    ])
  })

  it.each([
    ['failed', 'FAILED'],
    ['cancelled', 'CANCELLED'],
  ] as const)('settle(%s) throws %s with the envelope', (status, code) => {
    const env = { status, jobId: 'j', error: { code: 'X', message: 'why' } }
    let error: unknown
    try {
      settle(env)
    } catch (e) {
      error = e
    }
    expect(isRemoteJobError(error) && error.code).toBe(code)
    expect(isRemoteJobError(error) && error.envelope).toBe(env)
    expect((error as Error).message).toMatch(/j.*X: why/)
  })
})

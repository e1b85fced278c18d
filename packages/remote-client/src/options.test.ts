import { describe, expect, it } from 'vitest'
import { isRemoteJobError } from './errors.js'
import { joinUrl, type RemoteClientOptions, resolveOptions } from './options.js'

describe('resolveOptions', () => {
  it('applies defaults and the bearer token', () => {
    const o = resolveOptions({ url: 'http://127.0.0.1:1/x', token: 't' })
    expect(o.headers.authorization).toBe('Bearer t')
    expect(o).toMatchObject({ timeout: 300_000, pollInterval: 1_500, transport: 'auto', follow: 'auto' })
    expect(o.retry.retries).toBe(4)
    expect(resolveOptions({ url: 'http://h', retry: false }).retry.retries).toBe(0)
    expect(resolveOptions({ url: 'http://h', retry: 2 }).retry.retries).toBe(2)
  })

  it.each([
    [{ url: 'not a url' }, 'url'],
    [{ url: 'ftp://host' }, 'url'],
    [{ url: 'http://h', timeout: 0 }, 'timeout'],
    [{ url: 'http://h', pollInterval: -1 }, 'pollInterval'],
    [{ url: 'http://h', retry: { retries: Number.NaN } }, 'retry.retries'],
    [{ url: 'http://h', transport: 'xml' }, 'transport'],
    [{ url: 'http://h', follow: 'push' }, 'follow'],
    [{ url: 'http://h', token: 'a\nb' }, 'token'],
  ])('rejects %j naming `%s`', (options, field) => {
    let error: unknown
    try {
      resolveOptions(options as unknown as RemoteClientOptions)
    } catch (e) {
      error = e
    }
    expect(isRemoteJobError(error) && error.code).toBe('BAD_OPTIONS')
    expect((error as Error).message).toContain(`\`${field}\``)
  })

  it.each([
    ['http://h', 'run', 'http://h/run'],
    ['http://h/', 'run', 'http://h/run'],
    ['http://h/base/', 'jobs/1', 'http://h/base/jobs/1'],
    ['http://h/base?k=1', 'health', 'http://h/base/health?k=1'],
  ])('joinUrl(%s, %s) = %s', (base, path, expected) => {
    expect(joinUrl(new URL(base), path)).toBe(expected)
  })
})

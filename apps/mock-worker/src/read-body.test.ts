import { PassThrough } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { readRequestBody } from './read-body.js'

function feed(pieces: (string | Uint8Array)[]): PassThrough {
  const stream = new PassThrough()
  stream.pause()
  queueMicrotask(() => {
    for (const p of pieces) stream.write(p)
    stream.end()
  })
  return stream
}

const code = (e: unknown) => (e as { code?: string }).code

describe('readRequestBody', () => {
  it('fills one buffer of the declared length, in order, as an own buffer', async () => {
    const body = await readRequestBody(feed(['ab', new Uint8Array([99, 100]), 'e']), '5', 100)
    expect(Buffer.from(body).toString()).toBe('abcde')
    expect(body.byteOffset).toBe(0)
    expect(body.buffer.byteLength).toBe(5)
  })

  it('joins the chunks of a body without a length', async () => {
    const body = await readRequestBody(feed(['ab', 'cd']), undefined, 100)
    expect(Buffer.from(body).toString()).toBe('abcd')
  })

  it('refuses a body over the limit, declared or not, and a length that does not match', async () => {
    await expect(readRequestBody(feed(['x']), '101', 100)).rejects.toSatisfy(
      (e) => code(e) === 'FST_ERR_CTP_BODY_TOO_LARGE',
    )
    await expect(readRequestBody(feed(['x'.repeat(60), 'x'.repeat(60)]), undefined, 100)).rejects.toSatisfy(
      (e) => code(e) === 'FST_ERR_CTP_BODY_TOO_LARGE',
    )
    await expect(readRequestBody(feed(['abcdef']), '4', 100)).rejects.toSatisfy(
      (e) => code(e) === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH',
    )
    await expect(readRequestBody(feed(['ab']), '4', 100)).rejects.toSatisfy(
      (e) => code(e) === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH',
    )
  })

  it('a stream error is a 400', async () => {
    const stream = new PassThrough()
    queueMicrotask(() => stream.destroy(new Error('aborted')))
    const error = await readRequestBody(stream, '10', 100).catch((e: unknown) => e)
    expect((error as { statusCode?: number }).statusCode).toBe(400)
  })
})

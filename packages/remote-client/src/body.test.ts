import { decodeMultipart } from '@comfy-remote/protocol'
import { describe, expect, it } from 'vitest'
import { buildMessage, encodeBody, isRequestBody } from './body.js'
import { isRemoteJobError } from './errors.js'

const v = { type: 'INT', encoding: 'json', data: 1 }

describe('request bodies', () => {
  it.each([
    [{ a: v }, false],
    [{ inputs: v }, false],
    [{ inputs: [{ name: 'input_1', encoding: 'identity', data: 1 }] }, true],
    [{ inputs: { a: v }, request_id: 'r' }, true],
  ])('isRequestBody(%j) = %s', (inputs, expected) => {
    expect(isRequestBody(inputs)).toBe(expected)
  })

  it('wraps a map with the request id and keeps a whole body', () => {
    expect(buildMessage({ a: v } as never, 'k')).toEqual({ inputs: { a: v }, request_id: 'k' })
    expect(buildMessage({ inputs: { a: v }, request_id: 'mine' } as never, 'k')).toEqual({
      inputs: { a: v },
      request_id: 'mine',
    })
  })

  it('names the input that is not an encoded value', () => {
    let error: unknown
    try {
      buildMessage({ good: v, bad: { type: 'INT', data: 1 } } as never, 'k')
    } catch (e) {
      error = e
    }
    expect(isRemoteJobError(error) && error.code).toBe('BAD_OPTIONS')
    expect((error as Error).message).toMatch(/`bad`/)
  })

  it('streams multipart with the bytes in binary parts, and can stream it again for a retry', async () => {
    const bytes = new Uint8Array(4096).map((_, i) => i % 256)
    const { body, contentType } = encodeBody(
      { inputs: { img: { type: 'IMAGE', encoding: 'npy', data: bytes } } },
      true,
    )
    expect(typeof body).toBe('function')
    if (typeof body !== 'function') return
    for (let round = 0; round < 2; round++) {
      const raw = new Uint8Array(await new Response(body()).arrayBuffer())
      const message = decodeMultipart(raw, contentType) as { inputs: { img: { data: Uint8Array } } }
      expect(Buffer.from(message.inputs.img.data).equals(Buffer.from(bytes))).toBe(true)
    }
    const json = encodeBody({ inputs: { img: { type: 'IMAGE', encoding: 'npy', data: bytes } } }, false)
    expect(JSON.parse(json.body as string).inputs.img.data).toBe(Buffer.from(bytes).toString('base64'))
  })
})

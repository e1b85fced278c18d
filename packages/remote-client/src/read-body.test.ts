import { decodeMultipart, encodeMultipartChunks } from '@comfy-remote/protocol'
import { describe, expect, it } from 'vitest'
import { readBody } from './http.js'

function streamOf(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  let i = 0
  return new ReadableStream({
    pull(controller) {
      const chunk = chunks[i++]
      if (chunk === undefined) controller.close()
      else controller.enqueue(chunk)
    },
  })
}

function multipart(payload: Uint8Array) {
  return encodeMultipartChunks({ outputs: { image: { type: 'IMAGE', encoding: 'npy', data: payload } } })
}

/** Splits the body into uneven pieces like a socket would deliver them. */
function pieces(chunks: Uint8Array[], size: number): Uint8Array[] {
  const joined = Buffer.concat(chunks)
  const out: Uint8Array[] = []
  for (let at = 0; at < joined.length; at += size) out.push(new Uint8Array(joined.subarray(at, at + size)))
  return out
}

describe('readBody', () => {
  const payload = new Uint8Array(100_003).map((_, i) => (i * 7) % 251)

  it('reads a multipart body of a declared length into one buffer and decodes views into it', async () => {
    const { chunks, contentType, byteLength } = multipart(payload)
    const response = new Response(streamOf(pieces(chunks, 4093)), {
      headers: { 'content-type': contentType, 'content-length': String(byteLength) },
    })
    const body = await readBody(response)
    expect(body).toBeInstanceOf(Uint8Array)
    const bytes = body as Uint8Array
    expect(bytes.byteLength).toBe(byteLength)
    expect(bytes.buffer.byteLength).toBe(byteLength) // one buffer of exactly the body, no slack
    const message = decodeMultipart(bytes, contentType) as { outputs: { image: { data: Uint8Array } } }
    const data = message.outputs.image.data
    expect(data).toEqual(payload)
    expect(data.buffer).toBe(bytes.buffer)
  })

  it('keeps every byte when the body is longer or shorter than declared, or has no length', async () => {
    const { chunks, contentType, byteLength } = multipart(payload)
    const expected = new Uint8Array(Buffer.concat(chunks))
    for (const declared of [String(byteLength - 1000), String(byteLength + 1000), undefined]) {
      const headers: Record<string, string> = { 'content-type': contentType }
      if (declared !== undefined) headers['content-length'] = declared
      const body = await readBody(new Response(streamOf(pieces(chunks, 8191)), { headers }))
      expect(body).toEqual(expected)
    }
  })

  it('reads other bodies as text', async () => {
    const body = await readBody(
      new Response('{"status":"ok"}', { headers: { 'content-type': 'application/json' } }),
    )
    expect(body).toBe('{"status":"ok"}')
  })
})

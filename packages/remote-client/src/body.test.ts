import { mkdtempSync, openAsBlob, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { decodeMultipart } from '@comfy-remote/protocol'
import { describe, expect, it } from 'vitest'
import { buildMessage, chunkStream, encodeBody, isRequestBody } from './body.js'
import { isRemoteJobError } from './errors.js'
import { openFileBlob } from './file-blob.js'

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
    const { body, contentType } = await encodeBody(
      { inputs: { img: { type: 'IMAGE', encoding: 'npy', data: bytes } } },
      true,
    )
    expect(typeof body).toBe('function')
    if (typeof body !== 'function') return
    for (let round = 0; round < 2; round++) {
      const raw = new Uint8Array(await new Response(chunkStream(body())).arrayBuffer())
      const message = decodeMultipart(raw, contentType) as { inputs: { img: { data: Uint8Array } } }
      expect(Buffer.from(message.inputs.img.data).equals(Buffer.from(bytes))).toBe(true)
    }
    const json = await encodeBody({ inputs: { img: { type: 'IMAGE', encoding: 'npy', data: bytes } } }, false)
    expect(JSON.parse(json.body as string).inputs.img.data).toBe(Buffer.from(bytes).toString('base64'))
  })

  it.each([
    ['fs.openAsBlob', openAsBlob],
    ['openFileBlob: read from the file', openFileBlob],
  ])(
    'streams a file payload (Blob from %s) without reading it first, again for a retry',
    async (_, opener) => {
      const dir = mkdtempSync(join(tmpdir(), 'cr-body-'))
      try {
        const path = join(dir, 'clip.mp4')
        const bytes = new Uint8Array(5 * 1024 * 1024 + 17).map((_, i) => (i * 7) % 256)
        writeFileSync(path, bytes)
        const data = await opener(path)
        const message = { inputs: { clip: { type: 'VIDEO', encoding: 'file', mime: 'video/mp4', data } } }
        const { body, contentType, byteLength } = await encodeBody(message, true)
        if (typeof body !== 'function') throw new Error('expected a streamed body')
        for (let round = 0; round < 2; round++) {
          const chunks: Uint8Array[] = []
          for await (const chunk of body()) chunks.push(chunk)
          // the file arrives in several chunks: it was streamed, not read whole into one piece
          expect(chunks.filter((c) => c.byteLength > 0).length).toBeGreaterThan(4)
          const raw = Buffer.concat(chunks)
          expect(raw.byteLength).toBe(byteLength)
          const back = decodeMultipart(raw, contentType) as {
            inputs: { clip: { data: Uint8Array; mime: string } }
          }
          expect(Buffer.from(back.inputs.clip.data).equals(Buffer.from(bytes))).toBe(true)
          expect(back.inputs.clip.mime).toBe('video/mp4')
        }
        const json = await encodeBody(message, false)
        expect(JSON.parse(json.body as string).inputs.clip.data).toBe(Buffer.from(bytes).toString('base64'))
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    },
  )

  it('a file that shrinks after openFileBlob fails the body with a clear error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cr-body-'))
    try {
      const path = join(dir, 'in.npy')
      writeFileSync(path, new Uint8Array(3 * 1024 * 1024))
      const data = await openFileBlob(path)
      writeFileSync(path, new Uint8Array(10))
      const { body } = await encodeBody({ inputs: { a: { type: 'IMAGE', encoding: 'npy', data } } }, true)
      if (typeof body !== 'function') throw new Error('expected a streamed body')
      const error = await (async () => {
        for await (const _ of body());
      })().catch((e: unknown) => e)
      expect(isRemoteJobError(error) && error.message).toMatch(/changed while it was sent/)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

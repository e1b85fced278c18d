// Multipart bodies over a real port: streamed (chunked) and sized requests, the body limit, and a
// multipart answer sent as pieces with its exact Content-Length.
import { decodeMultipart, encodeMultipartChunks, encodeNpy } from '@comfy-remote/protocol'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type StartedWorker, startWorker } from '../src/app.js'
import { echoPrompt } from './helpers.js'

let worker: StartedWorker
const LIMIT = 256 * 1024

beforeAll(async () => {
  worker = await startWorker({
    workflow: echoPrompt(),
    port: 0,
    steps: 1,
    stepMs: 0,
    docs: false,
    multipartLimit: LIMIT,
  })
})
afterAll(async () => {
  await worker?.app.close()
})

function request(floats: number) {
  const data = new Float32Array(floats).map((_, i) => i / floats)
  const npy = encodeNpy({ dtype: 'float32', shape: [1, 1, floats / 3, 3], data })
  return {
    npy,
    ...encodeMultipartChunks({ inputs: { image: { type: 'IMAGE', encoding: 'npy', data: npy } } }),
  }
}

function chunked(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  let i = 0
  return new ReadableStream({
    pull(controller) {
      const chunk = chunks[i++]
      if (chunk === undefined) controller.close()
      else controller.enqueue(chunk)
    },
  })
}

async function post(body: BodyInit, contentType: string, accept = 'multipart/form-data') {
  return fetch(`${worker.url}/run?wait=10`, {
    method: 'POST',
    headers: { 'content-type': contentType, accept },
    body,
    duplex: 'half',
  } as RequestInit)
}

describe('multipart request and answer bodies', () => {
  it.each(['sized', 'chunked'] as const)(
    'a %s body round-trips; the answer has its exact length',
    async (mode) => {
      const { npy, chunks, contentType } = request(3 * 10_000)
      const res = await post(mode === 'sized' ? Buffer.concat(chunks) : chunked(chunks), contentType)
      expect(res.status).toBe(200)
      const bytes = new Uint8Array(await res.arrayBuffer())
      expect(Number(res.headers.get('content-length'))).toBe(bytes.byteLength)
      const env = decodeMultipart(bytes, String(res.headers.get('content-type'))) as {
        status: string
        outputs: { result: { data: Uint8Array } }
      }
      expect(env.status).toBe('completed')
      expect(env.outputs.result.data).toEqual(npy)
    },
  )

  it.each(['sized', 'chunked'] as const)('a %s body over the limit is a 413', async (mode) => {
    const { chunks, contentType } = request(3 * 30_000) // ~360 KiB > 256 KiB
    const body = mode === 'sized' ? Buffer.concat(chunks) : chunked(chunks)
    const res = await post(body, contentType, 'application/json').catch((e: unknown) => e)
    // The worker may answer before the whole body is sent; fetch then sees the 413 or a reset.
    if (res instanceof Response) {
      expect(res.status).toBe(413)
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('PAYLOAD_TOO_LARGE')
    } else expect(mode).toBe('chunked')
  })
})

// A part whose body never reaches a closing delimiter: busboy reports it on the part stream and on
// the parser; the worker crashed (unhandled 'error' on the part stream) before it answered.
describe('malformed multipart bodies', () => {
  const mp = (body: string) => post(body, 'multipart/form-data; boundary=zz', 'application/json')
  it.each([
    ['an unterminated json part', '--zz\r\nContent-Disposition: form-data; name="json"\r\n\r\n{"inputs":{}}'],
    [
      'an unterminated binary part',
      '--zz\r\nContent-Disposition: form-data; name="json"\r\n\r\n{"inputs":{}}\r\n--zz\r\nContent-Disposition: form-data; name="p0"; filename="p0"\r\n\r\nabc',
    ],
  ])('%s is a coded 400 and the worker keeps serving', async (_, body) => {
    const res = await mp(body)
    expect(res.status).toBe(400)
    const env = (await res.json()) as { error: { code: string; message: string } }
    expect(env.error.message).toMatch(/Malformed multipart body/)
    await new Promise((resolve) => setTimeout(resolve, 50)) // the crash came one tick after the answer
    expect((await fetch(`${worker.url}/health`)).status).toBe(200)
  })
})

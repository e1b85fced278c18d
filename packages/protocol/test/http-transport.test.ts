import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  ACCEPT_MULTIPART,
  acceptsMultipart,
  decodeMultipart,
  decodeValue,
  encodeMultipart,
  encodeMultipartChunks,
  encodeValue,
  isMultipartContentType,
  MEDIA_TYPE_JSON,
  type NdArray,
  parseEnvelope,
  parseRunRequest,
  serializeJson,
  toWireEnvelope,
} from '../src/index.js'

// A tiny worker speaking both transports over a real port: inverts the IMAGE it receives.
async function readBody(req: IncomingMessage): Promise<Uint8Array> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return new Uint8Array(Buffer.concat(chunks))
}

let server: Server
let url: string

beforeAll(async () => {
  server = createServer(async (req, res) => {
    try {
      const body = await readBody(req)
      const ct = req.headers['content-type'] ?? ''
      const message = isMultipartContentType(ct) ? decodeMultipart(body, ct) : new TextDecoder().decode(body)
      const { inputs, requestId } = parseRunRequest(message)
      const image = decodeValue(inputs.image) as NdArray
      const inverted = { ...image, data: (image.data as Float32Array).map((v) => 1 - v) }
      const envelope = toWireEnvelope({
        status: 'completed',
        jobId: requestId ?? 'job',
        result: encodeValue(inverted, { type: 'IMAGE' }),
        outputs: { transport: encodeValue(isMultipartContentType(ct) ? 'multipart' : 'json') },
      })
      if (acceptsMultipart(req.headers.accept)) {
        const out = encodeMultipartChunks(envelope)
        res.writeHead(200, { 'content-type': out.contentType, 'content-length': out.byteLength })
        for (const chunk of out.chunks) res.write(chunk)
        res.end()
      } else {
        res.writeHead(200, { 'content-type': MEDIA_TYPE_JSON }).end(serializeJson(envelope))
      }
    } catch (error) {
      res
        .writeHead(400, { 'content-type': MEDIA_TYPE_JSON })
        .end(JSON.stringify({ status: 'failed', error: { code: 'BAD_REQUEST', message: String(error) } }))
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/run`
})

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve))
})

const image: NdArray = {
  dtype: 'float32',
  shape: [1, 64, 64, 3],
  data: Float32Array.from({ length: 64 * 64 * 3 }, (_, i) => (i % 256) / 256),
}

async function call(requestMultipart: boolean, responseMultipart: boolean) {
  const message = { inputs: { image: encodeValue(image, { type: 'IMAGE' }) }, request_id: 'r-1' }
  const { body, contentType } = requestMultipart
    ? encodeMultipart(message)
    : { body: serializeJson(message), contentType: MEDIA_TYPE_JSON }
  const res = await fetch(url, {
    method: 'POST',
    body,
    headers: { 'content-type': contentType, accept: responseMultipart ? ACCEPT_MULTIPART : MEDIA_TYPE_JSON },
    signal: AbortSignal.timeout(10_000),
  })
  const ct = res.headers.get('content-type') ?? ''
  const bytes = new Uint8Array(await res.arrayBuffer())
  return { ct, env: parseEnvelope(isMultipartContentType(ct) ? decodeMultipart(bytes, ct) : bytes, url) }
}

describe('both transports over a real port', () => {
  it.each([
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ])('request multipart=%s, response multipart=%s', async (reqMp, resMp) => {
    const { ct, env } = await call(reqMp, resMp)
    expect(isMultipartContentType(ct)).toBe(resMp)
    expect(env.status).toBe('completed')
    expect(env.jobId).toBe('r-1')
    expect(decodeValue(env.outputs?.transport)).toBe(reqMp ? 'multipart' : 'json')
    const out = decodeValue(env.result) as NdArray
    expect(out.shape).toEqual(image.shape)
    const src = image.data as Float32Array
    ;(out.data as Float32Array).forEach((v, i) => {
      if (v !== Math.fround(1 - src[i]!)) throw new Error(`pixel ${i}: ${v}`)
    })
  })
})

import { Readable } from 'node:stream'
import { decodeMultipart, encodeMultipartChunks, serializeJson } from '@comfy-remote/protocol'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { WireEnvelope } from './job.js'
import { valuesBytes } from './job-bytes.js'
import { type BodyStream, readRequestBody } from './read-body.js'

export const TRANSPORTS = ['json', 'multipart'] as const
const MULTIPART = 'multipart/form-data'

interface MediaRange {
  type: string
  q: number
}

function parseAccept(accept: string): MediaRange[] {
  return accept.split(',').map((part) => {
    const [type = '', ...params] = part.split(';').map((s) => s.trim().toLowerCase())
    let q = 1
    for (const param of params) if (param.startsWith('q=')) q = Number(param.slice(2)) || 0
    return { type, q }
  })
}

/** Which form to answer in: multipart only when the caller accepts it (and it is worth it, or JSON is not accepted). */
export function chooseTransport(accept: string | undefined, hasValues: boolean): 'json' | 'multipart' {
  if (accept === undefined || !accept.includes(MULTIPART)) return 'json'
  const ranges = parseAccept(accept)
  const multipartOk = ranges.some((r) => r.type === MULTIPART && r.q > 0)
  if (!multipartOk) return 'json'
  const jsonOk = ranges.some(
    (r) => (r.type === 'application/json' || r.type === 'application/*' || r.type === '*/*') && r.q > 0,
  )
  return hasValues || !jsonOk ? 'multipart' : 'json'
}

/**
 * Read multipart/form-data bodies (within the body limit) into one buffer and decode them with the
 * protocol: values are views into that buffer (see read-body.ts).
 */
export function registerMultipartParser(app: FastifyInstance, bodyLimit: number): void {
  app.addContentTypeParser(MULTIPART, async (request: FastifyRequest, payload: BodyStream) => {
    const bytes = await readRequestBody(payload, request.headers['content-length'], bodyLimit)
    // A single chunk may be a view into a shared socket buffer: decode from a copy of it then.
    const own = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice()
    return decodeMultipart(own, String(request.headers['content-type']))
  })
}

const jsonCache = new WeakMap<object, { version: number; text: string }>()

/**
 * Envelopes whose values hold more payload bytes than this are not kept as cached JSON: the base64
 * text would hold every finished result a second time (4/3 its size) outside the memory budget, and a
 * finished job is read once or twice, not polled in a loop like a running one.
 */
export const JSON_CACHE_MAX_VALUE_BYTES = 256 * 1024

/** True when the serialized JSON of this envelope may be cached for repeated polls. */
export function jsonCacheable(envelope: WireEnvelope): boolean {
  return envelope.outputs === undefined || valuesBytes(envelope.outputs) <= JSON_CACHE_MAX_VALUE_BYTES
}

/**
 * Send an envelope in the form the caller asked for. `cacheKey`/`version`
 * let repeated polls of an unchanged job reuse the serialized JSON.
 */
export async function sendEnvelope(
  request: FastifyRequest,
  reply: FastifyReply,
  statusCode: number,
  envelope: WireEnvelope,
  cache?: { key: object; version: number },
): Promise<FastifyReply> {
  reply.code(statusCode)
  if (chooseTransport(request.headers.accept, envelope.outputs !== undefined) === 'multipart') {
    // The pieces in order, payloads not copied (a joined body would be one more copy of every output).
    const { chunks, contentType, byteLength } = encodeMultipartChunks(envelope)
    reply.header('content-length', byteLength)
    return reply.type(contentType).send(Readable.from(chunks, { objectMode: false }))
  }
  let text: string
  const cached = cache === undefined ? undefined : jsonCache.get(cache.key)
  if (cache !== undefined && cached !== undefined && cached.version === cache.version) text = cached.text
  else {
    text = serializeJson(envelope)
    if (cache !== undefined && jsonCacheable(envelope))
      jsonCache.set(cache.key, { version: cache.version, text })
  }
  return reply.type('application/json; charset=utf-8').send(text)
}

import { decodeMultipart, encodeMultipart, serializeJson } from '@comfy-remote/protocol'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { WireEnvelope } from './job.js'

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

/** Buffer multipart/form-data bodies (within the body limit) and decode them with the protocol. */
export function registerMultipartParser(app: FastifyInstance, bodyLimit: number): void {
  app.addContentTypeParser(MULTIPART, { parseAs: 'buffer', bodyLimit }, (request, body, done) => {
    try {
      const bytes = body as Buffer
      done(
        null,
        decodeMultipart(
          new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength),
          String(request.headers['content-type']),
        ),
      )
    } catch (error) {
      done(error as Error, undefined)
    }
  })
}

const jsonCache = new WeakMap<object, { version: number; text: string }>()

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
    const { body, contentType } = encodeMultipart(envelope)
    const bytes = body instanceof Uint8Array ? body : new Uint8Array(await (body as Blob).arrayBuffer())
    return reply.type(contentType).send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength))
  }
  let text: string
  const cached = cache === undefined ? undefined : jsonCache.get(cache.key)
  if (cache !== undefined && cached !== undefined && cached.version === cache.version) text = cached.text
  else {
    text = serializeJson(envelope)
    if (cache !== undefined) jsonCache.set(cache.key, { version: cache.version, text })
  }
  return reply.type('application/json; charset=utf-8').send(text)
}

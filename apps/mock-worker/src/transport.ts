import type { Readable } from 'node:stream'
import { serializeJson } from '@comfy-remote/protocol'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { WireEnvelope } from './job.js'
import { valuesHeldBytes } from './job-bytes.js'
import { hasFileBytes, materialize } from './spool/materialize.js'
import { encodeMultipartStream } from './spool/multipart-response.js'
import { parseMultipartStream, type StreamLimits } from './spool/multipart-stream.js'
import { holdRequestSpool, registerRequestSpoolCleanup } from './spool/request-spool.js'
import type { JobSpool } from './spool/spool.js'

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
 * Parse multipart/form-data bodies as they stream in (see spool/multipart-stream.ts): small parts in
 * memory, large ones in a spool directory that the job claims (or that is deleted with the response).
 * The multipart limit is its own, much larger than the JSON body limit.
 */
export function registerMultipartParser(
  app: FastifyInstance,
  limits: StreamLimits,
  createSpool: () => JobSpool,
): void {
  registerRequestSpoolCleanup(app)
  app.addContentTypeParser(
    MULTIPART,
    { bodyLimit: limits.bodyLimit },
    async (request: FastifyRequest, payload: Readable) => {
      const spool = createSpool()
      try {
        const message = await parseMultipartStream(payload, request.headers, spool, limits)
        if (spool.bytes > 0) holdRequestSpool(request, spool)
        else await spool.dispose()
        return message
      } catch (error) {
        await spool.dispose()
        throw error
      }
    },
  )
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
  if (envelope.outputs === undefined) return true
  const held = valuesHeldBytes(envelope.outputs) // spooled outputs too: their JSON text would be in memory
  return held.memory + held.disk <= JSON_CACHE_MAX_VALUE_BYTES
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
    // The pieces in order, payloads not copied, spool files streamed from disk.
    const { stream, contentType, byteLength } = encodeMultipartStream(envelope)
    reply.header('content-length', byteLength)
    return reply.type(contentType).send(stream)
  }
  let text: string
  const cached = cache === undefined ? undefined : jsonCache.get(cache.key)
  if (cache !== undefined && cached !== undefined && cached.version === cache.version) text = cached.text
  else {
    text = serializeJson(hasFileBytes(envelope) ? materialize(envelope) : envelope)
    if (cache !== undefined && jsonCacheable(envelope))
      jsonCache.set(cache.key, { version: cache.version, text })
  }
  return reply.type('application/json; charset=utf-8').send(text)
}

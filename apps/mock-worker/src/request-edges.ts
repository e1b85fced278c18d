import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { errorEnvelope } from './job.js'
import { sendEnvelope } from './transport.js'

/** Methods whose routes take no body: whatever Content-Type a client sends with them is ignored. */
const BODILESS = new Set(['DELETE', 'GET', 'HEAD', 'OPTIONS'])

/**
 * Many HTTP clients send `Content-Type: application/json` on every request, DELETE included, with no
 * body; Fastify would then try to parse the empty body as JSON (400) and the job would keep running.
 * Bodiless methods drop the body headers before parsing, as the generated Modal app does.
 */
export function registerBodilessMethods(app: FastifyInstance): void {
  app.addHook('onRequest', async (request) => {
    if (!BODILESS.has(request.method)) return
    const headers = request.headers
    if (headers['content-type'] === undefined && headers['transfer-encoding'] === undefined) return
    delete headers['content-type']
    delete headers['transfer-encoding']
    headers['content-length'] = '0' // an unread body is discarded by node:http
  })
}

/**
 * Fastify's own answers before routing (a path parameter over maxParamLength: raw 414; a malformed
 * URL: raw 400) become our error envelopes: a job id no job can have is NOT_FOUND, as in the Modal app.
 */
export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const path = request.url.split('?', 1)[0] ?? ''
  const [status, code, message] =
    error.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? [404, 'NOT_FOUND', `No job with that id (${path.length} characters: longer than any job id).`]
      : [400, 'BAD_REQUEST', `The URL is malformed (${error.message}); percent-encode the path.`]
  void sendEnvelope(request, reply, status, errorEnvelope(code, message))
}

import { isMultipartContentType, isProtocolError } from '@comfy-remote/protocol'
import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify'
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod'
import { isMockWorkerError } from './errors.js'
import { errorEnvelope } from './job.js'
import { sendEnvelope } from './transport.js'

function formatBytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MiB` : `${bytes} bytes`
}

/**
 * One error handler: every error becomes a failed envelope with a code and
 * the right HTTP status. Unknown errors are logged and answered without details.
 */
export interface ErrorHandlerLimits {
  /** JSON (and other non-multipart) body limit, in bytes. */
  bodyLimit: number
  /** multipart/form-data body limit, in bytes. */
  multipartLimit: number
  /** Retry-After (seconds) sent with 503 answers. */
  retryAfterSeconds: number
}

function tooLarge(request: FastifyRequest, limits: ErrorHandlerLimits): string {
  if (isMultipartContentType(String(request.headers['content-type'] ?? ''))) {
    const limit = limits.multipartLimit
    return `The multipart request body is larger than the limit of ${formatBytes(limit)} (${limit} bytes); send smaller inputs, pass large ones by ref, or start the worker with a larger --multipart-limit.`
  }
  const limit = limits.bodyLimit
  return `The JSON request body is larger than the limit of ${formatBytes(limit)} (${limit} bytes); send binary values as multipart/form-data (limit ${formatBytes(limits.multipartLimit)}, streamed to disk) or by ref, or start the worker with a larger --body-limit.`
}

export function registerErrorHandler(app: FastifyInstance, limits: ErrorHandlerLimits): void {
  app.setErrorHandler(async (error: FastifyError, request, reply) => {
    const send = (status: number, code: string, message: string, details?: unknown) => {
      if (status === 503)
        reply.header('retry-after', String(Math.max(1, Math.ceil(limits.retryAfterSeconds))))
      return sendEnvelope(request, reply, status, errorEnvelope(code, message, details))
    }
    if (isMockWorkerError(error)) return send(error.statusCode, error.code, error.message, error.details)
    if (isProtocolError(error)) {
      const field = error.field === undefined ? undefined : { field: error.field }
      const code =
        error.code === 'PICKLE_REFUSED' || error.code === 'UNKNOWN_ENCODING' ? error.code : 'BAD_REQUEST'
      return send(400, code, error.message, field)
    }
    if (hasZodFastifySchemaValidationErrors(error)) {
      const context = error.validationContext ?? 'request'
      const problems = error.validation.map((issue) => {
        const path = issue.instancePath.replace(/^\//, '').replaceAll('/', '.')
        return `${context}${path ? `.${path}` : ''}: ${issue.message}`
      })
      return send(400, 'BAD_REQUEST', problems.join('; '), { problems })
    }
    switch (error.code) {
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return send(413, 'PAYLOAD_TOO_LARGE', tooLarge(request, limits))
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return send(
          415,
          'UNSUPPORTED_MEDIA_TYPE',
          `Unsupported Content-Type ${JSON.stringify(request.headers['content-type'] ?? '')}; send application/json or multipart/form-data.`,
        )
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
        return send(
          400,
          'BAD_REQUEST',
          'body: empty with Content-Type application/json; send a JSON object {"inputs": {...}}.',
          { field: 'body' },
        )
    }
    if (
      error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' ||
      error instanceof SyntaxError ||
      (error.statusCode === 400 && /JSON/i.test(error.message))
    ) {
      return send(
        400,
        'BAD_REQUEST',
        `body: not valid JSON (${error.message}); send a JSON object {"inputs": {...}}.`,
        { field: 'body' },
      )
    }
    if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
      return send(error.statusCode, 'BAD_REQUEST', error.message)
    }
    request.log.error({ err: error }, 'unhandled error')
    return send(500, 'INTERNAL', 'The worker hit an internal error; see its log for details.')
  })
  app.setNotFoundHandler(async (request, reply) =>
    sendEnvelope(
      request,
      reply,
      404,
      errorEnvelope(
        'NOT_FOUND',
        `No route ${request.method} ${request.url.split('?', 1)[0]}; see GET /docs for the routes.`,
      ),
    ),
  )
}

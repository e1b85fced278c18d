import type { OutgoingHttpHeaders } from 'node:http'
import { base64ToBytes } from '@comfy-remote/protocol'
import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { WorkerContext } from '../context.js'
import { MockWorkerError } from '../errors.js'
import { findOutput, payloadSize } from '../refs/output-refs.js'
import { isFileBytes } from '../spool/file-bytes.js'
import { sendFileRange } from '../spool/send-file.js'
import { requireJob } from './jobs.js'
import { parseRange } from './range.js'
import { envelopeResponses, zJobParams } from './schemas.js'

const zOutputParams = z.object({
  id: z.string().min(1).max(200).describe('job id'),
  '*': z.string().min(1).max(2000).describe('output name, then keys of object/list values, separated by /'),
})

function contentType(value: Record<string, unknown>): string {
  if (value.encoding === 'png') return 'image/png'
  if (value.encoding === 'file' && typeof value.mime === 'string' && /^[\w.+-]+\/[\w.+-]+$/.test(value.mime))
    return value.mime
  return 'application/octet-stream'
}

/**
 * GET /jobs/:id/outputs/:name: the raw bytes of a finished job's binary output (npy file, png, file),
 * with Range support (206 / 416), for `output_refs` and for clients that want the bytes alone.
 */
export function registerOutputRoutes(app: FastifyInstance, ctx: WorkerContext): void {
  app.withTypeProvider<ZodTypeProvider>().get(
    '/jobs/:id/outputs/*',
    {
      schema: {
        summary: 'Raw bytes of one output',
        description:
          "The bytes of a finished job's npy/png/file output (the `ref` of `output_refs: true` envelopes). Supports `Range: bytes=a-b` (206, 416 when unsatisfiable). Nested values: `<name>/<key>/...`.",
        params: zOutputParams,
      },
    },
    async (request, reply) => {
      const job = requireJob(ctx, request.params.id)
      const path = request.params['*'].split('/').map((s) => decodeURIComponent(s))
      const name = path.join('/')
      if (job.outputs === undefined) {
        throw new MockWorkerError(
          'NOT_FOUND',
          `Job ${job.id} has no outputs${job.status === 'completed' ? '' : ` (it is ${job.status})`}; read its envelope first.`,
          { details: { job_id: job.id, status: job.status } },
        )
      }
      const value = findOutput(job.outputs, path) as Record<string, unknown> | undefined
      const size = payloadSize(value)
      if (value === undefined || size === undefined) {
        throw new MockWorkerError(
          'NOT_FOUND',
          `Job ${job.id} has no binary output "${name}"; outputs: ${Object.keys(job.outputs).join(', ') || '(none)'}.`,
          { details: { job_id: job.id, output: name } },
        )
      }
      const data = value.data
      reply.header('accept-ranges', 'bytes')
      reply.type(contentType(value))
      const range = parseRange(request.headers.range, size)
      if (range === 'unsatisfiable') {
        reply.header('content-range', `bytes */${size}`)
        throw new MockWorkerError(
          'RANGE_NOT_SATISFIABLE',
          `Range ${request.headers.range} is outside the ${size} bytes of output "${name}".`,
          {
            details: { size },
          },
        )
      }
      const [start, end] = range ?? [0, size - 1]
      if (range !== undefined) {
        reply.code(206)
        reply.header('content-range', `bytes ${start}-${end}/${size}`)
      }
      reply.header('content-length', Math.max(0, end - start + 1))
      if (size === 0) return reply.send(Buffer.alloc(0))
      if (isFileBytes(data)) {
        // written here, not through reply.send(stream): see send-file.ts
        reply.hijack()
        reply.raw.writeHead(reply.statusCode, reply.getHeaders() as OutgoingHttpHeaders)
        if (request.method === 'HEAD') return void reply.raw.end()
        return sendFileRange(reply.raw, data, start, end).catch((err: unknown) =>
          request.log.info({ err }, `output "${name}" of job ${job.id} was not sent whole`),
        )
      }
      const bytes = data instanceof Uint8Array ? data : base64ToBytes(String(data))
      return reply.send(Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start + 1))
    },
  )
  app.withTypeProvider<ZodTypeProvider>().delete(
    '/jobs/:id/outputs',
    {
      schema: {
        summary: "Release a finished job's inputs and outputs",
        description:
          'For callers that have read what they need: the worker deletes the job now instead of at its result TTL (spooled inputs, outputs, its Idempotency-Key). 204; afterwards the job and its refs answer 404. A job that has not finished: 400 (cancel it with DELETE /jobs/:id).',
        params: zJobParams,
        response: {
          204: z.null().describe('released'),
          400: envelopeResponses[400],
          401: envelopeResponses[401],
          404: envelopeResponses[404],
        },
      },
    },
    async (request, reply) => {
      const job = requireJob(ctx, request.params.id)
      if (!ctx.store.release(job)) {
        throw new MockWorkerError(
          'BAD_REQUEST',
          `Job ${job.id} is ${job.status}: release it once it has finished, or cancel it with DELETE /jobs/${job.id}.`,
          { details: { job_id: job.id, status: job.status } },
        )
      }
      return reply.code(204).send(null)
    },
  )
}

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { type WorkerContext, waitMs } from '../context.js'
import { MockWorkerError } from '../errors.js'
import { isTerminal, type Job } from '../job.js'
import { sendEnvelope } from '../transport.js'
import { envelopeResponses, zJobParams, zWaitQuery } from './schemas.js'

/** The job, or NOT_FOUND saying whether it expired, was evicted, or never existed. */
export function requireJob(ctx: WorkerContext, id: string): Job {
  const job = ctx.store.get(id)
  if (job !== undefined) return job
  const gone = ctx.store.goneReason(id)
  if (gone === 'evicted-memory') {
    throw new MockWorkerError(
      'NOT_FOUND',
      `Job ${id} was evicted to stay within the worker's memory budget: finished results may hold ${ctx.store.maxStoredBytes} bytes together (--max-stored-bytes) and the oldest are dropped first. Read results sooner (POST /run?wait=) or raise the budget, and submit the request again.`,
      { details: { job_id: id, evicted: true, reason: 'memory_budget' } },
    )
  }
  if (gone === 'evicted-count') {
    throw new MockWorkerError(
      'NOT_FOUND',
      `Job ${id} was evicted: the worker keeps at most ${ctx.store.maxJobs} jobs and drops the oldest finished ones first. Submit the request again.`,
      { details: { job_id: id, evicted: true, reason: 'job_limit' } },
    )
  }
  if (gone === 'released') {
    throw new MockWorkerError(
      'NOT_FOUND',
      `Job ${id} was released by its caller (DELETE /jobs/${id}/outputs): its inputs and outputs are deleted. Submit the request again.`,
      { details: { job_id: id, released: true } },
    )
  }
  if (gone === 'expired') {
    const seconds = Math.round(ctx.store.resultTtlMs / 1000)
    throw new MockWorkerError(
      'NOT_FOUND',
      `Job ${id} has expired: finished jobs are kept for ${seconds} s. Submit the request again.`,
      { details: { job_id: id, expired: true } },
    )
  }
  throw new MockWorkerError(
    'NOT_FOUND',
    `Job ${id} is unknown to this worker; check the id (jobs do not survive a worker restart).`,
    {
      details: { job_id: id },
    },
  )
}

/** GET /jobs/:id (long-poll with ?wait=) and DELETE /jobs/:id. */
export function registerJobRoutes(app: FastifyInstance, ctx: WorkerContext): void {
  const typed = app.withTypeProvider<ZodTypeProvider>()
  typed.get(
    '/jobs/:id',
    {
      schema: {
        summary: 'Job envelope',
        description:
          '`?wait=S` long-polls up to S seconds until the status, progress or queue position changes.',
        params: zJobParams,
        querystring: zWaitQuery,
        response: { 200: envelopeResponses[200], 401: envelopeResponses[401], 404: envelopeResponses[404] },
      },
    },
    async (request, reply) => {
      const job = requireJob(ctx, request.params.id)
      const wait = waitMs(ctx, request.query.wait)
      if (wait > 0 && !isTerminal(job.status)) {
        const seen = job.version
        await ctx.store.waitFor(job, (j) => j.version !== seen, wait)
      }
      return sendEnvelope(request as FastifyRequest, reply, 200, ctx.envelope(job), {
        key: job,
        version: job.version,
      })
    },
  )
  typed.get(
    '/jobs/:id/preview',
    {
      schema: {
        summary: 'Latest live preview',
        description:
          'The newest preview image of a running job (JPEG or PNG bytes, `Content-Type` says which; `X-Preview-Node` / `X-Preview-Class` name the remote node). 404 before the first preview and once the job finished (its outputs are the result).',
        params: zJobParams,
        response: { 401: envelopeResponses[401], 404: envelopeResponses[404] },
      },
    },
    async (request, reply) => {
      const job = requireJob(ctx, request.params.id)
      const preview = job.preview
      if (preview === undefined)
        throw new MockWorkerError(
          'NOT_FOUND',
          isTerminal(job.status)
            ? `Job ${job.id} has finished: previews exist only while it runs; read its outputs with GET /jobs/${job.id}.`
            : `Job ${job.id} has no preview yet (previews come from samplers while they run); try again in a moment.`,
          { details: { job_id: job.id, preview: false } },
        )
      reply.header('cache-control', 'no-store')
      reply.header('x-preview-seq', String(preview.seq))
      if (preview.node !== undefined) reply.header('x-preview-node', preview.node)
      if (preview.class_type !== undefined) reply.header('x-preview-class', preview.class_type)
      const bytes = Buffer.from(preview.data.buffer, preview.data.byteOffset, preview.data.byteLength)
      return (reply as FastifyReply).type(preview.mime).send(bytes)
    },
  )
  typed.delete(
    '/jobs/:id',
    {
      schema: {
        summary: 'Cancel a job',
        description:
          'A waiting job leaves the queue; a running one is interrupted. The job ends `cancelled`. Cancelling a finished job changes nothing.',
        params: zJobParams,
        response: { 200: envelopeResponses[200], 401: envelopeResponses[401], 404: envelopeResponses[404] },
      },
    },
    async (request, reply) => {
      requireJob(ctx, request.params.id)
      const job = ctx.store.cancel(request.params.id) as Job
      return sendEnvelope(request as FastifyRequest, reply, 200, ctx.envelope(job))
    },
  )
}

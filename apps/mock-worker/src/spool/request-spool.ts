import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { JobSpool } from './spool.js'

/** Spools of requests whose body is parsed and not yet claimed by a job. */
const pending = new WeakMap<FastifyRequest, JobSpool>()

/** The parser made `spool` for this request; it is deleted when the response ends unless claimed. */
export function holdRequestSpool(request: FastifyRequest, spool: JobSpool): void {
  pending.set(request, spool)
}

/** Hand the request's spool (if any) to a job; undefined when the request made none. */
export function claimRequestSpool(request: FastifyRequest): JobSpool | undefined {
  const spool = pending.get(request)
  pending.delete(request)
  return spool
}

/**
 * Deletes unclaimed request spools when the response closes: answered with an error, refused,
 * idempotent replays, or the client left before the answer.
 */
export function registerRequestSpoolCleanup(app: FastifyInstance): void {
  app.addHook('onRequest', (request, reply, done) => {
    reply.raw.once('close', () => {
      const spool = claimRequestSpool(request)
      spool?.dispose().catch((err: unknown) => request.log.warn({ err }, 'spool cleanup'))
    })
    done()
  })
}

import { parseRunRequest, zRunRequestWire } from '@comfy-remote/protocol'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { validatorCompiler } from 'fastify-type-provider-zod'
import type { z } from 'zod'
import { type WorkerContext, waitMs } from '../context.js'
import { MockWorkerError } from '../errors.js'
import { type Fingerprint, fingerprint } from '../fingerprint.js'
import { checkInputs } from '../input-checks.js'
import { isTerminal, type Job, jobPollUrl } from '../job.js'
import { valuesBytes } from '../job-bytes.js'
import { collectRefInputs } from '../refs/input-refs.js'
import type { PreparedJob } from '../refs/prepared-job.js'
import { claimRequestSpool } from '../spool/request-spool.js'
import { sendEnvelope } from '../transport.js'
import { webhookTarget } from '../webhooks/request.js'
import { envelopeResponses, zRunHeaders, zWaitQuery } from './schemas.js'

const BAD_REQUEST_CODES = new Set(['BAD_REQUEST', 'COMFYUI_VALIDATION', 'REF_REFUSED'])

/** HTTP status of a POST /run answer for this job. */
function runStatus(job: Job): number {
  if (!isTerminal(job.status)) return 202
  if (job.status === 'failed' && job.error !== undefined && BAD_REQUEST_CODES.has(job.error.code)) return 400
  return 200
}

type RunRequestT = FastifyRequest<{
  Querystring: z.infer<typeof zWaitQuery>
  Headers: z.infer<typeof zRunHeaders>
}>

const NO_PRINT: Fingerprint = async () => ''

/** Whether a request matches the job its Idempotency-Key found (a payload that cannot be read: no). */
async function samePrint(job: Job, print: Fingerprint): Promise<boolean> {
  try {
    return (await job.fingerprint()) === (await print())
  } catch {
    return false
  }
}

function idempotencyConflict(key: string | undefined, job: Job): MockWorkerError {
  return new MockWorkerError(
    'IDEMPOTENCY_CONFLICT',
    `Idempotency-Key ${JSON.stringify(key)} was already used for a different request (job ${job.id}); use a new key for a new request.`,
    { details: { job_id: job.id } },
  )
}

/** POST /run and POST /: submit a job (v1 map form or the original list form). */
export function registerRunRoutes(app: FastifyInstance, ctx: WorkerContext): void {
  const handler = async (request: RunRequestT, reply: FastifyReply) => {
    const started = Date.now()
    const key = request.headers['idempotency-key']
    const { inputs, outputRefs } = parseRunRequest(request.body ?? {})
    // taken only to compare with an earlier request of the same key (spooled payloads are read then)
    const print = key === undefined ? NO_PRINT : fingerprint(inputs)
    const webhook = webhookTarget(request.body, ctx.webhooks)
    let job = key === undefined ? undefined : ctx.store.findByKey(key)
    if (job !== undefined && !(await samePrint(job, print))) throw idempotencyConflict(key, job)
    if (job === undefined) {
      ctx.store.assertAccepting() // before prepare: no work for a job that would be refused
      checkInputs(ctx.contract, inputs, ctx.allowPickle)
      const refs = collectRefInputs(inputs, ctx.refPolicy)
      const prepared: PreparedJob = { prepared: await ctx.engine.prepare(inputs), refs }
      // the request's spooled parts now belong to the job (deleted with it); refused: with the response
      const spool = claimRequestSpool(request as FastifyRequest)
      let submitted: ReturnType<typeof ctx.store.submit>
      try {
        submitted = ctx.store.submit(prepared, key, print, valuesBytes(inputs), spool)
      } catch (error) {
        await spool?.dispose()
        throw error
      }
      job = submitted.job
      if (!submitted.created)
        await spool?.dispose() // an idempotent replay: the first request's job answers
      else if (outputRefs === true) job.outputRefs = true
      if (!submitted.created && !(await samePrint(job, print))) throw idempotencyConflict(key, job)
      if (submitted.created) {
        job.transferMs = reply.elapsedTime // receiving and decoding the request body
        if (webhook !== undefined) ctx.dispatcher?.watch(job, webhook)
      }
      await ctx.store.waitFor(job, (j) => j.admitted, ctx.admissionTimeoutMs)
    }
    const wait = waitMs(ctx, request.query.wait) - (Date.now() - started)
    if (wait > 0) await ctx.store.waitFor(job, (j) => isTerminal(j.status), wait)
    const status = runStatus(job)
    if (status === 202) reply.header('location', jobPollUrl(job.id))
    return sendEnvelope(request, reply, status, ctx.envelope(job))
  }
  const typed = app.withTypeProvider<ZodTypeProvider>()
  for (const url of ['/run', '/']) {
    typed.route({
      method: 'POST',
      url,
      // The body is read by parseRunRequest (both request shapes, field-naming errors);
      // the zod body schema documents it in OpenAPI only.
      validatorCompiler: (route) =>
        route.httpPart === 'body' ? (data: unknown) => ({ value: data }) : validatorCompiler(route as never),
      schema: {
        summary: url === '/run' ? 'Submit a job' : 'Submit a job (original callers)',
        description:
          'Runs the workflow with the given inputs. `?wait=S` returns the finished envelope when done within S seconds, else 202 with poll_url. Accepts application/json and multipart/form-data.',
        querystring: zWaitQuery,
        headers: zRunHeaders,
        body: zRunRequestWire,
        response: envelopeResponses,
      },
      handler: handler as never,
    })
  }
}

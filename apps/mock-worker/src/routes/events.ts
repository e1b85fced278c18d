import { serializeJson } from '@comfy-remote/protocol'
import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import type { WorkerContext } from '../context.js'
import type { WireEnvelope } from '../job.js'
import { isTerminal } from '../job.js'
import { isFileBytes } from '../spool/file-bytes.js'
import { hasFileBytes, materialize } from '../spool/materialize.js'
import { requireJob } from './jobs.js'
import { zJobParams } from './schemas.js'

/** Binary output bytes above which SSE events leave the values out (read them with GET /jobs/:id). */
export const SSE_VALUE_LIMIT = 256 * 1024

/** Open SSE streams, ended when the worker closes. */
export type OpenStreams = Set<() => void>

/**
 * GET /jobs/:id/events: server-sent events, one `data:` line with the JSON
 * envelope per change (the current one first), ending after the final one.
 */
export function registerEventRoutes(app: FastifyInstance, ctx: WorkerContext, streams: OpenStreams): void {
  app.withTypeProvider<ZodTypeProvider>().get(
    '/jobs/:id/events',
    {
      schema: {
        summary: 'Job events (SSE)',
        description:
          'text/event-stream: every envelope change as `data: <json>` (default event type), ending after the job ends.',
        params: zJobParams,
      },
    },
    async (request, reply) => {
      const job = requireJob(ctx, request.params.id)
      reply.hijack()
      const res = reply.raw
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      })
      let sent = -1
      let closed = false
      const push = (): void => {
        if (closed || job.version === sent) return
        sent = job.version
        res.write(`id: ${job.version}\ndata: ${serializeJson(withoutLargeValues(ctx.envelope(job)))}\n\n`)
        if (isTerminal(job.status)) end()
      }
      const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), ctx.heartbeatMs)
      heartbeat.unref()
      const unsubscribe = ctx.store.subscribe(job.id, push)
      const end = (): void => {
        if (closed) return
        closed = true
        clearInterval(heartbeat)
        unsubscribe()
        streams.delete(end)
        res.end()
      }
      streams.add(end)
      res.on('close', end)
      res.write('retry: 1000\n\n')
      push()
    },
  )
}

/**
 * SSE is text, so large binary outputs would travel as base64 there even when the caller
 * negotiated multipart. Above SSE_VALUE_LIMIT the event leaves `result`/`outputs` out and
 * says so with `values_omitted`; the client then reads them once with `GET /jobs/:id`.
 */
function withoutLargeValues(env: WireEnvelope): WireEnvelope {
  if (env.outputs === undefined) return env
  // small outputs spooled to disk (files read back from ComfyUI) are read in to travel as base64
  if (binaryBytes(env.outputs) <= SSE_VALUE_LIMIT) return hasFileBytes(env) ? materialize(env) : env
  const { result: _result, outputs: _outputs, ...rest } = env
  return { ...rest, values_omitted: true } as WireEnvelope
}

function binaryBytes(value: unknown): number {
  if (value instanceof Uint8Array) return value.byteLength
  if (isFileBytes(value)) return value.size
  if (typeof value === 'string') return value.length
  if (Array.isArray(value)) return value.reduce((sum: number, item) => sum + binaryBytes(item), 0)
  if (value !== null && typeof value === 'object') {
    return Object.values(value).reduce((sum: number, item) => sum + binaryBytes(item), 0)
  }
  return 0
}

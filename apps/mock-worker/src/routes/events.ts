import { serializeJson } from '@comfy-remote/protocol'
import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { WorkerContext } from '../context.js'
import type { WireEnvelope } from '../job.js'
import { isTerminal } from '../job.js'
import type { Preview } from '../previews.js'
import { isFileBytes } from '../spool/file-bytes.js'
import { hasFileBytes, materialize } from '../spool/materialize.js'
import { requireJob } from './jobs.js'
import { zJobParams } from './schemas.js'

/** Binary output bytes above which SSE events leave the values out (read them with GET /jobs/:id). */
export const SSE_VALUE_LIMIT = 256 * 1024

/**
 * Bytes an SSE stream may have queued for a client that does not read: beyond it the stream skips
 * events and sends the newest state once the client catches up (envelopes carry the whole state,
 * previews are newest-wins), so a slow client neither blocks the job nor grows memory.
 */
export const SSE_BACKLOG_BYTES = 256 * 1024

const zEventsQuery = z.object({
  previews: z
    .enum(['1', 'true', '0', 'false'])
    .optional()
    .describe('1: also send `event: preview` events with live preview images (opt-in)'),
})

/** The SSE text of a preview event: `{node, class_type, mime, data}` with base64 image data. */
export function previewEvent(preview: Preview): string {
  const data: Record<string, unknown> = {}
  if (preview.node !== undefined) data.node = preview.node
  if (preview.class_type !== undefined) data.class_type = preview.class_type
  data.mime = preview.mime
  data.data = Buffer.from(preview.data.buffer, preview.data.byteOffset, preview.data.byteLength).toString(
    'base64',
  )
  return `event: preview\ndata: ${JSON.stringify(data)}\n\n`
}

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
          'text/event-stream: every envelope change as `data: <json>` (default event type), ending after the job ends. With `?previews=1` also `event: preview` events `{node, class_type, mime, data}` (at most 4 per second, newest wins).',
        params: zJobParams,
        querystring: zEventsQuery,
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
      const previews = request.query.previews === '1' || request.query.previews === 'true'
      let sent = -1
      let sentPreview = job.preview === undefined ? 0 : -1
      let eventId = 0 // SSE ids count the events of this stream: 1, 2, 3, ...
      let closed = false
      const backlogged = (): boolean => res.writableLength > SSE_BACKLOG_BYTES
      const push = (): void => {
        if (closed || job.version === sent || backlogged()) return
        sent = job.version
        eventId += 1
        res.write(`id: ${eventId}\ndata: ${serializeJson(withoutLargeValues(ctx.envelope(job)))}\n\n`)
        if (isTerminal(job.status)) end()
      }
      const pushPreview = (): void => {
        const preview = job.preview
        if (closed || !previews || preview === undefined || preview.seq === sentPreview || backlogged())
          return
        sentPreview = preview.seq
        res.write(previewEvent(preview))
      }
      const heartbeat = setInterval(() => {
        if (!backlogged()) res.write(': keep-alive\n\n')
      }, ctx.heartbeatMs)
      heartbeat.unref()
      const unsubscribe = ctx.store.subscribe(job.id, push)
      const unsubscribePreviews = previews ? ctx.store.subscribePreviews(job.id, pushPreview) : () => {}
      const end = (): void => {
        if (closed) return
        closed = true
        clearInterval(heartbeat)
        unsubscribe()
        unsubscribePreviews()
        streams.delete(end)
        res.end()
      }
      streams.add(end)
      res.on('close', end)
      // A client that caught up gets the newest state it missed.
      res.on('drain', () => {
        push()
        pushPreview()
      })
      res.write('retry: 1000\n\n')
      push()
      pushPreview()
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

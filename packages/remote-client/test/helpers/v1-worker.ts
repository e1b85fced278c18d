import {
  decodeMultipart,
  encodeMultipart,
  isMultipartContentType,
  serializeJson,
} from '@comfy-remote/protocol'
import { json, type Recorded, startServer, type TestServer } from './server.js'

export interface V1Options {
  /** Serve /jobs/:id/events (default true). */
  sse?: boolean
  /** Progress steps before a job completes; Infinity = never (default 3). */
  steps?: number
  /** ms between SSE events (default 20). */
  tick?: number
  /** Advertise multipart in /health (default true). */
  multipart?: boolean
  /** The event stream sends the current envelope, then goes silent (a buffering proxy). */
  stall?: boolean
}

interface Job {
  id: string
  step: number
  inputs: Record<string, unknown>
  cancelled: boolean
}

export interface V1Worker extends TestServer {
  jobs: Map<string, Job>
}

/** A scripted v1 worker: echoes inputs as outputs after `steps` progress steps. */
export async function startV1Worker(opts: V1Options = {}): Promise<V1Worker> {
  const steps = opts.steps ?? 3
  const tick = opts.tick ?? 20
  const jobs = new Map<string, Job>()
  const byKey = new Map<string, Job>()
  const envelope = (job: Job, full: boolean) => {
    if (job.cancelled)
      return {
        status: 'cancelled',
        job_id: job.id,
        error: { code: 'CANCELLED', message: 'cancelled by the client' },
      }
    if (job.step >= steps) {
      const base = {
        status: 'completed',
        job_id: job.id,
        poll_url: `/jobs/${job.id}`,
        progress: { value: steps, max: steps },
      }
      return full ? { ...base, outputs: job.inputs, result: Object.values(job.inputs)[0] } : base
    }
    return {
      status: job.step === 0 ? 'pending' : 'running',
      job_id: job.id,
      poll_url: `/jobs/${job.id}`,
      progress: { value: job.step, max: steps },
      message: `step ${job.step}`,
    }
  }
  const send = (req: Recorded, res: import('node:http').ServerResponse, status: number, body: unknown) => {
    if (String(req.headers.accept ?? '').includes('multipart/form-data')) {
      const { body: bytes, contentType } = encodeMultipart(body)
      res.writeHead(status, { 'content-type': contentType, 'content-length': bytes.byteLength })
      res.end(bytes)
      return
    }
    const text = serializeJson(body)
    res.writeHead(status, { 'content-type': 'application/json' })
    res.end(text)
  }
  const server = await startServer((req, res) => {
    if (req.path === '/health')
      return json(res, 200, {
        status: 'ok',
        transports: opts.multipart === false ? ['json'] : ['json', 'multipart'],
      })
    if (req.path === '/schema') {
      return json(res, 200, {
        inputs: [{ name: 'image', nodeId: '1', type: 'IMAGE', required: true }],
        outputs: [{ name: 'image', nodeId: '2', type: 'IMAGE' }],
        transports: ['json', 'multipart'],
      })
    }
    if (req.method === 'POST' && req.path === '/run') {
      const type = String(req.headers['content-type'] ?? '')
      const message = (
        isMultipartContentType(type)
          ? decodeMultipart(new Uint8Array(req.body), type)
          : JSON.parse(req.body.toString())
      ) as { inputs: Record<string, unknown> }
      const key = String(req.headers['idempotency-key'] ?? jobs.size)
      let job = byKey.get(key)
      if (!job) {
        job = { id: `j${jobs.size + 1}`, step: 0, inputs: message.inputs, cancelled: false }
        jobs.set(job.id, job)
        byKey.set(key, job)
      }
      if (Number(req.query.get('wait') ?? 0) > 0 && Number.isFinite(steps)) {
        job.step = steps
        return send(req, res, 200, envelope(job, true))
      }
      return send(req, res, 202, envelope(job, false))
    }
    const m = /^\/jobs\/([^/]+)(\/events)?$/.exec(req.path)
    const job = m?.[1] ? jobs.get(m[1]) : undefined
    if (!job)
      return json(res, 404, { status: 'failed', error: { code: 'NOT_FOUND', message: 'unknown job' } })
    if (req.method === 'DELETE') {
      job.cancelled = true
      return json(res, 200, envelope(job, false))
    }
    if (m?.[2]) {
      if (opts.sse === false)
        return json(res, 404, { status: 'failed', error: { code: 'NOT_FOUND', message: 'no events here' } })
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
      res.write(': hello\n\n')
      const emit = () => res.write(`event: envelope\ndata: ${JSON.stringify(envelope(job, false))}\n\n`)
      emit()
      if (opts.stall) return
      const timer = setInterval(() => {
        if (job.step < steps && !job.cancelled) job.step++
        emit()
        if (job.step >= steps || job.cancelled) {
          clearInterval(timer)
          res.end()
        }
      }, tick)
      res.on('close', () => clearInterval(timer))
      return
    }
    if (job.step < steps) job.step++
    return send(req, res, 200, envelope(job, true))
  })
  return { ...server, jobs }
}

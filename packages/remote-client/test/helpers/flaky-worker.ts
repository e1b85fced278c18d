import type { ServerResponse } from 'node:http'
import { drop, json, type Recorded, startServer, type TestServer, text } from './server.js'

export type Fault = 'drop' | '503' | '503-retry-after' | '429' | '502' | 'slow' | 'malformed' | '401'

export interface FlakyWorker extends TestServer {
  /** How many jobs were created (one per distinct idempotency key). */
  jobsCreated(): number
  faults: { post: Fault[]; get: Fault[] }
}

function fault(kind: Fault, res: ServerResponse): boolean | 'slow' {
  switch (kind) {
    case 'drop':
      drop(res)
      return true
    case '503':
      json(res, 503, { status: 'failed', error: { code: 'UNAVAILABLE', message: 'busy' } })
      return true
    case '503-retry-after':
      json(
        res,
        503,
        { status: 'failed', error: { code: 'UNAVAILABLE', message: 'busy' } },
        { 'retry-after': '1' },
      )
      return true
    case '429':
      json(
        res,
        429,
        { status: 'failed', error: { code: 'RATE_LIMITED', message: 'slow down' } },
        { 'retry-after': '0' },
      )
      return true
    case '502':
      text(res, 502, '<html>Bad Gateway</html>')
      return true
    case 'malformed':
      text(res, 200, '{"status": "running", "progr', 'application/json')
      return true
    case '401':
      json(res, 401, {
        status: 'failed',
        error: { code: 'UNAUTHORIZED', message: 'missing or wrong bearer token' },
      })
      return true
    case 'slow':
      return 'slow'
  }
}

/**
 * A v1 worker (health, /run, /jobs/:id; no SSE) whose answers can fail on purpose. Each job moves
 * one progress step per poll and completes after `steps` polls. Jobs are keyed by Idempotency-Key.
 */
export async function startFlakyWorker(steps = 3, slowMs = 3_000): Promise<FlakyWorker> {
  const jobs = new Map<string, { id: string; polls: number }>()
  const faults: FlakyWorker['faults'] = { post: [], get: [] }
  const envelope = (job: { id: string; polls: number }) =>
    job.polls >= steps
      ? {
          status: 'completed',
          job_id: job.id,
          progress: { value: steps, max: steps },
          outputs: { out: { type: 'INT', encoding: 'json', data: 1 } },
        }
      : {
          status: job.polls === 0 ? 'pending' : 'running',
          job_id: job.id,
          poll_url: `/jobs/${job.id}`,
          progress: { value: job.polls, max: steps },
        }
  const server = await startServer(async (req: Recorded, res) => {
    if (req.path === '/health') return json(res, 200, { status: 'ok', transports: ['json'] })
    const list =
      req.method === 'POST'
        ? faults.post
        : req.method === 'GET' && req.path.startsWith('/jobs/')
          ? faults.get
          : []
    const next = list.shift()
    if (next) {
      const handled = fault(next, res)
      if (handled === true) return
      await new Promise((r) => setTimeout(r, slowMs))
    }
    if (req.method === 'POST' && req.path === '/run') {
      const key = String(req.headers['idempotency-key'] ?? Math.random())
      let job = jobs.get(key)
      if (!job) {
        job = { id: `job${jobs.size + 1}`, polls: 0 }
        jobs.set(key, job)
      }
      return json(res, 202, envelope(job))
    }
    const match = /^\/jobs\/([^/]+)$/.exec(req.path)
    const job = [...jobs.values()].find((j) => j.id === match?.[1])
    if (req.method === 'GET' && job) {
      job.polls++
      return json(res, 200, envelope(job))
    }
    return json(res, 404, {
      status: 'failed',
      error: { code: 'NOT_FOUND', message: `no route ${req.method} ${req.path}` },
    })
  })
  return { ...server, faults, jobsCreated: () => jobs.size }
}

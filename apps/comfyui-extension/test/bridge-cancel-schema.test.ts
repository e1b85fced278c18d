import { afterAll, describe, expect, it } from 'vitest'
import { killBridges, runBridge, startBridge } from './helpers/bridge.js'
import { json, startServer } from './helpers/server.js'
import { cleanupWorkDirs, makeWorkDir } from './helpers/values.js'

afterAll(() => {
  killBridges()
  cleanupWorkDirs()
})

/** A v1 worker that never finishes a job on its own. */
async function endlessWorker() {
  let step = 0
  return startServer(async (req, res) => {
    const path = req.url.split('?')[0]
    if (path === '/health') return json(res, 200, { status: 'ok', transports: ['json'] })
    if (req.method === 'POST' && path === '/run') {
      return json(res, 202, {
        status: 'pending',
        job_id: 'j1',
        poll_url: '/jobs/j1',
        progress: { value: 0, max: 100 },
      })
    }
    if (req.method === 'GET' && path === '/jobs/j1/events') return json(res, 404, { status: 'failed' })
    if (req.method === 'GET' && path === '/jobs/j1') {
      await new Promise((r) => setTimeout(r, 30))
      step = Math.min(step + 1, 99)
      return json(res, 200, {
        status: 'running',
        job_id: 'j1',
        poll_url: '/jobs/j1',
        progress: { value: step, max: 100 },
      })
    }
    if (req.method === 'DELETE' && path === '/jobs/j1')
      return json(res, 200, { status: 'cancelled', job_id: 'j1' })
    json(res, 404, { status: 'failed', error: { code: 'NOT_FOUND', message: path } })
  })
}

describe('bridge process: cancel', () => {
  it('SIGTERM cancels the remote job (DELETE /jobs/:id), emits CANCELLED and exits 1', async () => {
    const server = await endlessWorker()
    try {
      const bridge = startBridge({
        op: 'run',
        url: server.url,
        token: null,
        timeout: 30,
        pollInterval: 0.05,
        inputs: { prompt: { type: 'STRING', encoding: 'json', data: 'hi' } },
        workDir: makeWorkDir(),
        transport: 'auto',
      })
      await bridge.waitFor((e) => e.event === 'progress' && (e.value as number) >= 2)
      bridge.child.kill('SIGTERM')
      const { code, events } = await bridge.done
      expect(code).toBe(1)
      expect(events.at(-1)).toMatchObject({ event: 'error', code: 'CANCELLED' })
      expect(events.filter((e) => e.event === 'error')).toHaveLength(1)
      const deletes = server.requests.filter((r) => r.method === 'DELETE')
      expect(deletes.map((r) => r.url)).toEqual(['/jobs/j1'])
      // Progress stayed in order up to the cancel.
      const values = events.filter((e) => e.event === 'progress').map((e) => e.value as number)
      expect(values).toEqual([...values].sort((a, b) => a - b))
    } finally {
      await server.close()
    }
  })

  it('a reader that goes away (stdout closed) cancels the job too', async () => {
    const server = await endlessWorker()
    try {
      const bridge = startBridge({
        op: 'run',
        url: server.url,
        timeout: 30,
        pollInterval: 0.05,
        inputs: {},
        workDir: makeWorkDir(),
      })
      await bridge.waitFor((e) => e.event === 'progress')
      bridge.child.stdout?.destroy()
      const { code } = await bridge.done
      expect(code).toBe(1)
      expect(server.requests.filter((r) => r.method === 'DELETE').map((r) => r.url)).toEqual(['/jobs/j1'])
    } finally {
      await server.close()
    }
  })

  it('a run that hits its timeout ends with TIMEOUT and cancels the job', async () => {
    const server = await endlessWorker()
    try {
      const { code, events } = await runBridge({
        op: 'run',
        url: server.url,
        timeout: 0.4,
        pollInterval: 0.05,
        inputs: {},
        workDir: makeWorkDir(),
      })
      expect(code).toBe(1)
      expect(events.at(-1)).toMatchObject({ event: 'error', code: 'TIMEOUT' })
      expect(server.requests.some((r) => r.method === 'DELETE')).toBe(true)
    } finally {
      await server.close()
    }
  })
})

describe('bridge process: schema', () => {
  it('returns the endpoint /schema with the token sent as a bearer header', async () => {
    const schema = {
      inputs: [{ name: 'image', nodeId: '1', type: 'IMAGE', required: true }],
      outputs: [{ name: 'result', nodeId: '3', type: 'IMAGE' }],
      transports: ['json', 'multipart'],
    }
    const server = await startServer((req, res) => {
      if (req.headers.authorization !== 'Bearer s3cret-token') return json(res, 401, { status: 'failed' })
      if (req.url === '/schema') return json(res, 200, schema)
      if (req.url === '/health') return json(res, 200, { status: 'ok', transports: ['json', 'multipart'] })
      json(res, 404, {})
    })
    try {
      const ok = await runBridge({ op: 'schema', url: server.url, token: 's3cret-token' })
      expect(ok.code).toBe(0)
      expect(ok.events).toEqual([{ event: 'result', schema }])
      const denied = await runBridge({ op: 'schema', url: server.url, token: null })
      expect(denied.code).toBe(1)
      expect(denied.events.at(-1)).toMatchObject({ event: 'error', code: 'UNAUTHORIZED' })
      const unreachable = await runBridge({ op: 'schema', url: 'http://127.0.0.1:1', token: null })
      expect(unreachable.events.at(-1)).toMatchObject({ event: 'error', code: 'NETWORK' })
    } finally {
      await server.close()
    }
  })
})

import { afterEach, describe, expect, it } from 'vitest'
import type { ProgressInfo } from '../src/index.js'
import { createRemoteClient, isRemoteJobError } from '../src/index.js'
import { json, type Recorded, startServer, type TestServer, text } from './helpers/server.js'

/** An endpoint that speaks only the original protocol: no /health, POST to the URL itself. */
type Step = { status?: number; body?: unknown; raw?: string }
type Script = Step[]

let server: TestServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

async function original(submit: Step, polls: Script, submitPath = '/endpoint'): Promise<TestServer> {
  let poll = 0
  server = await startServer((req, res) => {
    if (req.method === 'POST' && req.path === submitPath) {
      if (submit.raw !== undefined) return text(res, submit.status ?? 200, submit.raw, 'application/json')
      return json(res, submit.status ?? 200, submit.body)
    }
    if (req.method === 'GET' && req.path.startsWith('/status/')) {
      const step = polls[Math.min(poll++, polls.length - 1)]
      if (!step) return text(res, 500, 'no script')
      if (step.raw !== undefined) return text(res, step.status ?? 200, step.raw, 'application/json')
      return json(res, step.status ?? 200, step.body)
    }
    return text(res, 404, '<html><body>Not Found</body></html>')
  })
  return server
}

const value = { type: 'STRING', encoding: 'json', data: 'hello' } as const
const fast = { pollInterval: 20, retry: { retries: 2, minDelay: 5, maxDelay: 20 }, timeout: 10_000 }
const posts = (s: TestServer): Recorded[] => s.requests.filter((r) => r.method === 'POST')

describe('original protocol endpoints', () => {
  it('follows `state` synonyms, a relative status_url, retry_in and percent progress to a value/identity result', async () => {
    const s = await original({ body: { state: 'QUEUED', status_url: 'status/abc', retry_in: 0.1 } }, [
      { body: { state: 'Processing', progress: { percent: 25 }, status_text: 'sampling' } },
      { body: { state: 'IN_PROGRESS', progress: 0.5 } },
      { body: { status: 'SUCCESS', output: { value: 42 } } },
    ])
    const seen: ProgressInfo[] = []
    const statuses: string[] = []
    const client = createRemoteClient({ url: `${s.url}/endpoint`, ...fast })
    const env = await client.run(
      { x: value },
      { onProgress: (p) => seen.push(p), onStatus: (st) => statuses.push(st) },
    )
    expect(env.status).toBe('completed')
    expect(env.result).toMatchObject({ encoding: 'identity', data: 42 })
    expect(seen).toEqual([
      { value: 25, max: 100, message: 'sampling' },
      { value: 0.5, max: 1 },
    ])
    expect(statuses).toEqual(['pending', 'running', 'completed'])
    // relative status_url resolved against the request URL (http://host/endpoint + status/abc)
    const gets = s.requests.filter((r) => r.method === 'GET' && r.path === '/status/abc')
    expect(gets.length).toBe(3)
    expect(posts(s)).toHaveLength(1)
    expect(JSON.parse(posts(s)[0]?.body.toString() ?? '{}').inputs).toEqual({ x: value })
    // the submit's retry_in (0.1 s) is honoured before the first poll
    expect((gets[0]?.at ?? 0) - (posts(s)[0]?.at ?? 0)).toBeGreaterThanOrEqual(90)
  })

  it('accepts a finished job answered at once, with a `data` result and `complete`', async () => {
    const s = await original(
      { body: { status: 'complete', data: { type: 'INT', encoding: 'identity', data: 7 } } },
      [],
    )
    const env = await createRemoteClient({ url: `${s.url}/endpoint`, ...fast }).run({ x: value })
    expect(env.result).toMatchObject({ type: 'INT', data: 7 })
  })

  it('keeps polling through an empty body (= still running) and answers with the absolute poll URL', async () => {
    const s = await original({ body: { status: 'pending', poll_url: '/status/1' } }, [
      { raw: '' },
      { raw: '' },
      { body: { status: 'done', result: { value: 'ok' } } },
    ])
    const env = await createRemoteClient({ url: `${s.url}/endpoint`, ...fast }).run({ x: value })
    expect(env.result).toMatchObject({ data: 'ok' })
    expect(s.requests.filter((r) => r.path === '/status/1')).toHaveLength(3)
  })

  it('sends the original list-form request body unchanged', async () => {
    const s = await original({ body: { status: 'success', result: { value: 1 } } }, [])
    const body = {
      node: { id: '5', name: 'Remote API' },
      inputs: [
        {
          name: 'input_1',
          comfy_type: 'STRING',
          python_type: 'str',
          encoding: 'identity',
          data: 'hi',
          metadata: null,
        },
      ],
      input_order: ['input_1'],
    }
    await createRemoteClient({ url: `${s.url}/endpoint`, ...fast }).run(body)
    const sent = JSON.parse(posts(s)[0]?.body.toString() ?? '{}')
    expect(sent.inputs).toEqual(body.inputs)
    expect(sent.node).toEqual(body.node)
    expect(posts(s)[0]?.headers['idempotency-key']).toBe(sent.request_id)
  })

  it('sends the token to the endpoint but not to a poll_url on another origin', async () => {
    const other = await startServer((_req, res) =>
      json(res, 200, { status: 'done', result: { value: 'ok' } }),
    )
    try {
      const otherUrl = other.url.replace('127.0.0.1', 'localhost')
      const s = await original({ body: { status: 'pending', poll_url: `${otherUrl}/status/1` } }, [])
      const env = await createRemoteClient({ url: `${s.url}/endpoint`, token: 'secret', ...fast }).run({
        x: value,
      })
      expect(env.result).toMatchObject({ data: 'ok' })
      expect(posts(s)[0]?.headers.authorization).toBe('Bearer secret')
      expect(other.requests).toHaveLength(1)
      expect(other.requests[0]?.headers.authorization).toBeUndefined()
    } finally {
      await other.close()
    }
  })

  it.each([
    ['failed', { status: 'error', error: 'out of memory' }, 'FAILED', /out of memory/],
    ['aborted', { status: 'aborted', detail: 'stopped by admin' }, 'CANCELLED', /stopped by admin/],
  ])('rejects a %s job with its code and the server text', async (_name, last, code, message) => {
    const s = await original({ body: { status: 'queued', poll_url: '/status/9' } }, [{ body: last }])
    const error = await createRemoteClient({ url: `${s.url}/endpoint`, ...fast })
      .run({ x: value })
      .catch((e: unknown) => e)
    expect(isRemoteJobError(error)).toBe(true)
    if (!isRemoteJobError(error)) return
    expect(error.code).toBe(code)
    expect(error.message).toMatch(message)
    expect(error.envelope?.status).toBe(code === 'FAILED' ? 'failed' : 'cancelled')
  })

  it('rejects an HTML error page with HTTP_ERROR, its status and a text excerpt', async () => {
    const s = await original(
      { status: 500, raw: '<html><body><h1>Internal Server Error</h1></body></html>' },
      [],
    )
    const error = await createRemoteClient({ url: `${s.url}/endpoint`, ...fast })
      .run({ x: value })
      .catch((e: unknown) => e)
    expect(isRemoteJobError(error) && error.code).toBe('HTTP_ERROR')
    expect(isRemoteJobError(error) && error.status).toBe(500)
    expect(String((error as Error).message)).toMatch(/Internal Server Error/)
    expect(posts(s)).toHaveLength(1)
  })

  it('rejects an HTML 200 body with MALFORMED_RESPONSE after bounded retries', async () => {
    const s = await original({ raw: '<html>login page</html>' }, [])
    const error = await createRemoteClient({ url: `${s.url}/endpoint`, ...fast })
      .run({ x: value })
      .catch((e: unknown) => e)
    expect(isRemoteJobError(error) && error.code).toBe('MALFORMED_RESPONSE')
    expect(posts(s).length).toBe(3)
    expect(new Set(posts(s).map((r) => r.headers['idempotency-key'])).size).toBe(1)
  })

  it('rejects a pending answer without a poll URL with MALFORMED_RESPONSE', async () => {
    const s = await original({ body: { status: 'pending' } }, [])
    const error = await createRemoteClient({ url: `${s.url}/endpoint`, ...fast })
      .run({ x: value })
      .catch((e: unknown) => e)
    expect(isRemoteJobError(error) && error.code).toBe('MALFORMED_RESPONSE')
    expect((error as Error).message).toMatch(/poll_url/)
  })
})

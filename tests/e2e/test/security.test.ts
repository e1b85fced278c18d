// The worker's defences, proven over real ports against the mock worker process: bearer-token auth,
// loopback-only without a token, body limit (413), malformed bodies (400 envelopes, no stack traces),
// and fuzzed request bodies that only ever produce coded envelopes. Pickle is covered in
// original-callers.test.ts (never decoded by the worker) and below (TypeScript refuses to decode it).
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { createServer, request as httpRequest, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { decodeValue, isProtocolError } from '@comfy-remote/protocol'
import { createRemoteClient, isRemoteJobError } from '@comfy-remote/remote-client'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { exampleFile, readExample } from './support/paths.js'
import { bins, runNode, startServer, stopAll } from './support/processes.js'

const token = 'e2e-secret-token-0123456789'
const workflow = exampleFile('image-invert', 'prompt.json')
const request = readExample<{ inputs: Record<string, never> }>('image-invert', 'request.json')
let guarded = ''
let small = ''

beforeAll(async () => {
  const [a, b] = await Promise.all([
    startServer(bins.mockWorker, ['--workflow', workflow, '--port', '0', '--token', token, '--step-ms', '5']),
    startServer(bins.mockWorker, [
      '--workflow',
      workflow,
      '--port',
      '0',
      '--body-limit',
      '4096',
      '--step-ms',
      '5',
    ]),
  ])
  guarded = a.url
  small = b.url
})
afterAll(stopAll)

const noStack = (text: string) => expect(text).not.toMatch(/\n\s+at |node_modules|\.ts:\d+/)

describe('bearer token', () => {
  it('/health is open, every other route needs the token', async () => {
    expect((await fetch(`${guarded}/health`)).status).toBe(200)
    for (const auth of [undefined, 'Bearer wrong-token-0123456789', `Basic ${token}`, `Bearer ${token}x`]) {
      const res = await fetch(`${guarded}/schema`, { headers: auth ? { authorization: auth } : {} })
      expect(res.status).toBe(401)
      const text = await res.text()
      expect(JSON.parse(text).error.code).toBe('UNAUTHORIZED')
      noStack(text)
    }
    const ok = await fetch(`${guarded}/schema`, { headers: { authorization: `Bearer ${token}` } })
    expect(ok.status).toBe(200)
  })

  it('remote-client: a wrong token is UNAUTHORIZED, the right one completes', async () => {
    const wrong = createRemoteClient({ url: guarded, token: 'not-the-token-0000', retry: 0, timeout: 10_000 })
    const error = await wrong.run(request.inputs).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(isRemoteJobError(error) && error.code).toBe('UNAUTHORIZED')
    const right = createRemoteClient({ url: guarded, token, timeout: 10_000 })
    expect((await right.run(request.inputs)).status).toBe('completed')
  })

  it('refuses to listen on a non-loopback host without a token', async () => {
    const result = await runNode(
      bins.mockWorker,
      ['--workflow', workflow, '--host', '0.0.0.0', '--port', '0'],
      {
        timeoutMs: 15_000,
      },
    )
    expect(result.code).not.toBe(0)
    expect(`${result.stdout}${result.stderr}`).toMatch(/INSECURE_HOST|token/i)
    expect(result.stdout).not.toMatch(/listening on/i)
  })
})

describe('browser defences of a token-less local worker', () => {
  const post = (headers: Record<string, string>) =>
    fetch(`${small}/run`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(request),
    })

  it('a text/plain body (what a cross-site page can send without a preflight) is 415', async () => {
    const res = await fetch(`${small}/run`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify(request),
    })
    expect(res.status).toBe(415)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('UNSUPPORTED_MEDIA_TYPE')
  })

  it("a request from another web page (Origin) is 403 FORBIDDEN_ORIGIN; the worker's own origin passes", async () => {
    const evil = await post({ origin: 'http://evil.example' })
    expect(evil.status).toBe(403)
    expect(((await evil.json()) as { error: { code: string } }).error.code).toBe('FORBIDDEN_ORIGIN')
    expect((await post({ origin: small })).status).toBeLessThan(300)
  })

  it('a DNS-rebinding Host header is 403 FORBIDDEN_HOST', async () => {
    const { hostname, port } = new URL(small)
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(
        { hostname, port, path: '/schema', headers: { host: `evil.example:${port}` } },
        (res) => {
          let body = ''
          res.on('data', (c: Buffer) => {
            body += c.toString('utf8')
          })
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
        },
      )
      req.on('error', reject)
      req.setTimeout(10_000, () => req.destroy(new Error('timeout')))
      req.end()
    })
    expect(answer.status).toBe(403)
    expect(JSON.parse(answer.body).error.code).toBe('FORBIDDEN_HOST')
  })
})

describe('limits and bad input', () => {
  it('a body over the limit is a 413 envelope naming the limit', async () => {
    const big = { inputs: { image: { type: 'IMAGE', encoding: 'json', data: 'x'.repeat(8192) } } }
    const res = await fetch(`${small}/run`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(big),
    })
    expect(res.status).toBe(413)
    const body = (await res.json()) as { status: string; error: { code: string; message: string } }
    expect(body.status).toBe('failed')
    expect(body.error.code).toBe('PAYLOAD_TOO_LARGE')
    expect(body.error.message).toMatch(/4096|4 ?KiB|4 ?kb/i)
  })

  it('a form-encoded body (what a cross-site HTML form can send) is refused with 415', async () => {
    const res = await fetch(`${small}/run`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'inputs=1',
    })
    expect(res.status).toBe(415)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('UNSUPPORTED_MEDIA_TYPE')
  })

  it('malformed JSON is a 400 envelope without a stack trace', async () => {
    const res = await fetch(`${small}/run`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"inputs": ',
    })
    expect(res.status).toBe(400)
    const text = await res.text()
    expect(JSON.parse(text).error.code).toBe('BAD_REQUEST')
    noStack(text)
  })

  it('fuzzed bodies only ever get coded 4xx envelopes or accepted jobs, never a 5xx', async () => {
    const body = fc.oneof(
      fc.json(),
      fc.record({ inputs: fc.oneof(fc.jsonValue(), fc.dictionary(fc.string(), fc.jsonValue())) }),
      fc.record({
        inputs: fc.record({
          image: fc.record({
            type: fc.string(),
            encoding: fc.constantFrom('npy', 'png', 'json', 'identity', 'base64+pickle', 'x'),
            data: fc.jsonValue(),
          }),
        }),
      }),
    )
    await fc.assert(
      fc.asyncProperty(body, async (payload) => {
        const res = await fetch(`${small}/run`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: typeof payload === 'string' ? payload : JSON.stringify(payload),
          signal: AbortSignal.timeout(10_000),
        })
        const text = await res.text()
        expect(res.status).toBeLessThan(500)
        const envelope = JSON.parse(text) as { status: string; error?: { code: string } }
        if (res.status >= 400) expect(envelope.error?.code).toMatch(/^[A-Z][A-Z_]+$/)
        else expect(['pending', 'running', 'completed', 'failed']).toContain(envelope.status)
        noStack(text)
      }),
      { numRuns: 60 },
    )
  })
})

describe('a hostile endpoint', () => {
  let server: Server
  let url = ''
  const outDir = mkdtempSync(join(tmpdir(), 'comfy-remote-e2e-hostile-'))
  const json = (data: unknown) => ({ type: 'STRING', encoding: 'json', data })
  beforeAll(async () => {
    // Answers every request with a completed job whose output names try to leave --out.
    server = createServer((req, res) => {
      req.resume()
      req.on('end', () => {
        const outputs = {
          '../../escaped': json('up'),
          '/tmp/absolute': json('abs'),
          '..': json('dots'),
          'a/b\\c': json('sep'),
          ok: { type: 'IMAGE', encoding: 'base64+pickle', data: 'gASVAAAAAAAAAAA=' },
        }
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end(
          JSON.stringify({ status: 'completed', job_id: 'j1', progress: { value: 1, max: 1 }, outputs }),
        )
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const address = server.address()
    url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
  })
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve))
    rmSync(outDir, { recursive: true, force: true })
  })

  it('the CLI writes every output inside --out, whatever its name, and never unpickles', async () => {
    const out = join(outDir, 'nested', 'out')
    const result = await runNode(bins.remoteClient, ['call', url, '--input', 'x=1', '--out', out, '--quiet'])
    // Everything the CLI wrote is directly inside `out`; nothing appeared next to or above it.
    expect(readdirSync(join(outDir, 'nested'))).toEqual(['out'])
    expect(readdirSync(outDir)).toEqual(['nested'])
    const files = readdirSync(out)
    for (const file of files) expect(file).not.toMatch(/^\.|[\\/]/)
    expect(result.code).toBe(0)
    expect(files).toHaveLength(5)
    // The pickled value is written as the encoded value it is, not decoded.
    expect(JSON.parse(readFileSync(join(out, 'ok.json'), 'utf8'))).toMatchObject({
      encoding: 'base64+pickle',
    })
  })
})

describe('pickle', () => {
  it('TypeScript never unpickles: decodeValue refuses base64+pickle with PICKLE_REFUSED', () => {
    let error: unknown
    try {
      decodeValue({ type: 'IMAGE', encoding: 'base64+pickle', data: 'gASVAAAAAAAAAAA=' })
    } catch (e) {
      error = e
    }
    expect(isProtocolError(error) && error.code).toBe('PICKLE_REFUSED')
  })
})

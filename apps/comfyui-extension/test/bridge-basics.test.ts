import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { killBridges, runBridge } from './helpers/bridge.js'
import { json, startServer } from './helpers/server.js'
import { cleanupWorkDirs, imageNpy, makeWorkDir, writeInput } from './helpers/values.js'

afterAll(() => {
  killBridges()
  cleanupWorkDirs()
})

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string
}

describe('bridge process: ping and bad requests', () => {
  it('answers ping with its version and the node version', async () => {
    const { code, events } = await runBridge({ op: 'ping' })
    expect(code).toBe(0)
    expect(events).toEqual([{ event: 'result', version: pkg.version, node: process.version }])
  })

  it.each([
    ['not json', 'BAD_REQUEST', /one JSON object/],
    ['', 'BAD_REQUEST', /No request on stdin/],
    [{ op: 'fly' }, 'BAD_REQUEST', /"op" must be one of/],
    [{ op: 'schema', url: 'ftp://x' }, 'BAD_REQUEST', /"url" must be an http/],
    [
      { op: 'run', url: 'http://127.0.0.1:9', workDir: 'relative' },
      'BAD_REQUEST',
      /"workDir" must be an absolute/,
    ],
    [
      { op: 'run', url: 'http://127.0.0.1:9', workDir: '/tmp', inputs: { a: { data: 1 } } },
      'BAD_REQUEST',
      /inputs\.a/,
    ],
    [{ op: 'deploy', appName: 'x' }, 'BAD_REQUEST', /"workflow" must be/],
  ])('rejects %j with %s', async (request, code, message) => {
    const result = await runBridge(request)
    expect(result.code).toBe(1)
    expect(result.events).toHaveLength(1)
    expect(result.events[0]).toMatchObject({ event: 'error', code })
    expect(String(result.events[0]?.message)).toMatch(message)
  })

  it('refuses input files outside workDir and missing files', async () => {
    const workDir = makeWorkDir()
    const outside = join(makeWorkDir(), 'x.npy')
    writeFileSync(outside, imageNpy(2, 2))
    const base = { op: 'run', url: 'http://127.0.0.1:9', workDir, timeout: 5, pollInterval: 0.1 }
    const a = await runBridge({
      ...base,
      inputs: { image: { type: 'IMAGE', encoding: 'npy', data: { file: outside } } },
    })
    expect(a.events.at(-1)).toMatchObject({ event: 'error', code: 'FILE_OUTSIDE_WORKDIR' })
    const b = await runBridge({
      ...base,
      inputs: { image: { type: 'IMAGE', encoding: 'npy', data: { file: join(workDir, 'nope.npy') } } },
    })
    expect(b.events.at(-1)).toMatchObject({ event: 'error', code: 'FILE_NOT_FOUND' })
  })
})

describe('bridge process: run against an original-protocol endpoint', () => {
  it('sends file inputs, streams progress in order and writes the result to a file, bit-exact', async () => {
    const npy = imageNpy(16, 24, 7)
    let polls = 0
    let received: Record<string, unknown> = {}
    const server = await startServer((req, res) => {
      if (req.url === '/health') return json(res, 404, { detail: 'Not Found' })
      if (req.method === 'POST' && req.url === '/') {
        received = JSON.parse(req.body.toString('utf8'))
        return json(res, 200, {
          state: 'QUEUED',
          status_url: 'poll/1',
          progress: { percent: 0 },
          message: 'queued',
        })
      }
      if (req.method === 'GET' && req.url === '/poll/1') {
        polls++
        if (polls < 3)
          return json(res, 200, {
            status: 'processing',
            progress: { value: polls, max: 3 },
            status_text: `step ${polls}`,
          })
        const inputs = received.inputs as Record<string, { data: string }>
        return json(res, 200, {
          status: 'done',
          result: { type: 'IMAGE', encoding: 'npy', data: inputs.image?.data },
        })
      }
      json(res, 404, {})
    })
    try {
      const workDir = makeWorkDir()
      const file = writeInput(workDir, 'in-image.npy', npy)
      const { code, events, stderr } = await runBridge({
        op: 'run',
        url: server.url,
        token: null,
        timeout: 10,
        pollInterval: 0.02,
        inputs: {
          image: { type: 'IMAGE', encoding: 'npy', data: { file } },
          steps: { type: 'INT', encoding: 'json', data: 4 },
        },
        workDir,
        transport: 'auto',
      })
      expect(code, stderr).toBe(0)
      const inputs = received.inputs as Record<string, { data: unknown; encoding: string }>
      expect(Buffer.from(inputs.image?.data as string, 'base64').equals(Buffer.from(npy))).toBe(true)
      expect(inputs.steps).toEqual({ type: 'INT', encoding: 'json', data: 4 })
      const progress = events.filter((e) => e.event === 'progress').map((e) => [e.value, e.max, e.message])
      expect(progress).toEqual([
        [0, 1, 'queued'],
        [1, 3, 'step 1'],
        [2, 3, 'step 2'],
      ])
      const statuses = events.filter((e) => e.event === 'status').map((e) => e.status)
      expect(statuses).toEqual(['pending', 'running', 'completed'])
      const result = events.at(-1) as { event: string; result: { data: { file: string } }; outputs: unknown }
      expect(result.event).toBe('result')
      expect(result.result.data.file).toBe(join(workDir, 'out-result.npy'))
      expect(Buffer.from(readFileSync(result.result.data.file)).equals(Buffer.from(npy))).toBe(true)
    } finally {
      await server.close()
    }
  })

  it('reports failures and HTTP errors as error events with codes', async () => {
    const server = await startServer((req, res) => {
      if (req.url === '/health') return json(res, 404, {})
      if (req.headers.authorization !== 'Bearer good-token') return json(res, 401, { error: 'bad token' })
      json(res, 200, { status: 'error', error: 'CUDA out of memory' })
    })
    try {
      const workDir = makeWorkDir()
      const base = { op: 'run', url: server.url, timeout: 5, pollInterval: 0.05, inputs: {}, workDir }
      const denied = await runBridge({ ...base, token: 'wrong-token' })
      expect(denied.code).toBe(1)
      expect(denied.events.at(-1)).toMatchObject({ event: 'error', code: 'UNAUTHORIZED' })
      const failed = await runBridge({ ...base, token: 'good-token' })
      expect(failed.events.at(-1)).toMatchObject({ event: 'error', code: 'FAILED' })
      expect(String(failed.events.at(-1)?.message)).toMatch(/CUDA out of memory/)
    } finally {
      await server.close()
    }
  })
})

import { readFileSync } from 'node:fs'
import { createServer, request } from 'node:http'
import type { AddressInfo } from 'node:net'
import { startWorker } from '@comfy-remote/mock-worker'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Event } from './helpers/bridge.js'
import { killServeBridges, startServe } from './helpers/serve.js'
import { cleanupWorkDirs, imageNpy, makeWorkDir, writeInput } from './helpers/values.js'

const prompt = JSON.parse(readFileSync(new URL('./fixtures/echo-prompt.json', import.meta.url), 'utf8'))

let fast: Awaited<ReturnType<typeof startWorker>>
let slow: Awaited<ReturnType<typeof startWorker>>

beforeAll(async () => {
  fast = await startWorker({ workflow: prompt, port: 0, steps: 4, stepMs: 5, docs: false })
  slow = await startWorker({ workflow: prompt, port: 0, steps: 400, stepMs: 50, docs: false })
})

afterAll(async () => {
  killServeBridges()
  cleanupWorkDirs()
  await Promise.all([fast?.app.close(), slow?.app.close()])
})

function runRequest(id: string, url: string, npy: Uint8Array) {
  const workDir = makeWorkDir()
  const file = writeInput(workDir, 'in-image.npy', npy)
  return {
    id,
    op: 'run',
    url,
    token: null,
    timeout: 30,
    pollInterval: 0.05,
    inputs: {
      image: { type: 'IMAGE', encoding: 'npy', data: { file } },
      scale: { type: 'FLOAT', encoding: 'json', data: 2 },
    },
    workDir,
    transport: 'auto',
  }
}

const of = (events: Event[], id: string) => events.filter((e) => e.id === id)
const terminal = (id: string) => (e: Event) => e.id === id && (e.event === 'result' || e.event === 'error')

async function jobStatus(url: string, jobId: string, want: string): Promise<string> {
  let status = ''
  for (let i = 0; i < 80 && status !== want; i++) {
    if (i) await new Promise((r) => setTimeout(r, 50))
    status = ((await (await fetch(`${url}/jobs/${jobId}`)).json()) as { status: string }).status
  }
  return status
}

describe('bridge --serve', () => {
  it('runs requests concurrently, tags every event with its id, and cancels one while another completes', async () => {
    const bridge = startServe()
    const slowNpy = imageNpy(8, 8, 7)
    const fastNpy = imageNpy(32, 24, 9)
    bridge.send({ op: 'ping', id: 'p' })
    bridge.send(runRequest('slow', slow.url, slowNpy))
    await bridge.waitFor((e) => e.id === 'slow' && e.event === 'progress' && (e.value as number) >= 1)
    bridge.send(runRequest('fast', fast.url, fastNpy))
    const result = (await bridge.waitFor(terminal('fast'), 15_000)) as Event & {
      outputs: Record<string, { data: { file: string } }>
    }
    expect(result.event, JSON.stringify(result)).toBe('result')
    expect(readFileSync(result.outputs.image?.data.file as string).equals(Buffer.from(fastNpy))).toBe(true)
    // The slow run is still going: the fast one did not wait for it.
    expect(bridge.events.some(terminal('slow'))).toBe(false)

    const slowJob = of(bridge.events, 'slow').find((e) => e.event === 'status' && e.jobId)?.jobId as string
    const fastJob = of(bridge.events, 'fast').find((e) => e.event === 'status' && e.jobId)?.jobId as string
    expect(slowJob).toBeTruthy()
    expect(fastJob).toBeTruthy()
    expect(slowJob).not.toBe(fastJob)

    bridge.send({ op: 'cancel', id: 'slow' })
    const cancelled = await bridge.waitFor(terminal('slow'), 10_000)
    expect(cancelled).toMatchObject({ event: 'error', code: 'CANCELLED', id: 'slow' })
    expect(await jobStatus(slow.url, slowJob, 'cancelled')).toBe('cancelled')

    // Every event carries one of the ids sent; each id got exactly one terminal event.
    expect(new Set(bridge.events.map((e) => e.id))).toEqual(new Set(['p', 'slow', 'fast']))
    for (const id of ['p', 'slow', 'fast']) expect(of(bridge.events, id).filter(terminal(id))).toHaveLength(1)
    expect(of(bridge.events, 'p')[0]).toMatchObject({ event: 'result', node: process.version })
    for (const id of ['slow', 'fast']) {
      const values = of(bridge.events, id)
        .filter((e) => e.event === 'progress')
        .map((e) => e.value as number)
      expect(values).toEqual([...values].sort((a, b) => a - b))
    }
    // Still serving after a cancel.
    bridge.send({ op: 'ping', id: 'p2' })
    expect(await bridge.waitFor(terminal('p2'))).toMatchObject({ event: 'result' })
    bridge.end()
    expect((await bridge.done).code).toBe(0)
  })

  it('calls in a row reuse their client: one GET /health for the endpoint, and each result names its release', async () => {
    const seen: string[] = []
    const proxy = createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`)
      const target = new URL(req.url ?? '/', fast.url)
      const out = request(target, { method: req.method, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(res)
      })
      req.pipe(out)
    })
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r))
    const url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`
    try {
      const bridge = startServe()
      for (const id of ['one', 'two']) {
        bridge.send(runRequest(id, url, imageNpy(8, 8, 3)))
        const result = await bridge.waitFor(terminal(id), 15_000)
        expect(result.event, JSON.stringify(result)).toBe('result')
        const jobId = of(bridge.events, id).find((e) => e.event === 'status' && e.jobId)?.jobId as string
        expect(result.release).toEqual({ url: `${url}/jobs/${jobId}/outputs`, headers: {} })
      }
      expect(seen.filter((line) => line.startsWith('GET /health'))).toHaveLength(1)
      bridge.end()
      expect((await bridge.done).code).toBe(0)
    } finally {
      proxy.close()
    }
  })

  it('a bad line or a bad request gets an error event and the process keeps serving', async () => {
    const bridge = startServe()
    bridge.send('this is not json\n')
    bridge.send({ op: 'ping' })
    bridge.send({ op: 'run', id: 'r', url: 'ftp://nope', workDir: '/tmp' })
    bridge.send({ op: 'cancel', id: 'never-started' })
    bridge.send({ op: 'ping', id: 'ok' })
    expect(await bridge.waitFor(terminal('ok'))).toMatchObject({ event: 'result' })
    const nulls = bridge.events.filter((e) => e.id === null)
    expect(nulls).toHaveLength(2)
    for (const e of nulls) expect(e).toMatchObject({ event: 'error', code: 'BAD_REQUEST' })
    expect(nulls[1]?.message).toMatch(/"id"/)
    expect(bridge.events.find((e) => e.id === 'r')).toMatchObject({ event: 'error', code: 'BAD_REQUEST' })
    expect(bridge.child.exitCode).toBe(null)
    bridge.end()
    expect((await bridge.done).code).toBe(0)
  })

  it.each(['EOF', 'SIGTERM'] as const)('%s cancels every request in flight and exits', async (how) => {
    const bridge = startServe()
    bridge.send(runRequest('a', slow.url, imageNpy(4, 4, 1)))
    bridge.send(runRequest('b', slow.url, imageNpy(4, 4, 2)))
    for (const id of ['a', 'b'])
      await bridge.waitFor((e) => e.id === id && e.event === 'progress' && (e.value as number) >= 1)
    if (how === 'EOF') bridge.end()
    else bridge.child.kill('SIGTERM')
    const { code, events } = await bridge.done
    expect(code).toBe(0)
    for (const id of ['a', 'b']) {
      expect(of(events, id).at(-1)).toMatchObject({ event: 'error', code: 'CANCELLED' })
      const jobId = of(events, id).find((e) => e.event === 'status' && e.jobId)?.jobId as string
      expect(await jobStatus(slow.url, jobId, 'cancelled')).toBe('cancelled')
    }
  })
})

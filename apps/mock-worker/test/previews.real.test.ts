// Live previews and per-node progress through real ports: worker -> SSE -> remote-client, for the
// echo engine (synthetic previews) and the comfyui engine (fake ComfyUI sending recorded frames).
import { connect } from 'node:net'
import { createFakeComfyUI, type FakeComfyUI, readFixtureBytes } from '@comfy-remote/io-helpers/testing'
import { createRemoteClient, type PreviewInfo, type ProgressInfo } from '@comfy-remote/remote-client'
import type { FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { startWorker } from '../src/app.js'
import type { WorkerOptions } from '../src/options.js'
import { echoPrompt, imageValue, waitUntil } from './helpers.js'

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47]
const opened: Array<{ close(): Promise<unknown> }> = []
afterEach(async () => {
  for (const item of opened.splice(0).reverse()) await item.close().catch(() => {})
})

async function worker(options: Partial<WorkerOptions> = {}): Promise<{ app: FastifyInstance; url: string }> {
  const started = await startWorker({
    workflow: echoPrompt(),
    port: 0,
    docs: false,
    shutdownGraceMs: 0,
    ...options,
  })
  opened.push(started.app)
  return started
}

async function submit(url: string): Promise<string> {
  const res = await fetch(`${url}/run`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ inputs: { image: imageValue() } }),
  })
  return ((await res.json()) as { job_id: string }).job_id
}

describe('previews and per-node progress (echo engine)', () => {
  it('onPreview gets a PNG per step from the node that made it; progress names the node', async () => {
    const { url } = await worker({ steps: 3, stepMs: 300 })
    const client = createRemoteClient({ url, follow: 'events' })
    const previews: PreviewInfo[] = []
    const progress: ProgressInfo[] = []
    const env = await client.run(
      { image: imageValue() },
      { onPreview: (p) => previews.push(p), onProgress: (p) => progress.push(p) },
    )
    expect(env.status).toBe('completed')
    expect(previews.length).toBeGreaterThanOrEqual(2)
    for (const p of previews) {
      expect(p).toMatchObject({ node: '2', classType: 'ImageInvert', mime: 'image/png' })
      expect([...p.data.subarray(0, 4)]).toEqual(PNG_MAGIC)
    }
    expect(
      progress.some(
        (p) => p.node === '2' && p.classType === 'ImageInvert' && p.message === 'ImageInvert 2/3',
      ),
    ).toBe(true)
    expect(env.timings?.run_seconds).toBeGreaterThan(0.5)
  })

  it('sends no preview events to SSE clients that did not ask (?previews=1)', async () => {
    const { url } = await worker({ steps: 2, stepMs: 100 })
    const id = await submit(url)
    const plain = await (await fetch(`${url}/jobs/${id}/events`)).text()
    expect(plain).not.toContain('event: preview')
    const id2 = await submit(url)
    const withPreviews = await (await fetch(`${url}/jobs/${id2}/events?previews=1`)).text()
    expect(withPreviews).toContain('event: preview')
  })

  it('GET /jobs/:id/preview: 404 before the first, the image while running, 404 once finished', async () => {
    const { url } = await worker({ steps: 3, stepMs: 400 })
    const id = await submit(url)
    const before = await fetch(`${url}/jobs/${id}/preview`)
    expect(before.status).toBe(404)
    expect(((await before.json()) as { error: { code: string; message: string } }).error.message).toMatch(
      /no preview yet/,
    )
    let got: Response | undefined
    await waitUntil(async () => {
      got = await fetch(`${url}/jobs/${id}/preview`)
      return got.status === 200
    })
    expect(got?.headers.get('content-type')).toBe('image/png')
    expect(got?.headers.get('x-preview-node')).toBe('2')
    expect(got?.headers.get('x-preview-class')).toBe('ImageInvert')
    expect([...new Uint8Array(await (got as Response).arrayBuffer()).subarray(0, 4)]).toEqual(PNG_MAGIC)
    await fetch(`${url}/jobs/${id}?wait=10`)
    await waitUntil(
      async () =>
        ((await (await fetch(`${url}/jobs/${id}`)).json()) as { status: string }).status === 'completed',
    )
    expect((await fetch(`${url}/jobs/${id}/preview`)).status).toBe(404)
  })

  it('a client that stops reading its event stream does not hold up the job, and catches up at the end', async () => {
    const { url } = await worker({ steps: 20, stepMs: 50 })
    const id = await submit(url)
    const socket = connect(Number(new URL(url).port), '127.0.0.1')
    const chunks: Buffer[] = []
    socket.on('data', (c: Buffer) => chunks.push(c))
    socket.write(`GET /jobs/${id}/events?previews=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`)
    socket.pause() // reads nothing while the job runs
    await waitUntil(
      async () =>
        ((await (await fetch(`${url}/jobs/${id}`)).json()) as { status: string }).status === 'completed',
    )
    socket.resume()
    // The stream's last chunk (the SSE stream ends after the final envelope; the connection stays open).
    await waitUntil(() => Buffer.concat(chunks).toString('utf8').endsWith('\r\n0\r\n\r\n'))
    socket.destroy()
    const text = Buffer.concat(chunks).toString('utf8')
    expect(text).toContain('event: preview')
    expect(text).toMatch(/"status":"completed"/)
  })
})

describe('previews from ComfyUI (comfyui engine, fake ComfyUI with recorded frames)', () => {
  it('forwards PREVIEW_IMAGE frames as preview events with the node and class', async () => {
    const comfy: FakeComfyUI = await createFakeComfyUI({
      progressSteps: 3,
      stepDelayMs: 300,
      stepPreviews: true,
    })
    opened.push(comfy)
    const { url } = await worker({ engine: 'comfyui', comfyuiUrl: comfy.url, historyPollMs: 200 })
    const client = createRemoteClient({ url, follow: 'events' })
    const previews: PreviewInfo[] = []
    const progress: ProgressInfo[] = []
    const env = await client.run(
      { image: imageValue([[[0.1, 0.2, 0.3]]]) },
      {
        onPreview: (p) => previews.push(p),
        onProgress: (p) => progress.push(p),
      },
    )
    expect(env.status).toBe('completed')
    expect(previews.length).toBeGreaterThanOrEqual(2)
    // The PNG of the recorded real frame (ws-preview/legacy-frame-0.bin after its 8-byte header).
    const recorded = readFixtureBytes('ws-preview/legacy-frame-0.bin').subarray(8)
    const nodes = new Set(previews.map((p) => `${p.node}:${p.classType}`))
    expect([...nodes].every((n) => /^(2:ImageInvert|3:ImageBlur)$/.test(n))).toBe(true)
    for (const p of previews) {
      expect(p.mime).toBe('image/png')
      expect(Buffer.from(p.data).equals(Buffer.from(recorded))).toBe(true)
    }
    expect(
      progress.some((p) => p.classType === 'ImageBlur' && /^Image ?Blur 3\/3$/.test(p.message ?? '')),
    ).toBe(true)
    expect(env.timings).toMatchObject({ startup_seconds: 0 })
  })
})

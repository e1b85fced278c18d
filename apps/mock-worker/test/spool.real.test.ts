// Streaming multipart over a real port: bodies above the JSON limit, large parts spooled to disk and
// cleaned up (answered, evicted, interrupted uploads, shutdown), the JSON + base64 path of old clients.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { decodeMultipart, encodeMultipartChunks, encodeNpy } from '@comfy-remote/protocol'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type StartedWorker, startWorker } from '../src/app.js'
import { echoPrompt, waitUntil } from './helpers.js'

let base: string
let worker: StartedWorker | undefined

beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), 'cr-spool-test-'))
})
afterEach(async () => {
  await worker?.app.close()
  worker = undefined
  rmSync(base, { recursive: true, force: true })
})

/** Files and directories inside the worker's private spool root. */
function spoolEntries(): string[] {
  const [root] = readdirSync(base)
  if (root === undefined) return []
  return readdirSync(join(base, root), { recursive: true }).map(String)
}

function npyOf(bytes: number): Uint8Array {
  const floats = Math.floor(bytes / 12) * 3
  const data = new Float32Array(floats).map((_, i) => (i % 251) / 251)
  return encodeNpy({ dtype: 'float32', shape: [1, 1, floats / 3, 3], data })
}

async function start(options: Record<string, unknown> = {}): Promise<StartedWorker> {
  worker = await startWorker({
    workflow: echoPrompt(),
    port: 0,
    steps: 1,
    stepMs: 0,
    docs: false,
    spoolDir: base,
    spoolThreshold: 64 * 1024,
    ...options,
  })
  return worker
}

describe('streaming multipart requests', () => {
  it('a multipart body far above the JSON body limit round-trips bit-exact; the JSON one is a 413 naming multipart', async () => {
    const { url } = await start({ bodyLimit: 1024 * 1024, multipartLimit: 64 * 1024 * 1024 })
    const npy = npyOf(8 * 1024 * 1024)
    const { chunks, contentType } = encodeMultipartChunks({
      inputs: { image: { type: 'IMAGE', encoding: 'npy', data: npy } },
    })
    const res = await fetch(`${url}/run?wait=10`, {
      method: 'POST',
      headers: { 'content-type': contentType, accept: 'multipart/form-data' },
      body: Buffer.concat(chunks),
    })
    expect(res.status).toBe(200)
    const env = decodeMultipart(
      new Uint8Array(await res.arrayBuffer()),
      String(res.headers.get('content-type')),
    ) as {
      outputs: { result: { data: Uint8Array } }
    }
    expect(Buffer.compare(env.outputs.result.data, npy)).toBe(0)
    expect(spoolEntries().length).toBeGreaterThan(0) // the finished job still holds its spooled part

    const json = await fetch(`${url}/run`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        inputs: { image: { type: 'IMAGE', encoding: 'npy', data: Buffer.from(npy).toString('base64') } },
      }),
    })
    expect(json.status).toBe(413)
    const error = ((await json.json()) as { error: { code: string; message: string } }).error
    expect(error.code).toBe('PAYLOAD_TOO_LARGE')
    expect(error.message).toMatch(/multipart/)
    expect(error.message).toMatch(/--body-limit/)
  })

  it('old clients: JSON + base64 in, JSON + base64 out', async () => {
    const { url } = await start()
    const npy = npyOf(300 * 1024)
    const b64 = Buffer.from(npy).toString('base64')
    const res = await fetch(`${url}/run?wait=10`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        inputs: [{ name: 'input_1', comfy_type: 'IMAGE', encoding: 'npy', data: b64 }],
      }),
    })
    expect(res.status).toBe(200)
    expect(((await res.json()) as { result: { data: string } }).result.data).toBe(b64)
  })

  it('a spooled input answered as JSON is read back into base64', async () => {
    const { url } = await start()
    const npy = npyOf(300 * 1024)
    const { chunks, contentType } = encodeMultipartChunks({
      inputs: { image: { type: 'IMAGE', encoding: 'npy', data: npy } },
    })
    const res = await fetch(`${url}/run?wait=10`, {
      method: 'POST',
      headers: { 'content-type': contentType, accept: 'application/json' },
      body: Buffer.concat(chunks),
    })
    expect(((await res.json()) as { result: { data: string } }).result.data).toBe(
      Buffer.from(npy).toString('base64'),
    )
  })

  it('a job evicted from the store deletes its spool files; shutdown deletes the spool root', async () => {
    const { url } = await start({ maxStoredBytes: 0, maxStoredDiskBytes: 0 })
    const post = async (fill: number) => {
      const npy = npyOf(200 * 1024).fill(fill, 200)
      const { chunks, contentType } = encodeMultipartChunks({
        inputs: { image: { type: 'IMAGE', encoding: 'npy', data: npy } },
      })
      const res = await fetch(`${url}/run?wait=10`, {
        method: 'POST',
        headers: { 'content-type': contentType },
        body: Buffer.concat(chunks),
      })
      return ((await res.json()) as { job_id: string }).job_id
    }
    await post(1)
    const first = spoolEntries().filter((e) => !e.includes('/'))
    expect(first).toHaveLength(1) // one job directory
    await post(2) // evicts the first job (disk budget 0 keeps only the newest)
    await waitUntil(() => !spoolEntries().includes(first[0] as string))
    expect(spoolEntries().filter((e) => !e.includes('/'))).toHaveLength(1)
    await worker?.app.close()
    worker = undefined
    expect(readdirSync(base)).toEqual([])
  })

  it('a client that disconnects mid-upload leaves no temp files', async () => {
    const { url } = await start()
    const { chunks, contentType, byteLength } = encodeMultipartChunks({
      inputs: { image: { type: 'IMAGE', encoding: 'npy', data: npyOf(4 * 1024 * 1024) } },
    })
    const body = Buffer.concat(chunks)
    const req = httpRequest(`${url}/run`, {
      method: 'POST',
      headers: { 'content-type': contentType, 'content-length': byteLength },
    })
    req.on('error', () => {})
    req.write(body.subarray(0, 2 * 1024 * 1024)) // half the part: already spooling
    await waitUntil(() => spoolEntries().some((e) => e.includes('/')))
    req.destroy()
    await waitUntil(() => spoolEntries().length === 0)
    const health = (await (await fetch(`${url}/health`)).json()) as { jobs: { jobs: number } }
    expect(health.jobs.jobs).toBe(0)
  })

  it('a body over the multipart limit is a 413 naming --multipart-limit and leaves no files', async () => {
    const { url } = await start({ multipartLimit: 1024 * 1024 })
    const { chunks, contentType } = encodeMultipartChunks({
      inputs: { image: { type: 'IMAGE', encoding: 'npy', data: npyOf(2 * 1024 * 1024) } },
    })
    const res = await fetch(`${url}/run`, {
      method: 'POST',
      headers: { 'content-type': contentType },
      body: Buffer.concat(chunks),
    }).catch((e: unknown) => e)
    if (res instanceof Response) {
      expect(res.status).toBe(413)
      expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(
        /--multipart-limit/,
      )
    }
    await waitUntil(() => spoolEntries().length === 0)
  })

  it('a malformed multipart body is a 400 and leaves no files', async () => {
    const { url } = await start()
    const { chunks, contentType } = encodeMultipartChunks({
      inputs: { image: { type: 'IMAGE', encoding: 'npy', data: npyOf(512 * 1024) } },
    })
    const body = Buffer.concat(chunks)
    const res = await fetch(`${url}/run`, {
      method: 'POST',
      headers: { 'content-type': contentType },
      body: body.subarray(0, body.byteLength - 200), // truncated: no closing boundary
    })
    expect(res.status).toBe(400)
    await waitUntil(() => spoolEntries().length === 0)
  })
})

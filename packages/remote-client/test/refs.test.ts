import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { decodeMultipart } from '@comfy-remote/protocol'
import { afterEach, describe, expect, it } from 'vitest'
import { createRemoteClient, isRemoteJobError } from '../src/index.js'
import { json, type Recorded, startServer, type TestServer } from './helpers/server.js'

const video = Uint8Array.from({ length: 300_000 }, (_, i) => (i * 13) % 256)
const npy = Uint8Array.from({ length: 70_000 }, (_, i) => (i * 7) % 256)
const input = { a: { type: 'INT', encoding: 'json', data: 1 } } as const

let server: TestServer | undefined
const dirs: string[] = []
afterEach(async () => {
  await server?.close()
  server = undefined
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

interface Script {
  /** Path prefix of the endpoint (e.g. /api). */
  base?: string
  /** Cut the first video download after this many bytes. */
  cutAt?: number
  /** Override the envelope's outputs. */
  outputs?: Record<string, unknown>
  /** Ignore Range (answer 200 with the whole body). */
  noRange?: boolean
  /** Status of DELETE /jobs/j1/outputs (default 204). */
  release?: number
}

async function start(script: Script = {}) {
  const base = script.base ?? ''
  let cut = script.cutAt
  server = await startServer((req: Recorded, res) => {
    if (req.path === `${base}/health`) return json(res, 200, { transports: ['json', 'multipart'] })
    if (req.method === 'POST' && req.path === `${base}/run`) {
      const ref = (name: string) => `/jobs/j1/outputs/${name}`
      const image = { type: 'IMAGE', encoding: 'npy', ref: ref('image'), bytes: npy.byteLength }
      return json(res, 200, {
        status: 'completed',
        job_id: 'j1',
        result: image,
        outputs: script.outputs ?? {
          image,
          clip: {
            type: 'VIDEO',
            encoding: 'file',
            mime: 'video/mp4',
            filename: '../../etc/clip.mp4',
            ref: ref('clip'),
            bytes: video.byteLength,
          },
          text: { type: 'STRING', encoding: 'json', data: 'hi' },
        },
      })
    }
    if (req.method === 'DELETE' && req.path === `${base}/jobs/j1/outputs`) {
      const status = script.release ?? 204
      if (status === 204) {
        res.writeHead(204)
        res.end()
        return
      }
      return json(res, status, { status: 'failed', error: { code: 'X', message: `HTTP ${status}` } })
    }
    const m = new RegExp(`^${base}/jobs/j1/outputs/(\\w+)$`).exec(req.path)
    if (req.method === 'GET' && m) {
      if (req.headers.authorization !== 'Bearer secret') return json(res, 401, { status: 'failed' })
      const bytes = m[1] === 'clip' ? video : npy
      const range = /^bytes=(\d+)-$/.exec(String(req.headers.range ?? ''))
      if (range && !script.noRange) {
        const start = Number(range[1])
        res.writeHead(206, {
          'content-type': 'application/octet-stream',
          'content-length': bytes.byteLength - start,
          'content-range': `bytes ${start}-${bytes.byteLength - 1}/${bytes.byteLength}`,
        })
        res.end(bytes.subarray(start))
        return
      }
      res.writeHead(200, {
        'content-type': 'application/octet-stream',
        'content-length': bytes.byteLength,
        'accept-ranges': 'bytes',
      })
      if (m[1] === 'clip' && cut !== undefined) {
        const at = cut
        cut = undefined
        res.write(bytes.subarray(0, at))
        setTimeout(() => res.socket?.destroy(), 50)
        return
      }
      res.end(bytes)
      return
    }
    return json(res, 404, { status: 'failed', error: { code: 'NOT_FOUND', message: req.path } })
  })
  return server
}

const fileOf = (v: { data?: unknown } | undefined): string =>
  (v?.data as { file: string } | undefined)?.file ?? ''
const same = (a: unknown, b: Uint8Array) => a instanceof Uint8Array && Buffer.from(a).equals(Buffer.from(b))
const client = (url: string) =>
  createRemoteClient({
    url,
    token: 'secret',
    timeout: 10_000,
    retry: { retries: 3, minDelay: 10, maxDelay: 20 },
  })
const outputGets = (s: TestServer) => s.requests.filter((r) => r.path.includes('/outputs/'))

describe('outputs by reference (output_refs)', () => {
  it('asks for refs and fetches each once with the token, into memory, as ordinary values', async () => {
    const s = await start()
    const env = await client(s.url).run(input)
    const submit = s.requests.find((r) => r.method === 'POST')!
    const message = decodeMultipart(submit.body, String(submit.headers['content-type'])) as Record<
      string,
      unknown
    >
    expect(message.output_refs).toBe(true)
    expect(env.outputs?.image).toMatchObject({ type: 'IMAGE', encoding: 'npy' })
    expect(Object.keys(env.outputs?.image ?? {}).sort()).toEqual(['data', 'encoding', 'type'])
    expect(same(env.outputs?.image?.data, npy)).toBe(true)
    expect(same(env.outputs?.clip?.data, video)).toBe(true)
    expect(env.outputs?.clip?.mime).toBe('video/mp4')
    expect(env.outputs?.clip?.ref).toBeUndefined()
    expect(env.result?.data).toBe(env.outputs?.image?.data)
    expect(env.outputs?.text?.data).toBe('hi')
    expect(
      outputGets(s)
        .map((r) => r.path)
        .sort(),
    ).toEqual(['/jobs/j1/outputs/clip', '/jobs/j1/outputs/image'])
  })

  it('keepRefs leaves them as absolute refs and fetches nothing; refRequest gives the token to that origin only', async () => {
    const s = await start()
    const c = client(s.url)
    const env = await c.run(input, { keepRefs: true })
    expect(outputGets(s)).toEqual([])
    expect(env.outputs?.image).toMatchObject({ ref: `${s.url}/jobs/j1/outputs/image`, bytes: npy.byteLength })
    expect(env.outputs?.clip?.ref).toBe(`${s.url}/jobs/j1/outputs/clip`)
    const own = c.refRequest(String(env.outputs?.image?.ref))
    expect(own).toEqual({
      url: `${s.url}/jobs/j1/outputs/image`,
      headers: { authorization: 'Bearer secret' },
    })
    const elsewhere = c.refRequest('https://storage.example/o/1?sig=x')
    expect(elsewhere.url).toBe('https://storage.example/o/1?sig=x')
    expect(Object.keys(elsewhere.headers).map((k) => k.toLowerCase())).not.toContain('authorization')
    expect(() => c.refRequest('http://169.254.169.254/latest')).toThrow(/another origin/)
  })

  it('release: DELETE /jobs/:id/outputs with the token; false from a worker without the route, errors thrown', async () => {
    const s = await start({ base: '/api' })
    expect(await client(`${s.url}/api`).release('j1')).toBe(true)
    const sent = s.requests.find((r) => r.method === 'DELETE')
    expect(sent?.path).toBe('/api/jobs/j1/outputs')
    expect(sent?.headers.authorization).toBe('Bearer secret')
    await s.close()
    for (const status of [404, 405]) {
      const old = await start({ release: status })
      expect(await client(old.url).release('j1')).toBe(false)
      await old.close()
    }
    server = await start({ release: 400 })
    await expect(client(server.url).release('j1')).rejects.toMatchObject({ status: 400 })
  })

  it('streams them into new files named by output and media type when asked (outputFiles)', async () => {
    const s = await start({ base: '/api' })
    const dir = mkdtempSync(join(tmpdir(), 'cr-refs-'))
    dirs.push(dir)
    const env = await client(`${s.url}/api`).run(input, { outputFiles: { dir } })
    const clip = fileOf(env.outputs?.clip)
    const image = fileOf(env.outputs?.image)
    expect(clip).toBe(join(dir, 'out-clip.mp4'))
    expect(image).toBe(join(dir, 'out-image.npy'))
    expect(readFileSync(clip).equals(Buffer.from(video))).toBe(true)
    expect(readFileSync(image).equals(Buffer.from(npy))).toBe(true)
    expect(outputGets(s).every((r) => r.path.startsWith('/api/jobs/j1/outputs/'))).toBe(true)
    // a second run never replaces the first run's files
    const again = await client(`${s.url}/api`).run(input, { outputFiles: { dir } })
    expect(fileOf(again.outputs?.clip)).toBe(join(dir, 'out-clip-2.mp4'))
  })

  it('resumes a download cut mid-way with Range from where it stopped', async () => {
    const s = await start({ cutAt: 100_000 })
    const env = await client(s.url).run(input)
    expect(same(env.outputs?.clip?.data, video)).toBe(true)
    const clipGets = outputGets(s).filter((r) => r.path.endsWith('/clip'))
    expect(clipGets.map((r) => r.headers.range)).toEqual([undefined, 'bytes=100000-'])
  })

  it('starts over when the server ignores Range', async () => {
    const s = await start({ cutAt: 100_000, noRange: true })
    const dir = mkdtempSync(join(tmpdir(), 'cr-refs-'))
    dirs.push(dir)
    const env = await client(s.url).run(input, { outputFiles: { dir } })
    expect(readFileSync(fileOf(env.outputs?.clip)).equals(Buffer.from(video))).toBe(true)
  })

  it.each([
    [
      'a ref to another origin over http',
      { x: { type: 'IMAGE', encoding: 'npy', ref: 'http://169.254.169.254/x' } },
    ],
    [
      'more bytes than announced',
      { x: { type: 'IMAGE', encoding: 'npy', ref: '/jobs/j1/outputs/clip', bytes: 10 } },
    ],
  ])('refuses %s and leaves no file behind', async (_name, outputs) => {
    const s = await start({ outputs })
    const dir = mkdtempSync(join(tmpdir(), 'cr-refs-'))
    dirs.push(dir)
    const error = await client(s.url)
      .run(input, { outputFiles: { dir } })
      .catch((e: unknown) => e)
    expect(isRemoteJobError(error) && error.code).toBe('MALFORMED_RESPONSE')
    expect(readdirSync(dir)).toEqual([])
  })
})

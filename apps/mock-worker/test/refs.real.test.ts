// Values by reference over real ports: inputs fetched from URLs (SSRF-safe: scheme, addresses after
// DNS, redirects re-checked, size and time limits) and outputs served by GET /jobs/:id/outputs/:name
// with Range.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { encodeMultipartChunks, encodeNpy } from '@comfy-remote/protocol'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type StartedWorker, startWorker } from '../src/app.js'
import type { WorkerOptions } from '../src/options.js'
import { echoPrompt } from './helpers.js'

function npyOf(bytes: number): Uint8Array {
  const floats = Math.floor(bytes / 12) * 3
  const data = new Float32Array(floats).map((_, i) => (i % 251) / 251)
  return encodeNpy({ dtype: 'float32', shape: [1, 1, floats / 3, 3], data })
}

const NPY = npyOf(3 * 1024 * 1024)
let origin: Server
let originUrl = ''

beforeAll(async () => {
  origin = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x')
    if (url.pathname === '/image.npy') {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': NPY.byteLength })
      res.end(NPY)
    } else if (url.pathname === '/chunked') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' })
      res.write(NPY.subarray(0, 4000))
      res.end(NPY.subarray(4000, 8000))
    } else if (url.pathname === '/redirect') {
      res.writeHead(302, { location: url.searchParams.get('to') ?? '/image.npy' })
      res.end()
    } else if (url.pathname === '/hang') {
      // never answers
    } else {
      res.writeHead(404)
      res.end('no')
    }
  })
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r))
  originUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`
})
afterAll(async () => {
  origin.closeAllConnections()
  await new Promise((r) => origin.close(r))
})

let worker: StartedWorker | undefined
afterEach(async () => {
  await worker?.app.close()
  worker = undefined
})

async function start(options: Partial<WorkerOptions> = {}): Promise<string> {
  worker = await startWorker({
    workflow: echoPrompt(),
    port: 0,
    steps: 1,
    stepMs: 0,
    docs: false,
    ...options,
  })
  return worker.url
}

interface Env {
  status: string
  job_id: string
  error?: { code: string; message: string }
  result?: { data?: string; ref?: string; bytes?: number; encoding: string; type: string }
}

async function runWith(url: string, value: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  const res = await fetch(`${url}/run?wait=20`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ inputs: { image: value }, ...extra }),
  })
  return { status: res.status, env: (await res.json()) as Env }
}

const ref = (href: string) => ({ type: 'IMAGE', encoding: 'npy', ref: href })

describe('inputs by ref', () => {
  it('fetches a ref input (dev flags) and the job sees the bytes bit-exact', async () => {
    const url = await start({ allowPrivateRefs: true, allowHttpRefs: true })
    const { status, env } = await runWith(url, ref(`${originUrl}/image.npy`))
    expect(status).toBe(200)
    expect(env.status).toBe('completed')
    expect(Buffer.from(env.result?.data ?? '', 'base64').equals(Buffer.from(NPY))).toBe(true)
  })

  it('refuses http:// by default with REF_REFUSED naming the field', async () => {
    const url = await start()
    const { status, env } = await runWith(url, ref(`${originUrl}/image.npy`))
    expect(status).toBe(400)
    expect(env.error?.code).toBe('REF_REFUSED')
    expect(env.error?.message).toMatch(/inputs\.image\.ref/)
    expect(env.error?.message).toMatch(/https/)
  })

  it('refuses loopback, private and metadata IP literals before connecting', async () => {
    const url = await start({ allowHttpRefs: true })
    for (const target of [
      'https://127.0.0.1/x.npy',
      'https://10.0.0.5/x.npy',
      'http://169.254.169.254/latest/meta-data/',
      'https://[::1]/x.npy',
      'https://[::ffff:127.0.0.1]/x.npy',
      'https://[fd00:ec2::254]/x.npy',
    ]) {
      const { status, env } = await runWith(url, ref(target))
      expect(status, target).toBe(400)
      expect(env.error?.code, target).toBe('REF_REFUSED')
    }
  })

  it('refuses a DNS name that resolves to loopback (checked after resolution)', async () => {
    const url = await start({ allowHttpRefs: true })
    const port = (origin.address() as AddressInfo).port
    const { status, env } = await runWith(url, ref(`http://localhost:${port}/image.npy`))
    expect(status).toBe(400)
    expect(env.error?.code).toBe('REF_REFUSED')
    expect(env.error?.message).toMatch(/localhost resolves to/)
  })

  it('re-checks every redirect: a redirect to a private or metadata address is refused', async () => {
    // only 127.0.0.1 counts as allowed here, standing in for a public origin
    const url = await start({ allowHttpRefs: true, refAddressFilter: (a) => a === '127.0.0.1' })
    const ok = await runWith(url, ref(`${originUrl}/redirect?to=/image.npy`))
    expect(ok.env.status).toBe('completed')
    for (const to of ['http://127.0.0.2:9/x', 'http://169.254.169.254/latest/meta-data/', 'https://[::1]/']) {
      const { status, env } = await runWith(url, ref(`${originUrl}/redirect?to=${encodeURIComponent(to)}`))
      expect(status, to).toBe(400)
      expect(env.error?.code, to).toBe('REF_REFUSED')
    }
    const scheme = await runWith(
      url,
      ref(`${originUrl}/redirect?to=${encodeURIComponent('ftp://127.0.0.1/x')}`),
    )
    expect(scheme.env.error?.code).toBe('REF_REFUSED')
  })

  it('enforces the size limit (declared or streamed), the time limit and upstream errors', async () => {
    const url = await start({
      allowPrivateRefs: true,
      allowHttpRefs: true,
      refMaxBytes: 6000,
      refTimeoutMs: 500,
    })
    const sized = await runWith(url, ref(`${originUrl}/image.npy`))
    expect(sized.env.status).toBe('failed') // the job failed fetching its input
    expect(sized.env.error?.code).toBe('REF_TOO_LARGE')
    const chunked = await runWith(url, ref(`${originUrl}/chunked`))
    expect(chunked.env.error?.code).toBe('REF_TOO_LARGE')
    const slow = await runWith(url, ref(`${originUrl}/hang`))
    expect(slow.env.error?.code).toBe('REF_FETCH_FAILED')
    expect(slow.env.error?.message).toMatch(/500 ms/)
    const missing = await runWith(url, ref(`${originUrl}/missing`))
    expect(missing.env.error?.code).toBe('REF_FETCH_FAILED')
    expect(missing.env.error?.message).toMatch(/HTTP 404/)
  })

  it('only binary encodings may be given by ref', async () => {
    const url = await start()
    const { status, env } = await runWith(url, {
      type: 'STRING',
      encoding: 'json',
      ref: 'https://example.com/x',
    })
    expect(status).toBe(400)
    expect(env.error?.code).toBe('BAD_REQUEST')
  })
})

describe('outputs by ref', () => {
  async function submitMultipart(url: string, message: Record<string, unknown>, token?: string) {
    const { chunks, contentType } = encodeMultipartChunks(message)
    const headers: Record<string, string> = { 'content-type': contentType, accept: 'application/json' }
    if (token !== undefined) headers.authorization = `Bearer ${token}`
    const res = await fetch(`${url}/run?wait=20`, { method: 'POST', headers, body: Buffer.concat(chunks) })
    return (await res.json()) as Env
  }

  it('output_refs: large outputs come back as {ref, bytes}; the ref serves the bytes with Range', async () => {
    const token = 'refs-token-0123456789'
    const url = await start({ token })
    const auth = { authorization: `Bearer ${token}` }
    const env = await submitMultipart(
      url,
      { inputs: { image: { type: 'IMAGE', encoding: 'npy', data: NPY } }, output_refs: true },
      token,
    )
    expect(env.status).toBe('completed')
    expect(env.result).toMatchObject({ type: 'IMAGE', encoding: 'npy', bytes: NPY.byteLength })
    expect(env.result?.data).toBeUndefined()
    const refUrl = `${url}${env.result?.ref}`
    expect(env.result?.ref).toBe(`/jobs/${env.job_id}/outputs/result`)

    expect((await fetch(refUrl)).status).toBe(401) // same auth as every route
    const whole = await fetch(refUrl, { headers: auth })
    expect(whole.status).toBe(200)
    expect(whole.headers.get('accept-ranges')).toBe('bytes')
    expect(Number(whole.headers.get('content-length'))).toBe(NPY.byteLength)
    expect(Buffer.from(await whole.arrayBuffer()).equals(Buffer.from(NPY))).toBe(true)

    const part = await fetch(refUrl, { headers: { ...auth, range: 'bytes=100-1099' } })
    expect(part.status).toBe(206)
    expect(part.headers.get('content-range')).toBe(`bytes 100-1099/${NPY.byteLength}`)
    expect(Buffer.from(await part.arrayBuffer()).equals(Buffer.from(NPY.subarray(100, 1100)))).toBe(true)

    const tail = await fetch(refUrl, { headers: { ...auth, range: 'bytes=-10' } })
    expect(tail.status).toBe(206)
    expect(Buffer.from(await tail.arrayBuffer()).equals(Buffer.from(NPY.subarray(NPY.byteLength - 10)))).toBe(
      true,
    )

    const open = await fetch(refUrl, { headers: { ...auth, range: `bytes=${NPY.byteLength - 5}-` } })
    expect(open.status).toBe(206)
    expect((await open.arrayBuffer()).byteLength).toBe(5)

    const outside = await fetch(refUrl, { headers: { ...auth, range: `bytes=${NPY.byteLength}-` } })
    expect(outside.status).toBe(416)
    expect(outside.headers.get('content-range')).toBe(`bytes */${NPY.byteLength}`)

    const unknown = await fetch(`${url}/jobs/${env.job_id}/outputs/nope`, { headers: auth })
    expect(unknown.status).toBe(404)
  })

  it('without output_refs, or for small outputs, values stay inline', async () => {
    const url = await start()
    const inline = await submitMultipart(url, {
      inputs: { image: { type: 'IMAGE', encoding: 'npy', data: NPY } },
    })
    expect(inline.result?.ref).toBeUndefined()
    expect(typeof inline.result?.data).toBe('string')
    const small = await submitMultipart(url, {
      inputs: { image: { type: 'IMAGE', encoding: 'npy', data: npyOf(64 * 1024) } },
      output_refs: true,
    })
    expect(small.result?.ref).toBeUndefined()
    expect(typeof small.result?.data).toBe('string')
    // the raw-bytes route serves inline outputs too
    const res = await fetch(`${url}/jobs/${small.job_id}/outputs/result`)
    expect(res.status).toBe(200)
    expect((await res.arrayBuffer()).byteLength).toBe(npyOf(64 * 1024).byteLength)
  })
})

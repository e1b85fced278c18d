// The worker contract of docs/protocol.md as tests. `conformance(() => target)` registers them in the
// calling test file; every rule names the section of docs/protocol.md it checks.
import { encodeNpy, zWorkflowSchema } from '@comfy-remote/protocol'
import { describe, expect, it } from 'vitest'
import { type Call, call, callMultipart, declareBody, type Reply, readEvents, sleep } from './http.js'
import { FAIL_MARK, INVALID_MARK, type Target } from './target.js'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
const CODE = /^[A-Z][A-Z0-9_]*$/
const STATUSES = ['pending', 'running', 'completed', 'failed', 'cancelled']
const TERMINAL = ['completed', 'failed', 'cancelled']

/** A float32 IMAGE [1, h, w, 3] as .npy bytes, values from `seed` (distinct per call). */
export function imageNpy(h: number, w: number, seed = 1): Uint8Array {
  const data = new Float32Array(h * w * 3)
  for (let i = 0; i < data.length; i++) data[i] = ((i * 7 + seed * 13) % 251) / 251
  return encodeNpy({ dtype: 'float32', shape: [1, h, w, 3], data })
}

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64')
export const imageValue = (h = 4, w = 4, seed = 1) => ({
  type: 'IMAGE',
  encoding: 'npy',
  data: b64(imageNpy(h, w, seed)),
})
const str = (s: string) => ({ type: 'STRING', encoding: 'json', data: s })

type Env = Record<string, unknown>
const errorOf = (env: Env) => env.error as { code: string; message: string; details?: unknown }
const progressOf = (env: Env) => env.progress as { value: number; max: number; message?: string }

/** §4: the fields every envelope has, and what each status adds. */
export function expectEnvelope(env: Env): void {
  expect(STATUSES).toContain(env.status)
  const progress = progressOf(env)
  expect(progress.max).toBeGreaterThan(0)
  expect(progress.value).toBeGreaterThanOrEqual(0)
  expect(progress.value).toBeLessThanOrEqual(progress.max)
  if (env.job_id !== undefined) {
    expect(env.job_id).toMatch(UUID)
    expect(env.poll_url).toBe(`/jobs/${env.job_id}`)
  }
  if (env.status === 'completed') {
    expect(typeof env.outputs).toBe('object')
    expect(env.error).toBeUndefined()
    expect(progress.value).toBe(progress.max)
  }
  if (env.status === 'failed' || env.status === 'cancelled') expectError(env)
  if (TERMINAL.includes(env.status as string) && env.job_id !== undefined) {
    // §10: finished jobs say where the time went, the same keys from every worker
    const timings = env.timings as Record<string, unknown>
    for (const key of ['queue_seconds', 'startup_seconds', 'run_seconds', 'transfer_seconds'])
      expect(timings[key]).toBeGreaterThanOrEqual(0)
    expect(typeof timings.cold_start).toBe('boolean')
  }
  if (!TERMINAL.includes(env.status as string)) {
    expect(env.outputs).toBeUndefined()
    expect(typeof env.retry_after).toBe('number')
    expect(env.retry_after as number).toBeGreaterThan(0)
  }
}

/** §4: an error is `{code, message, details?}`, code UPPER_SNAKE, `message` repeated at the top. */
export function expectError(env: Env, code?: string): void {
  const error = errorOf(env)
  expect(error.code).toMatch(CODE)
  if (code !== undefined) expect(error.code).toBe(code)
  expect(typeof error.message).toBe('string')
  expect(error.message.length).toBeGreaterThan(5)
  expect(env.message).toBe(error.message)
  expect(['failed', 'cancelled']).toContain(env.status)
}

/** A 4xx/5xx reply: the status, an error envelope with that code, a message naming `mentions`. */
function expectRefusal(reply: Reply, status: number, code: string, ...mentions: (string | RegExp)[]): void {
  expect({ status: reply.status, body: reply.body }).toMatchObject({ status })
  expectError(reply.body, code)
  for (const m of mentions) expect(errorOf(reply.body).message).toMatch(m)
}

/**
 * §3: a refused field is also machine-readable: `details.field` (one field) or `details.problems` (one
 * `<field>: <reason>` line per problem, e.g. every input that does not match the workflow).
 */
function expectField(reply: Reply, field: string): void {
  const details = (errorOf(reply.body).details ?? {}) as { field?: string; problems?: string[] }
  if (details.problems !== undefined)
    expect(details.problems.some((p) => p.startsWith(`${field}:`))).toBe(true)
  else expect(details.field).toBe(field)
}

/** A version-1 .npy file whose header says float32 of `shape`, followed by only `dataBytes` bytes. */
function npyWithData(shape: number[], dataBytes: number): Uint8Array {
  let text = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}), }`
  text += `${' '.repeat((64 - ((10 + text.length + 1) % 64)) % 64)}\n`
  const out = new Uint8Array(10 + text.length + dataBytes)
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, text.length & 255, text.length >> 8])
  out.set(new TextEncoder().encode(text), 10)
  return out
}

async function submit(t: Target, inputs: unknown, options: Call & { query?: string } = {}): Promise<Reply> {
  return call(t, `/run${options.query ?? ''}`, { json: { inputs }, ...options })
}

async function finished(t: Target, jobId: string, deadlineMs = 40_000): Promise<Env> {
  const until = Date.now() + deadlineMs
  for (;;) {
    const reply = await call(t, `/jobs/${jobId}?wait=10`)
    expect(reply.status).toBe(200)
    if (TERMINAL.includes(reply.body.status as string)) return reply.body
    if (Date.now() > until) throw new Error(`job ${jobId} did not finish within ${deadlineMs} ms`)
  }
}

/** Waits until a job reports progress above 0 (it is running on the engine). */
async function runningWithProgress(t: Target, jobId: string): Promise<Env> {
  const until = Date.now() + 20_000
  for (;;) {
    const env = (await call(t, `/jobs/${jobId}`)).body
    if (env.status === 'running' && progressOf(env).value > 0) return env
    if (TERMINAL.includes(env.status as string) || Date.now() > until)
      throw new Error(`job ${jobId} never ran with progress: ${JSON.stringify(env)}`)
    await sleep(50)
  }
}

export function conformance(target: () => Target): void {
  describe('routes and meta (§2, §5)', () => {
    it('GET /health needs no token and says what the worker speaks', async () => {
      const r = await call(target(), '/health', { auth: false })
      expect(r.status).toBe(200)
      expect(r.body).toMatchObject({ status: 'ok', protocol_version: 1, accepting: true })
      expect(r.body.transports).toEqual(['json', 'multipart'])
      expect(['token', 'none', 'proxy']).toContain(r.body.auth)
      expect(r.body.auth).toBe(target().token === undefined ? 'none' : 'token')
      expect(typeof r.body.engine).toBe('string')
    })

    it('GET /schema is the typed contract with the transports', async () => {
      const r = await call(target(), '/schema')
      expect(r.status).toBe(200)
      const schema = zWorkflowSchema.parse(r.body)
      expect(schema.transports).toEqual(['json', 'multipart'])
      expect(schema.inputs.map((i) => [i.name, i.type, i.required])).toEqual([
        ['image', 'IMAGE', true],
        ['label', schema.inputs[1]?.type, false],
      ])
      expect(schema.inputs[1]).toMatchObject({ default: 'default label' })
      expect(schema.outputs.map((o) => o.name).sort()).toEqual(['image', 'label'])
      expect(r.body.protocol_version).toBe(1)
      // the same document from every worker: no worker-specific keys
      expect(Object.keys(r.body).sort()).toEqual(['inputs', 'outputs', 'protocol_version', 'transports'])
    })

    it('an unknown route or method is a 404 NOT_FOUND envelope naming it', async () => {
      expectRefusal(await call(target(), '/nope'), 404, 'NOT_FOUND', /\/nope/)
      expectRefusal(await call(target(), '/jobs', { method: 'PUT', json: {} }), 404, 'NOT_FOUND')
      // no redirect to the route without the slash: a 404 like any other unknown path
      const slash = await call(target(), '/run/', { json: { inputs: { image: imageValue() } } })
      expectRefusal(slash, 404, 'NOT_FOUND', /\/run\//)
    })

    it('an unknown job id is 404 NOT_FOUND on every job route', async () => {
      const id = '00000000-0000-4000-8000-000000000000'
      expectRefusal(await call(target(), `/jobs/${id}`), 404, 'NOT_FOUND', id)
      expectRefusal(await call(target(), `/jobs/${id}`, { method: 'DELETE' }), 404, 'NOT_FOUND')
      expectRefusal(await call(target(), `/jobs/${id}/events`), 404, 'NOT_FOUND')
    })
  })

  describe('auth', () => {
    it('HEAD /health answers 200 without a token (uptime checks)', async () => {
      const r = await fetch(`${target().url}/health`, { method: 'HEAD', signal: AbortSignal.timeout(10_000) })
      expect(r.status).toBe(200)
    })

    it('a request from another web page (Origin) is 403 FORBIDDEN_ORIGIN, an error envelope', async (ctx) => {
      if (!target().browserGuard) return ctx.skip()
      for (const [path, options] of [
        ['/run', { json: { inputs: { image: imageValue() } } }],
        ['/health', { auth: false }],
      ] as [string, Call][]) {
        const r = await call(target(), path, { ...options, headers: { origin: 'https://evil.example' } })
        expectRefusal(r, 403, 'FORBIDDEN_ORIGIN', /https:\/\/evil\.example/)
      }
    })

    it('every route but /health needs the bearer token: 401 UNAUTHORIZED with WWW-Authenticate', async (ctx) => {
      if (target().token === undefined) return ctx.skip()
      const id = '00000000-0000-4000-8000-000000000000'
      const routes: [string, Call][] = [
        ['/schema', {}],
        ['/run', { json: { inputs: { image: imageValue() } } }],
        ['/', { json: { inputs: { image: imageValue() } } }],
        [`/jobs/${id}`, {}],
        [`/jobs/${id}`, { method: 'DELETE' }],
        [`/jobs/${id}/events`, {}],
      ]
      for (const [path, options] of routes)
        for (const auth of [false, 'Basic dXNlcjpwYXNz', `Bearer ${target().token}x`, 'Bearer']) {
          const r = await call(target(), path, { ...options, auth })
          expectRefusal(r, 401, 'UNAUTHORIZED', /Bearer/)
          expect(r.headers.get('www-authenticate')).toBe('Bearer realm="comfy-remote"')
        }
    })
  })

  describe('run request and envelope (§3, §4)', () => {
    it('POST /run?wait= answers the finished job: 200, outputs, result = first output, full progress', async () => {
      const image = imageValue(4, 4, 2)
      const r = await submit(target(), { image, label: str('hello') }, { query: '?wait=40' })
      expect(r.status).toBe(200)
      expectEnvelope(r.body)
      expect(r.body.status).toBe('completed')
      expect(r.body.outputs).toEqual({ image, label: { ...str('hello'), type: expect.any(String) } })
      expect(r.body.result).toEqual(image)
      // ComfyUI targets count 0..100 (every node one unit): a completed job is 100 of 100
      if (target().comfyui !== undefined) expect(r.body.progress).toEqual({ value: 100, max: 100 })
    })

    it('POST /run without wait is 202 with Location = poll_url; the job id is a UUID; polling ends completed', async () => {
      const r = await submit(target(), { image: imageValue() })
      expect(r.status).toBe(202)
      expectEnvelope(r.body)
      expect(['pending', 'running']).toContain(r.body.status)
      expect(r.headers.get('location')).toBe(r.body.poll_url)
      // a job that has not started yet: progress {value: 0, max: 1} and no message (every worker alike)
      if (r.body.status === 'pending') {
        expect(r.body.progress).toEqual({ value: 0, max: 1 })
        expect(r.body.message).toBeUndefined()
      }
      const done = await finished(target(), r.body.job_id as string)
      expectEnvelope(done)
      expect(done.status).toBe('completed')
      expect(done.outputs).toMatchObject({ label: { data: 'default label' } }) // the input's fallback
    })

    it('POST / takes the original list form: input_k is the k-th Remote Input, result is the first output', async () => {
      const image = imageValue(2, 2, 3)
      const r = await call(target(), '/?wait=40', {
        json: {
          inputs: [
            { name: 'input_1', comfy_type: 'IMAGE', encoding: 'npy', data: image.data, metadata: null },
          ],
          input_order: ['input_1'],
        },
      })
      expect(r.status).toBe(200)
      expect(r.body.status).toBe('completed')
      expect(r.body.result).toMatchObject({ encoding: 'npy', data: image.data })
    })

    it('multipart in, multipart out; JSON callers get JSON; both carry the same bytes', async () => {
      const npy = imageNpy(8, 8, 4)
      const r = await callMultipart(target(), '/run?wait=40', {
        inputs: { image: { type: 'IMAGE', encoding: 'npy', data: npy } },
      })
      expect(r.status).toBe(200)
      expect(r.headers.get('content-type')).toMatch(/^multipart\/form-data/)
      const outputs = r.body.outputs as Record<string, { data: Uint8Array }>
      expect(Buffer.from(outputs.image?.data as Uint8Array).equals(Buffer.from(npy))).toBe(true)
      const again = await call(target(), `/jobs/${r.body.job_id}`)
      expect(again.headers.get('content-type')).toMatch(/^application\/json/)
      expect((again.body.outputs as Record<string, { data: string }>).image?.data).toBe(b64(npy))
    })

    it('GET /jobs/:id?wait= returns at once when the job is already finished', async () => {
      const r = await submit(target(), { image: imageValue() }, { query: '?wait=40' })
      const started = Date.now()
      const again = await call(target(), `/jobs/${r.body.job_id}?wait=20`)
      expect(Date.now() - started).toBeLessThan(5_000)
      expect(again.body).toMatchObject({ status: 'completed', job_id: r.body.job_id })
    })
  })

  describe('bad requests name the field (§3)', () => {
    const cases: [string, unknown, number, string, ...(string | RegExp)[]][] = [
      ['inputs that is not a map or list', 5, 400, 'BAD_REQUEST', /inputs/],
      ['a value that is not an object', { image: 'AAAA' }, 400, 'BAD_REQUEST', /inputs\.image/],
      [
        'a value without encoding',
        { image: { type: 'IMAGE', data: 'AAAA' } },
        400,
        'BAD_REQUEST',
        /image/,
        /encoding/,
      ],
      [
        'a value without data',
        { image: { type: 'IMAGE', encoding: 'npy' } },
        400,
        'BAD_REQUEST',
        /image/,
        /data/,
      ],
      [
        'an unknown encoding, refused up front',
        { image: { type: 'IMAGE', encoding: 'zip', data: 'AAAA' } },
        400,
        'UNKNOWN_ENCODING',
        /image/,
        /zip/,
      ],
      [
        'base64+pickle, refused up front',
        { image: { type: 'IMAGE', encoding: 'base64+pickle', data: 'gARLAS4=' } },
        400,
        'PICKLE_REFUSED',
        /image/,
      ],
      ['an unknown input name', { image: imageValue(), nope: str('x') }, 400, 'BAD_REQUEST', /nope/],
      ['a missing required input', { label: str('x') }, 400, 'BAD_REQUEST', /image/],
      [
        'an INT for an IMAGE input',
        { image: { type: 'INT', encoding: 'json', data: 5 } },
        400,
        'BAD_REQUEST',
        /image/,
        /IMAGE/,
        /INT/,
      ],
      ['a STRING for an IMAGE input', { image: str('x') }, 400, 'BAD_REQUEST', /image/, /IMAGE/, /STRING/],
      [
        'the same input twice (name and input_k)',
        { image: imageValue(), input_1: imageValue() },
        400,
        'BAD_REQUEST',
        /image|input_1/,
      ],
    ]
    it.each(cases)('%s', async (_name, inputs, status, code, ...mentions) => {
      expectRefusal(await submit(target(), inputs), status, code, ...mentions)
    })

    // the field each refusal names in details (the worker, not only the message, says what to fix)
    const fields: [string, unknown, string][] = [
      ['inputs: 5', 5, 'inputs'],
      ['no encoding', { image: { type: 'IMAGE', data: 'AAAA' } }, 'inputs.image.encoding'],
      ['no data', { image: { type: 'IMAGE', encoding: 'npy' } }, 'inputs.image.data'],
      [
        'unknown encoding',
        { image: { type: 'IMAGE', encoding: 'zip', data: 'AAAA' } },
        'inputs.image.encoding',
      ],
      ['pickle', { image: { type: 'IMAGE', encoding: 'base64+pickle', data: 'gARLAS4=' } }, 'inputs.image'],
      [
        'pickle inside an object',
        {
          image: imageValue(),
          label: {
            type: 'STRING',
            encoding: 'object',
            data: { a: { type: 'X', encoding: 'base64+pickle', data: 'gA==' } },
          },
        },
        'inputs.label.data.a',
      ],
      ['an unknown name', { image: imageValue(), nope: str('x') }, 'inputs.nope'],
      ['a missing input', { label: str('x') }, 'inputs.image'],
      ['an INT for an IMAGE', { image: { type: 'INT', encoding: 'json', data: 5 } }, 'inputs.image'],
      [
        'bad base64',
        { image: { type: 'IMAGE', encoding: 'npy', data: '!!!not base64***' } },
        'inputs.image.data',
      ],
    ]
    it.each(fields)('details name the field: %s', async (_name, inputs, field) => {
      const r = await submit(target(), inputs)
      expect(r.status).toBe(400)
      expectField(r, field)
    })

    it('base64+pickle in the original list form is refused naming the input by its name', async () => {
      const r = await call(target(), '/', {
        json: {
          inputs: [{ name: 'input_1', comfy_type: 'IMAGE', encoding: 'base64+pickle', data: 'gARLAS4=' }],
        },
      })
      expectRefusal(r, 400, 'PICKLE_REFUSED', /^inputs\.input_1:/)
      expectField(r, 'inputs.input_1')
    })

    it('bad base64 is refused up front, before a job exists', async () => {
      for (const data of ['!!!not base64***', 'AAAAA']) {
        const r = await submit(
          target(),
          { image: { type: 'IMAGE', encoding: 'npy', data } },
          { query: '?wait=40' },
        )
        expectRefusal(r, 400, 'BAD_REQUEST', /inputs\.image\.data/, /base64/)
        expect(r.body.job_id).toBeUndefined()
      }
    })

    it('bad base64 in a value over 1 MiB is refused up front too (workers that hand values to ComfyUI)', async (ctx) => {
      if (target().comfyui === undefined) return ctx.skip()
      const good = b64(imageNpy(300, 300, 3)) // ~1.4 MiB of base64 text, a valid npy header
      const data = `${good.slice(0, 1_200_000)}!!!!${good.slice(1_200_004)}`
      const r = await submit(
        target(),
        { image: { type: 'IMAGE', encoding: 'npy', data } },
        { query: '?wait=40' },
      )
      expectRefusal(r, 400, 'BAD_REQUEST', /inputs\.image\.data/, /base64/)
      expectField(r, 'inputs.image.data')
      expect(r.body.job_id).toBeUndefined()
    })

    it('a broken npy/png payload is refused up front naming the input (workers that hand values to ComfyUI)', async (ctx) => {
      if (target().comfyui === undefined) return ctx.skip()
      const bad: [string, unknown, RegExp][] = [
        [
          'not an npy file',
          { type: 'IMAGE', encoding: 'npy', data: b64(new TextEncoder().encode('hello, not npy')) },
          /npy/i,
        ],
        [
          'npy data shorter than its shape',
          { type: 'IMAGE', encoding: 'npy', data: b64(npyWithData([1, 8, 8, 3], 12)) },
          /truncated/,
        ],
        [
          'not a PNG',
          { type: 'IMAGE', encoding: 'png', data: b64(new TextEncoder().encode('not a png at all, sorry')) },
          /PNG/,
        ],
      ]
      for (const [, image, why] of bad) {
        const r = await submit(target(), { image }, { query: '?wait=40' })
        expectRefusal(r, 400, 'BAD_REQUEST', /^inputs\.image: /, why)
        expectField(r, 'inputs.image')
        expect(r.body.job_id).toBeUndefined()
      }
    })

    it('a request_id that is not a string is refused naming it', async () => {
      const r = await call(target(), '/run', { json: { inputs: { image: imageValue() }, request_id: 5 } })
      expectRefusal(r, 400, 'BAD_REQUEST', /^request_id:/)
      expectField(r, 'request_id')
    })

    it('a ref with a plain http:// URL is refused naming the field and the origin', async () => {
      const image = { type: 'IMAGE', encoding: 'npy', ref: 'http://127.0.0.1:9/x.npy' }
      const r = await submit(target(), { image })
      expectRefusal(r, 400, 'REF_REFUSED', /^inputs\.image\.ref: /, /https/)
      expect(errorOf(r.body).details).toEqual({ field: 'inputs.image', url: 'http://127.0.0.1:9' })
    })

    it('an Idempotency-Key over 256 characters, or empty, is refused', async () => {
      for (const key of ['k'.repeat(300), '']) {
        const r = await submit(target(), { image: imageValue() }, { headers: { 'idempotency-key': key } })
        expectRefusal(r, 400, 'BAD_REQUEST', /^headers\.idempotency-key: /)
        expectField(r, 'headers.idempotency-key')
      }
    })

    it('a body that is not JSON is 400; a text/plain or form body is 415', async () => {
      const broken = await call(target(), '/run', {
        raw: { body: '{"inputs":', contentType: 'application/json' },
      })
      expectRefusal(broken, 400, 'BAD_REQUEST', /^body: not valid JSON/)
      expectField(broken, 'body')
      const empty = await call(target(), '/run', { raw: { body: '', contentType: 'application/json' } })
      expectRefusal(empty, 400, 'BAD_REQUEST', /^body: empty/)
      expectField(empty, 'body')
      for (const contentType of ['text/plain', 'application/x-www-form-urlencoded'])
        expectRefusal(
          await call(target(), '/run', { raw: { body: '{"inputs": {}}', contentType } }),
          415,
          'UNSUPPORTED_MEDIA_TYPE',
        )
    })

    it('a bad ?wait= is 400 naming wait', async () => {
      const r = await submit(target(), { image: imageValue() }, { query: '?wait=soon' })
      expectRefusal(r, 400, 'BAD_REQUEST', /wait/)
      expectField(r, 'querystring.wait')
    })
  })

  describe('limits and large values (§2, §4)', () => {
    it('a body declared over the limit is 413 PAYLOAD_TOO_LARGE naming the limit, before it is sent', async (ctx) => {
      const limit = target().bodyLimit
      if (limit === undefined) return ctx.skip()
      const r = await declareBody(target(), '/run', limit + 1024)
      expectRefusal(r, 413, 'PAYLOAD_TOO_LARGE', new RegExp(String(limit)))
    })

    it('a 768 KiB IMAGE comes back byte-identical over JSON and multipart; SSE leaves large values out', async () => {
      const npy = imageNpy(256, 256, 5) // 768 KiB of float32: above the 256 KiB SSE limit
      const json = await submit(
        target(),
        { image: { type: 'IMAGE', encoding: 'npy', data: b64(npy) } },
        { query: '?wait=40' },
      )
      expect(json.status).toBe(200)
      expect((json.body.outputs as Record<string, { data: string }>).image?.data).toBe(b64(npy))
      const multi = await callMultipart(target(), '/run?wait=40', {
        inputs: { image: { type: 'IMAGE', encoding: 'npy', data: npy } },
      })
      const out = (multi.body.outputs as Record<string, { data: Uint8Array }>).image?.data as Uint8Array
      expect(Buffer.from(out).equals(Buffer.from(npy))).toBe(true)
      const stream = await readEvents(target(), json.body.job_id as string)
      const last = JSON.parse(stream.events.at(-1)?.data ?? '{}') as Env
      expect(last).toMatchObject({ status: 'completed', values_omitted: true })
      expect(last.outputs).toBeUndefined()
    })
  })

  describe('outputs by reference (§3 refs)', () => {
    it('output_refs: a 3 MiB IMAGE comes back as a ref, GET serves it (Range: 206), DELETE /jobs/:id/outputs releases the job and its key', async () => {
      const npy = imageNpy(512, 512, 9)
      const inputs = { image: { type: 'IMAGE', encoding: 'npy', data: b64(npy) } }
      const headers = { 'idempotency-key': `contract-${Math.random().toString(36).slice(2)}` }
      const r = await call(target(), '/run?wait=40', { json: { inputs, output_refs: true }, headers })
      expect(r.status).toBe(200)
      const id = r.body.job_id as string
      const out = (r.body.outputs as Record<string, { ref: string; bytes: number; data?: unknown }>).image
      expect(out).toMatchObject({
        type: 'IMAGE',
        encoding: 'npy',
        ref: `/jobs/${id}/outputs/image`,
        bytes: npy.byteLength,
      })
      expect(out?.data).toBeUndefined()
      const whole = await call(target(), `/jobs/${id}/outputs/image`)
      expect(whole.status).toBe(200)
      expect(whole.headers.get('accept-ranges')).toBe('bytes')
      expect(Buffer.from(whole.bytes).equals(Buffer.from(npy))).toBe(true)
      const part = await call(target(), `/jobs/${id}/outputs/image`, { headers: { range: 'bytes=100-199' } })
      expect(part.status).toBe(206)
      expect(part.headers.get('content-range')).toBe(`bytes 100-199/${npy.byteLength}`)
      expect(Buffer.from(part.bytes).equals(Buffer.from(npy.subarray(100, 200)))).toBe(true)
      const released = await call(target(), `/jobs/${id}/outputs`, { method: 'DELETE' })
      expect(released.status).toBe(204)
      expectRefusal(await call(target(), `/jobs/${id}/outputs/image`), 404, 'NOT_FOUND', /released/)
      expectRefusal(await call(target(), `/jobs/${id}`), 404, 'NOT_FOUND', /released/)
      expectRefusal(await call(target(), `/jobs/${id}/outputs`, { method: 'DELETE' }), 404, 'NOT_FOUND')
      // the key is free again: the same request is a new job
      const again = await call(target(), '/run?wait=40', { json: { inputs, output_refs: true }, headers })
      expect(again.status).toBe(200)
      expect(again.body.job_id).not.toBe(id)
    })

    it('DELETE /jobs/:id/outputs of a job that has not finished is 400 BAD_REQUEST and changes nothing', async (ctx) => {
      if (!target().slowJobs) return ctx.skip()
      const r = await submit(target(), { image: imageValue() })
      const early = await call(target(), `/jobs/${r.body.job_id}/outputs`, { method: 'DELETE' })
      expectRefusal(early, 400, 'BAD_REQUEST', /finished/)
      expect((await finished(target(), r.body.job_id as string)).status).toBe('completed')
    })
  })

  describe('progress and events (§4)', () => {
    it('GET /jobs/:id/events: text/event-stream, ids 1, 2, 3, ..., envelopes until the final one', async () => {
      const r = await submit(target(), { image: imageValue() })
      const stream = await readEvents(target(), r.body.job_id as string)
      expect(stream.status).toBe(200)
      expect(stream.contentType).toMatch(/^text\/event-stream/)
      expect(stream.retry).toBe('1000')
      expect(stream.events.map((e) => e.id)).toEqual(stream.events.map((_, i) => String(i + 1)))
      const envs = stream.events.map((e) => JSON.parse(e.data) as Env)
      for (const env of envs) {
        expectEnvelope(env)
        expect(env.job_id).toBe(r.body.job_id)
      }
      expect(envs.at(-1)?.status).toBe('completed')
      expect(envs.slice(0, -1).every((e) => !TERMINAL.includes(e.status as string))).toBe(true)
      expect(envs.length).toBeGreaterThan(2) // the job runs about 1 s: progress events come between
      const values = envs.map((e) => progressOf(e).value / progressOf(e).max)
      expect(values).toEqual([...values].sort((a, b) => a - b)) // progress never goes back
      if (target().comfyui !== undefined) {
        const running = envs.filter((e) => e.status === 'running' && progressOf(e).value > 0)
        expect(running.length).toBeGreaterThan(0)
        for (const env of running) {
          expect(progressOf(env).max).toBe(100)
          // the running node: named in the message, or given as progress.node (per-node progress)
          const { message, node } = progressOf(env) as { message?: string; node?: unknown }
          expect(typeof node === 'string' || /node \d+/.test(message ?? '')).toBe(true)
          expect(typeof message).toBe('string')
        }
      }
    })
  })

  describe('cancel (§4)', () => {
    it('DELETE a running job: cancelled with CANCELLED, progress kept, the engine is stopped, it stays cancelled', async (ctx) => {
      if (!target().slowJobs) return ctx.skip()
      const before = target().comfyui?.interrupts?.() ?? 0
      const r = await submit(target(), { image: imageValue() })
      const running = await runningWithProgress(target(), r.body.job_id as string)
      const cancelled = await call(target(), `/jobs/${r.body.job_id}`, { method: 'DELETE' })
      expect(cancelled.status).toBe(200)
      expectEnvelope(cancelled.body)
      expectError(cancelled.body, 'CANCELLED')
      expect(cancelled.body.status).toBe('cancelled')
      const later = await finished(target(), r.body.job_id as string)
      expect(later.status).toBe('cancelled')
      expect(progressOf(later).value / progressOf(later).max).toBeGreaterThanOrEqual(
        progressOf(running).value / progressOf(running).max,
      )
      if (target().comfyui?.interrupts) {
        const until = Date.now() + 10_000
        while (target().comfyui?.interrupts?.() === before && Date.now() < until) await sleep(50)
        expect(target().comfyui?.interrupts?.()).toBeGreaterThan(before)
      }
    })

    it('DELETE a finished job changes nothing', async () => {
      const r = await submit(target(), { image: imageValue() }, { query: '?wait=40' })
      const again = await call(target(), `/jobs/${r.body.job_id}`, { method: 'DELETE' })
      expect(again.status).toBe(200)
      expect(again.body).toMatchObject({ status: 'completed', outputs: r.body.outputs })
    })
  })

  describe('idempotency (§3)', () => {
    it('the same Idempotency-Key and inputs give the same job; different inputs (even one byte) are 409', async () => {
      const key = `contract-${Math.random().toString(36).slice(2)}`
      const image = imageValue(16, 16, 6)
      const headers = { 'idempotency-key': key }
      const first = await submit(target(), { image }, { headers })
      const second = await submit(target(), { image: { ...image } }, { headers })
      expect(second.body.job_id).toBe(first.body.job_id)
      const bytes = Buffer.from(image.data, 'base64')
      bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 1 // same size, type, encoding
      const other = await submit(
        target(),
        { image: { ...image, data: bytes.toString('base64') } },
        { headers },
      )
      expectRefusal(other, 409, 'IDEMPOTENCY_CONFLICT', key)
    })

    it('the same holds for multi-MiB multipart payloads (spooled), and a JSON retry of the same bytes', async () => {
      const key = `contract-${Math.random().toString(36).slice(2)}`
      const npy = imageNpy(512, 512, 7) // 3 MiB: over the workers' in-memory part threshold
      const headers = { 'idempotency-key': key }
      const message = (data: Uint8Array) => ({ inputs: { image: { type: 'IMAGE', encoding: 'npy', data } } })
      const first = await callMultipart(target(), '/run', message(npy), headers)
      expect([200, 202]).toContain(first.status)
      const again = await callMultipart(target(), '/run', message(npy), headers)
      expect(again.body.job_id).toBe(first.body.job_id)
      const asJson = await submit(
        target(),
        { image: { type: 'IMAGE', encoding: 'npy', data: b64(npy) } },
        { headers },
      )
      expect(asJson.body.job_id).toBe(first.body.job_id)
      const changed = npy.slice()
      changed[changed.length - 1] = (changed[changed.length - 1] as number) ^ 1
      expectRefusal(
        await callMultipart(target(), '/run', message(changed), headers),
        409,
        'IDEMPOTENCY_CONFLICT',
        key,
      )
    })
  })

  describe('errors from ComfyUI (§4)', () => {
    it('an execution error names node id, class and the exception; no traceback, no server paths, no large inputs', async (ctx) => {
      if (!target().injectsFailures) return ctx.skip()
      const label = `${FAIL_MARK} ${'x'.repeat(200_000)}`
      const r = await submit(target(), { image: imageValue(), label: str(label) }, { query: '?wait=40' })
      const env = r.body.status === 'failed' ? r.body : await finished(target(), r.body.job_id as string)
      expectEnvelope(env)
      expectError(env, 'COMFYUI_EXECUTION')
      const { message } = errorOf(env)
      expect(message).toMatch(
        /^ComfyUI failed at node 10 \(ComfyRemoteInput\): CONTRACT_FAIL: the node refused this value$/,
      )
      const details = JSON.stringify(errorOf(env).details ?? {})
      expect(details).not.toMatch(/\/srv\/comfy-lab|Traceback|"traceback"/)
      // ComfyUI names a custom node's exception class by the node's folder path: only the part after it
      expect(errorOf(env).details).toMatchObject({
        exception_type: 'comfy_remote.comfy_remote.errors.CodecError',
      })
      expect(details.length).toBeLessThan(8_000)
    })

    it('POST /run without wait answers a prompt ComfyUI refuses at once: 400 COMFYUI_VALIDATION', async (ctx) => {
      if (!target().injectsFailures) return ctx.skip()
      const r = await submit(target(), { image: imageValue(), label: str(INVALID_MARK) })
      expectRefusal(r, 400, 'COMFYUI_VALIDATION', /blur_radius/)
      expect(r.body.job_id).toMatch(UUID) // the job exists (and stays failed)
      expect(r.headers.get('location')).toBeNull()
    })

    it('a validation error names node, class, input and reason', async (ctx) => {
      if (!target().injectsFailures) return ctx.skip()
      const r = await submit(
        target(),
        { image: imageValue(), label: str(INVALID_MARK) },
        { query: '?wait=40' },
      )
      const env = r.body.status === 'failed' ? r.body : await finished(target(), r.body.job_id as string)
      expectError(env, 'COMFYUI_VALIDATION')
      expect(errorOf(env).message).toMatch(
        /node 3 \(ImageBlur\) input "blur_radius": Value 999 bigger than max of 31/,
      )
    })
  })
}

import { encodeNpy } from '@comfy-remote/protocol'
import { afterEach, describe, expect, it } from 'vitest'
import type { ProgressInfo } from '../src/index.js'
import { createRemoteClient, isRemoteJobError } from '../src/index.js'
import { startV1Worker, type V1Worker } from './helpers/v1-worker.js'

let worker: V1Worker | undefined
afterEach(async () => {
  await worker?.close()
  worker = undefined
})

function image(h = 256, w = 256): Uint8Array {
  const data = new Float32Array(h * w * 3)
  for (let i = 0; i < data.length; i++) data[i] = (i % 251) / 250
  return encodeNpy({ dtype: 'float32', shape: [1, h, w, 3], data })
}

const fast = { pollInterval: 20, timeout: 15_000, retry: { retries: 2, minDelay: 5, maxDelay: 20 } }

describe('a v1 worker', () => {
  it('sends multipart, follows server-sent events in order, and reads the result back as bytes', async () => {
    worker = await startV1Worker({ steps: 3 })
    const bytes = image()
    const progress: ProgressInfo[] = []
    const client = createRemoteClient({ url: worker.url, ...fast })
    const env = await client.run(
      { image: { type: 'IMAGE', encoding: 'npy', data: bytes } },
      { onProgress: (p) => progress.push(p) },
    )
    expect(env.status).toBe('completed')
    const out = env.outputs?.image
    expect(out?.data).toBeInstanceOf(Uint8Array)
    expect(Buffer.from(out?.data as Uint8Array).equals(Buffer.from(bytes))).toBe(true)
    expect(progress.map((p) => p.value)).toEqual([0, 1, 2, 3])
    expect(progress[1]?.message).toBe('step 1')
    const post = worker.requests.find((r) => r.method === 'POST')
    expect(String(post?.headers['content-type'])).toMatch(/^multipart\/form-data; boundary=/)
    expect(String(post?.headers.accept)).toMatch(/multipart\/form-data/)
    expect(post?.path).toBe('/run')
    expect(worker.requests.filter((r) => r.path === '/jobs/j1/events')).toHaveLength(1)
    // one GET for the values the event stream leaves out, no polling
    expect(worker.requests.filter((r) => r.method === 'GET' && r.path === '/jobs/j1')).toHaveLength(1)
  })

  it('falls back to long-polling (?wait=) when there is no event stream', async () => {
    worker = await startV1Worker({ sse: false, steps: 3 })
    const progress: ProgressInfo[] = []
    const env = await createRemoteClient({ url: worker.url, ...fast, longPollWait: 7 }).run(
      { text: { type: 'STRING', encoding: 'json', data: 'hi' } },
      { onProgress: (p) => progress.push(p) },
    )
    expect(env.outputs?.text).toEqual({ type: 'STRING', encoding: 'json', data: 'hi' })
    expect(progress.map((p) => p.value)).toEqual([0, 1, 2, 3])
    const polls = worker.requests.filter((r) => r.method === 'GET' && r.path === '/jobs/j1')
    expect(polls.length).toBe(3)
    for (const poll of polls) expect(poll.query.get('wait')).toBe('7')
  })

  it('switches to long-polling when the event stream goes silent', async () => {
    worker = await startV1Worker({ stall: true, steps: 2 })
    const progress: ProgressInfo[] = []
    const env = await createRemoteClient({ url: worker.url, ...fast, eventsIdleTimeout: 200 }).run(
      { n: { type: 'INT', encoding: 'json', data: 3 } },
      { onProgress: (p) => progress.push(p) },
    )
    expect(env.outputs?.n).toMatchObject({ data: 3 })
    expect(progress.map((p) => p.value)).toEqual([0, 1, 2])
    expect(worker.requests.filter((r) => r.path === '/jobs/j1/events')).toHaveLength(1)
    expect(worker.requests.filter((r) => r.path === '/jobs/j1' && r.query.has('wait')).length).toBe(2)
  })

  it('uses JSON with base64 when the worker does not offer multipart', async () => {
    worker = await startV1Worker({ multipart: false, steps: 1 })
    const bytes = image(8, 8)
    const env = await createRemoteClient({ url: worker.url, ...fast }).run({
      image: { type: 'IMAGE', encoding: 'npy', data: bytes },
    })
    const post = worker.requests.find((r) => r.method === 'POST')
    expect(post?.headers['content-type']).toBe('application/json')
    expect(JSON.parse(post?.body.toString() ?? '{}').inputs.image.data).toBe(
      Buffer.from(bytes).toString('base64'),
    )
    expect(env.outputs?.image?.data).toBe(Buffer.from(bytes).toString('base64'))
  })

  it('gets the finished job from the submit itself with `wait`', async () => {
    worker = await startV1Worker({ steps: 3 })
    const env = await createRemoteClient({ url: worker.url, ...fast }).run(
      { n: { type: 'INT', encoding: 'json', data: 5 } },
      { wait: 10 },
    )
    expect(env.outputs?.n).toMatchObject({ data: 5 })
    const post = worker.requests.find((r) => r.method === 'POST')
    expect(post?.query.get('wait')).toBe('10')
    expect(worker.requests.filter((r) => r.path.startsWith('/jobs/'))).toHaveLength(0)
  })

  it('exposes submit, status, events, cancel, schema and health', async () => {
    worker = await startV1Worker({ steps: 2 })
    const client = createRemoteClient({ url: worker.url, ...fast })
    expect((await client.health()).transports).toEqual(['json', 'multipart'])
    const schema = await client.schema()
    expect(schema.inputs[0]).toMatchObject({ name: 'image', type: 'IMAGE', required: true })
    const first = await client.submit(
      { n: { type: 'INT', encoding: 'json', data: 1 } },
      { idempotencyKey: 'abc' },
    )
    expect(first).toMatchObject({ status: 'pending', jobId: 'j1' })
    expect(worker.requests.find((r) => r.method === 'POST')?.headers['idempotency-key']).toBe('abc')
    const seen: string[] = []
    for await (const env of client.events('j1')) seen.push(`${env.status}:${env.progress?.value}`)
    expect(seen).toEqual(['pending:0', 'running:1', 'completed:2'])
    expect((await client.status('j1')).outputs?.n).toMatchObject({ data: 1 })
    const again = await client.submit(
      { n: { type: 'INT', encoding: 'json', data: 1 } },
      { idempotencyKey: 'other' },
    )
    expect((await client.cancel(again.pollUrl ?? '')).status).toBe('cancelled')
    const error = await client.status('nope').catch((e: unknown) => e)
    expect(isRemoteJobError(error) && error.code).toBe('NOT_FOUND')
  })
})

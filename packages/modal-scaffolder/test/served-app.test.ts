import { join } from 'node:path'
import {
  decodeMultipart,
  encodeMultipart,
  encodeNpy,
  parseEnvelope,
  zWorkflowSchema,
} from '@comfy-remote/protocol'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { scaffoldModalProject } from '../src/index.js'
import { cleanupTempDirs, FIXTURES, nodePackDir, tempDir } from './helpers.js'
import { canServe, FAKE_COMFY, Processes } from './serve-helpers.js'

// The generated web app on a real port (`comfy-remote-modal serve`: uvicorn, the in-process modal) driven
// over HTTP with the protocol package, its GPU worker running jobs on the io-helpers fake ComfyUI (a
// separate process, HTTP + /ws).
const canRun = canServe()
const TOKEN = 'served-token-0123456789abcdef'
const processes = new Processes()
let base = ''
const auth = { authorization: `Bearer ${TOKEN}` }

beforeAll(async () => {
  if (!canRun) return
  const comfy = await processes.start('node', [
    FAKE_COMFY,
    '--port',
    '0',
    '--progress-steps',
    '10',
    '--step-delay-ms',
    '100',
  ])
  const { dir } = await scaffoldModalProject({
    workflow: join(FIXTURES, 'echo-prompt.json'),
    outDir: tempDir(),
    appName: 'served',
    nodePackDir: nodePackDir(),
  })
  base = await processes.serve(dir, comfy, '--token', TOKEN)
}, 60_000)

afterAll(async () => {
  await processes.stopAll()
  cleanupTempDirs()
})

describe.runIf(canRun)('generated web app on a real port', () => {
  it('health is open, schema needs the token and matches the protocol', async () => {
    expect(await (await fetch(`${base}/health`)).json()).toMatchObject({
      status: 'ok',
      transports: ['json', 'multipart'],
    })
    expect((await fetch(`${base}/schema`)).status).toBe(401)
    const schema = zWorkflowSchema.parse(await (await fetch(`${base}/schema`, { headers: auth })).json())
    expect(schema.inputs.map((i) => i.name)).toEqual(['image', 'label'])
  })

  it('multipart request and response round-trip an npy image', async () => {
    const npy = encodeNpy({
      dtype: 'float32',
      shape: [1, 4, 4, 3],
      data: new Float32Array(48).map((_, i) => i / 48),
    })
    const { body, contentType } = encodeMultipart({
      inputs: { image: { type: 'IMAGE', encoding: 'npy', data: npy } },
    })
    const res = await fetch(`${base}/run?wait=30`, {
      method: 'POST',
      body,
      headers: { ...auth, 'content-type': contentType, accept: 'multipart/form-data, application/json' },
    })
    expect(res.status).toBe(200)
    const env = parseEnvelope(
      decodeMultipart(new Uint8Array(await res.arrayBuffer()), res.headers.get('content-type') ?? ''),
    )
    expect(env.status).toBe('completed')
    expect(Array.from(env.outputs?.image?.data as Uint8Array)).toEqual(Array.from(npy))
  })

  it('events stream progress until the job completes; cancel ends a job as cancelled', async () => {
    const submit = await fetch(`${base}/run`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: { image: { type: '*', encoding: 'json', data: 'x' } } }),
    })
    expect(submit.status).toBe(202)
    const job = parseEnvelope(await submit.json())
    expect(submit.headers.get('location')).toBe(`/jobs/${job.jobId}`)
    const text = await (
      await fetch(`${base}/jobs/${job.jobId}/events`, { headers: auth, signal: AbortSignal.timeout(30_000) })
    ).text()
    const events = text
      .split('\n')
      .filter((l) => l.startsWith('data: '))
      .map((l) => parseEnvelope(JSON.parse(l.slice(6))))
    expect(events.at(-1)?.status).toBe('completed')
    expect(events[0]?.status).not.toBe('completed') // the job runs about 1 s (10 fake progress steps of 100 ms)
    expect(events.some((e) => e.status === 'running' && (e.progress?.max ?? 0) > 1)).toBe(true)

    const slow = parseEnvelope(
      await (
        await fetch(`${base}/run`, {
          method: 'POST',
          headers: { ...auth, 'content-type': 'application/json' },
          body: JSON.stringify({ inputs: [{ name: 'input_1', encoding: 'identity', data: 'y' }] }),
        })
      ).json(),
    )
    const cancelled = parseEnvelope(
      await (await fetch(`${base}/jobs/${slow.jobId}`, { method: 'DELETE', headers: auth })).json(),
    )
    expect(['cancelled', 'completed']).toContain(cancelled.status)
  })
})

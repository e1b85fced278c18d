// Callers of the original comfy-remote protocol against our mock worker (a real process): the
// list-form request (`input_1..N`, `POST /`), base64+pickle and identity values, and responses read only
// by the original's rules.
import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { type OriginalOutcome, originalCall, originalRequest } from './support/original-caller.js'
import { type ExampleName, readExample } from './support/paths.js'
import { workerUrl } from './support/shared.js'

// The shared echo workers of the global setup, one per example.
const urls = { get: (name: ExampleName) => workerUrl('echo', name) }

type Value = { type: string; encoding: string; data: unknown }
const image = readExample<{ inputs: { image: Value } }>('image-invert', 'request.json').inputs.image
// What the original node sent: a pickled tensor. The worker must never unpickle it; the echo engine
// hands it back untouched (only a receiver that opted in would decode it).
const pickled = {
  comfy_type: 'IMAGE',
  python_type: 'torch.Tensor',
  encoding: 'base64+pickle',
  data: randomBytes(96).toString('base64'),
}

function expectOriginalEnvelope(outcome: OriginalOutcome): void {
  const first = outcome.bodies[0]!
  // Without ?wait the original got a pending job and a poll URL, and followed it.
  expect(outcome.statuses[0]).toBeLessThan(300)
  expect(typeof (first.poll_url ?? first.status_url)).toBe('string')
  const last = outcome.bodies.at(-1)!
  expect(last.status).toBe('completed')
  expect(outcome.progress.at(-1)).toBe(1)
}

describe('the original Remote API node calling our worker', () => {
  it('POST / with a pickled input_1 returns it as result, never decoded', async () => {
    const outcome = await originalCall(`${urls.get('image-invert')}/`, originalRequest([pickled]))
    expectOriginalEnvelope(outcome)
    expect(outcome.result).toMatchObject({ encoding: 'base64+pickle', data: pickled.data })
  })

  it('POST / with an npy input_1: result is the Remote Output value', async () => {
    const outcome = await originalCall(
      `${urls.get('image-invert')}/`,
      originalRequest([{ comfy_type: 'IMAGE', ...image }]),
    )
    expectOriginalEnvelope(outcome)
    expect(outcome.result).toMatchObject({ type: 'IMAGE', encoding: 'npy', data: image.data })
  })

  it('input_k goes to the k-th Remote Input in node-id order; gaps keep their fallbacks', async () => {
    // typed-inputs: Remote Inputs 1 prompt, 3 seed, 5 strength, 7 image. input_3 (strength) is left out.
    const request = originalRequest([
      { comfy_type: 'STRING', python_type: 'str', encoding: 'identity', data: 'an owl at dusk' },
      { comfy_type: 'INT', python_type: 'int', encoding: 'identity', data: 11 },
      undefined,
      { comfy_type: 'IMAGE', ...image },
    ])
    const outcome = await originalCall(`${urls.get('typed-inputs')}/`, request)
    expectOriginalEnvelope(outcome)
    const outputs = outcome.bodies.at(-1)!.outputs as Record<string, Value>
    expect(outputs.prompt?.data).toBe('an owl at dusk')
    expect(outputs.image).toMatchObject({ encoding: 'npy', data: image.data })
  })

  it('with several outputs, result is the first Remote Output of /schema and outputs has them all', async () => {
    const url = urls.get('multi-output')!
    const schema = (await (await fetch(`${url}/schema`)).json()) as { outputs: { name: string }[] }
    expect(schema.outputs.map((o) => o.name).sort()).toEqual(['caption', 'mask', 'width'])
    const outcome = await originalCall(`${url}/`, originalRequest([{ comfy_type: 'IMAGE', ...image }]))
    expectOriginalEnvelope(outcome)
    const outputs = outcome.bodies.at(-1)!.outputs as Record<string, Value>
    expect(Object.keys(outputs).sort()).toEqual(['caption', 'mask', 'width'])
    expect(outcome.result).toEqual(outputs[schema.outputs[0]!.name])
  })

  it('an unknown input name is a 400 that names it', async () => {
    const res = await fetch(`${urls.get('image-invert')}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: [{ name: 'input_9', encoding: 'identity', data: 1 }] }),
      signal: AbortSignal.timeout(10_000),
    })
    expect(res.status).toBe(400)
    const body = (await res.json()) as { status: string; error: { code: string; message: string } }
    expect(body.status).toBe('failed')
    expect(body.error.code).toBe('BAD_REQUEST')
    expect(body.error.message).toContain('input_9')
  })
})

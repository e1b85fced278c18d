import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { collectOutputs } from '../src/collect.js'
import { injectInputs } from '../src/inject.js'
import type { FakeComfyUI } from '../src/testing/index.js'
import { createFakeComfyUI } from '../src/testing/index.js'
import type { ApiPrompt, EncodedValue } from '../src/types.js'
import { ownFixture, waitFor } from './helpers.js'

let fake: FakeComfyUI
beforeAll(async () => {
  fake = await createFakeComfyUI()
})
afterAll(async () => {
  await fake.close()
})

/** What a worker does: inject, POST /prompt, poll /history, collect. */
async function run(
  prompt: ApiPrompt,
  inputs: Record<string, EncodedValue>,
): Promise<Record<string, EncodedValue>> {
  const injected = injectInputs(prompt, inputs)
  const res = await fetch(`${fake.url}/prompt`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ prompt: injected, client_id: 'e2e' }),
  })
  expect(res.status).toBe(200)
  const { prompt_id } = (await res.json()) as { prompt_id: string }
  const body = await waitFor(async () => {
    const h = (await (await fetch(`${fake.url}/history/${prompt_id}`)).json()) as Record<string, unknown>
    return Object.keys(h).length > 0 ? h : undefined
  })
  return collectOutputs(injected, body)
}

const multi = ownFixture('api-multi.json')
const image: EncodedValue = { type: 'IMAGE', encoding: 'npy', data: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPGY0Jywg' }
const mask: EncodedValue = { type: 'MASK', encoding: 'json', data: [[0, 1]] }

describe('Remote Input -> ... -> Remote Output through the fake server', () => {
  it('passes every input to its outputs, through chains of other nodes', async () => {
    const prompt: EncodedValue = { type: 'STRING', encoding: 'json', data: 'a dog' }
    expect(await run(multi, { image, mask, prompt })).toEqual({
      inverted: image,
      chain: image,
      mask_out: mask,
      prompt_out: prompt,
    })
  })

  it('uses fallbacks when optional inputs are left out', async () => {
    const out = await run(multi, { image })
    expect(out.prompt_out).toEqual({ type: '*', encoding: 'json', data: 'a cat' })
    expect(out.mask_out).toEqual({ type: 'MASK', encoding: 'json', data: 1 })
  })

  it('maps the original input_1..N names positionally', async () => {
    const legacy = ownFixture('api-legacy-names.json')
    const a: EncodedValue = { type: 'STRING', encoding: 'identity', data: 'first' }
    const b: EncodedValue = { type: 'INT', encoding: 'json', data: 2 }
    expect(await run(legacy, { input_1: a, input_3: b })).toEqual({
      result: a,
      second_out: { type: 'INT', encoding: 'json', data: 7 },
      other_out: b,
    })
  })

  it('a Remote Input with neither payload nor fallback fails the run like the real node', async () => {
    const prompt = {
      1: { class_type: 'ComfyRemoteInput', inputs: { key: 'x' } },
      2: { class_type: 'ComfyRemoteOutput', inputs: { value: ['1', 0], key: 'y' } },
    }
    const res = await fetch(`${fake.url}/prompt`, { method: 'POST', body: JSON.stringify({ prompt }) })
    const { prompt_id } = (await res.json()) as { prompt_id: string }
    const entry = await waitFor(() => fake.history.get(prompt_id))
    expect(() => collectOutputs(prompt, entry)).toThrow(/no payload and has no fallback/)
  })
})

const encodedValue: fc.Arbitrary<EncodedValue> = fc.oneof(
  fc.record({
    type: fc.constantFrom('STRING', 'INT', 'FLOAT', 'BOOLEAN', '*', 'LATENT'),
    encoding: fc.constant('json'),
    data: fc.jsonValue(),
  }),
  fc.record({
    type: fc.constantFrom('IMAGE', 'MASK'),
    encoding: fc.constantFrom('npy', 'png'),
    data: fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b).toString('base64')),
    shape: fc.array(fc.nat(16), { maxLength: 4 }),
  }),
)

describe('properties', () => {
  it('injectInputs never mutates its argument', () => {
    fc.assert(
      fc.property(encodedValue, encodedValue, fc.boolean(), (a, b, withMask) => {
        const before = JSON.stringify(multi)
        const inputs: Record<string, EncodedValue> = { image: a, prompt: b }
        if (withMask) inputs.mask = b
        const out = injectInputs(multi, inputs)
        expect(JSON.stringify(multi)).toBe(before)
        expect(out).not.toBe(multi)
      }),
      { numRuns: 100 },
    )
  })

  it('collectOutputs(injectInputs(...)) through the fake server returns what went in', async () => {
    await fc.assert(
      fc.asyncProperty(encodedValue, encodedValue, encodedValue, async (img, txt, msk) => {
        const out = await run(multi, { image: img, prompt: txt, mask: msk })
        const asJson = (v: unknown) => JSON.parse(JSON.stringify(v))
        expect(out).toEqual(asJson({ inverted: img, chain: img, prompt_out: txt, mask_out: msk }))
      }),
      { numRuns: 25 },
    )
  })
})

describe('keys fed by primitive nodes', () => {
  it('names Remote Inputs/Outputs from a linked PrimitiveString and round-trips', async () => {
    const prompt: ApiPrompt = {
      1: { class_type: 'PrimitiveString', inputs: { value: 'photo' } },
      2: { class_type: 'ComfyRemoteInput', inputs: { key: ['1', 0] } },
      3: { class_type: 'PrimitiveString', inputs: { value: 'answer' } },
      4: { class_type: 'ComfyRemoteOutput', inputs: { value: ['2', 0], key: ['3', 0] } },
    }
    const { describeWorkflow } = await import('../src/describe.js')
    const contract = describeWorkflow(prompt)
    expect(contract.inputs.map((i) => i.name)).toEqual(['photo'])
    expect(contract.outputs.map((o) => o.name)).toEqual(['answer'])
    expect(await run(prompt, { photo: image })).toEqual({ answer: image })
  })
})

describe('a UI-format workflow end to end', () => {
  it('toApiPrompt -> injectInputs -> fake ComfyUI -> collectOutputs', async () => {
    const { toApiPrompt } = await import('../src/ui-convert.js')
    const prompt = toApiPrompt(ownFixture('ui-remote.json'), fake.objectInfo)
    const text: EncodedValue = { type: 'STRING', encoding: 'json', data: 'hello' }
    const injected = injectInputs(prompt, { text })
    const res = await fetch(`${fake.url}/prompt`, {
      method: 'POST',
      body: JSON.stringify({ prompt: injected }),
    })
    // The PreviewImage fed by a muted node lost its input: ComfyUI answers 200 and runs the other outputs.
    const body = (await res.json()) as {
      prompt_id: string
      node_errors: Record<string, { class_type: string }>
    }
    expect(res.status).toBe(200)
    expect(Object.keys(body.node_errors)).toEqual(['17'])
    const entry = await waitFor(() => fake.history.get(body.prompt_id))
    const out = collectOutputs(injected, entry)
    expect(out.echo).toEqual(text)
    expect(out.image_out).toEqual({ type: 'IMAGE', encoding: 'json', data: 64 })
    expect(out.blurred).toEqual(out.image_out)
    expect(out.noise).toEqual({ type: 'NOISE', encoding: 'json', data: 42 })
  })
})

describe('a subgraph workflow end to end', () => {
  it('runs the flattened "<instance>:<inner>" nodes and returns the value', async () => {
    const { toApiPrompt } = await import('../src/ui-convert.js')
    const prompt = toApiPrompt(ownFixture('ui-subgraph-remote.json'), fake.objectInfo)
    expect(await run(prompt, { image })).toEqual({ blurred: image, bypassed: image })
  })
})

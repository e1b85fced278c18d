import { describe, expect, it } from 'vitest'
import { ownFixture } from '../test/helpers.js'
import { collectOutputs } from './collect.js'
import { describeWorkflow } from './describe.js'
import { IoHelpersError, isIoHelpersError } from './errors.js'
import { injectInputs } from './inject.js'
import { parseApiPrompt } from './prompt.js'
import { recordedObjectInfo } from './testing/fixtures.js'
import type { EncodedValue } from './types.js'

const multi = ownFixture('api-multi.json')
const legacy = ownFixture('api-legacy-names.json')
const info = recordedObjectInfo()
const img: EncodedValue = { type: 'IMAGE', encoding: 'npy', data: 'AAAA' }

function codeOf(fn: () => unknown): string {
  try {
    fn()
  } catch (error) {
    if (isIoHelpersError(error)) return error.code
    throw error
  }
  throw new Error('expected an error')
}

describe('describeWorkflow', () => {
  it('lists Remote Inputs/Outputs in numeric node-id order with types from object_info', () => {
    expect(describeWorkflow(multi, info)).toEqual({
      inputs: [
        { name: 'image', nodeId: '2', type: 'IMAGE', required: true },
        { name: 'prompt', nodeId: '3', type: '*', required: false, default: 'a cat' },
        { name: 'mask', nodeId: '10', type: 'MASK', required: false },
      ],
      outputs: [
        { name: 'inverted', nodeId: '5', type: 'IMAGE' },
        { name: 'mask_out', nodeId: '6', type: 'MASK' },
        { name: 'prompt_out', nodeId: '7', type: '*' },
        { name: 'chain', nodeId: '9', type: 'IMAGE' },
      ],
    })
  })

  it('reports * without object_info, default keys and primitive fallbacks as defaults', () => {
    const d = describeWorkflow(legacy)
    expect(d.inputs.map((i) => [i.nodeId, i.name, i.type, i.required, i.default])).toEqual([
      ['1', 'payload', '*', true, undefined],
      ['5', 'second', '*', false, 7],
      ['12', 'other', '*', true, undefined],
    ])
    expect(d.outputs.map((o) => o.name)).toEqual(['result', 'second_out', 'other_out'])
  })

  it('rejects duplicate names naming every node', () => {
    const dup = structuredClone(multi)
    dup['10']!.inputs.key = 'image'
    try {
      describeWorkflow(dup)
      expect.unreachable()
    } catch (error) {
      expect(error).toBeInstanceOf(IoHelpersError)
      expect((error as IoHelpersError).code).toBe('DUPLICATE_NAME')
      expect((error as IoHelpersError).nodeIds).toEqual(['2', '10'])
      expect((error as Error).message).toContain('"image"')
    }
  })

  it('rejects a Remote Output whose value is not linked', () => {
    const bad = structuredClone(multi)
    bad['7']!.inputs.value = 'literal'
    expect(codeOf(() => describeWorkflow(bad))).toBe('UNLINKED_OUTPUT')
  })

  it.each([
    [5, 'INVALID_PROMPT'],
    [{ 1: { inputs: {} } }, 'INVALID_PROMPT'],
    [{ nodes: [], links: [] }, 'INVALID_PROMPT'],
  ])('parseApiPrompt rejects %j', (value, code) => {
    expect(codeOf(() => parseApiPrompt(value))).toBe(code)
  })
})

describe('injectInputs', () => {
  it('puts each value in its Remote Input payload and clears stale payloads', () => {
    const stale = structuredClone(multi)
    stale['3']!.inputs.payload = '{"type":"STRING","encoding":"json","data":"old"}'
    const out = injectInputs(stale, { image: img })
    expect(JSON.parse(out['2']!.inputs.payload as string)).toEqual(img)
    expect(out['3']!.inputs).not.toHaveProperty('payload')
    expect(stale['3']!.inputs.payload).toBeDefined()
  })

  it('writes Uint8Array data as base64', () => {
    const out = injectInputs(multi, {
      image: { type: 'IMAGE', encoding: 'npy', data: new Uint8Array([1, 2, 3]) },
    })
    expect(JSON.parse(out['2']!.inputs.payload as string).data).toBe('AQID')
  })

  it('maps input_1..N positionally when no key matches', () => {
    const out = injectInputs(legacy, { input_1: img, input_3: img })
    expect(out['1']!.inputs.payload).toBeDefined()
    expect(out['12']!.inputs.payload).toBeDefined()
    expect(out['5']!.inputs.payload).toBeUndefined()
  })

  it.each([
    ['two names for one Remote Input', { input_1: img, payload: img }, /already receives/],
    ['a zero-padded original name', { input_01: img }, /inputs\.input_01: no Remote Input/],
  ])('rejects %s', (_label, inputs, message) => {
    expect(() => injectInputs(legacy, inputs as never)).toThrow(message)
  })

  it('reports every problem at once', () => {
    try {
      injectInputs(
        multi,
        {
          nope: img,
          mask: { type: 'IMAGE', encoding: 'npy', data: 'x' },
          prompt: { type: 'STRING' } as never,
        },
        { objectInfo: info },
      )
      expect.unreachable()
    } catch (error) {
      expect((error as IoHelpersError).code).toBe('INVALID_INPUTS')
      const problems = (error as IoHelpersError).problems
      expect(problems).toHaveLength(4)
      expect(problems.join('\n')).toMatch(/inputs\.nope: no Remote Input/)
      expect(problems.join('\n')).toMatch(/inputs\.mask: .*expects MASK, got IMAGE/)
      expect(problems.join('\n')).toMatch(/inputs\.prompt: "encoding"/)
      expect(problems.join('\n')).toMatch(/inputs\.image: required/)
    }
  })
})

describe('collectOutputs', () => {
  const entry = (outputs: Record<string, unknown>, status = 'success') => ({
    x: { prompt: [], outputs, status: { status_str: status, completed: status === 'success', messages: [] } },
  })

  it('reads remote_output entries by key (value as object or JSON text)', () => {
    const out = collectOutputs(
      legacy,
      entry({
        30: { remote_output: [{ name: 'result', value: img }] },
        31: { remote_output: [{ name: 'second_out', value: JSON.stringify(img) }] },
        32: { remote_output: [{ name: 'other_out', value: { type: 'INT', encoding: 'json', data: 3 } }] },
      }),
    )
    expect(out).toEqual({
      result: img,
      second_out: img,
      other_out: { type: 'INT', encoding: 'json', data: 3 },
    })
  })

  it('names the Remote Outputs that did not run', () => {
    try {
      collectOutputs(legacy, entry({ 30: { remote_output: [{ name: 'result', value: img }] } }))
      expect.unreachable()
    } catch (error) {
      expect((error as IoHelpersError).code).toBe('OUTPUT_NOT_PRODUCED')
      expect((error as IoHelpersError).nodeIds).toEqual(['31', '32'])
    }
  })

  it('rejects {} (not finished) with INVALID_HISTORY', () => {
    expect(codeOf(() => collectOutputs(legacy, {}))).toBe('INVALID_HISTORY')
  })
})

import { describe, expect, it } from 'vitest'
import { isProtocolError, parseEncodedValue, parseRunRequest } from './index.js'

function fieldOf(fn: () => unknown): { code: string; field: string | undefined; message: string } {
  try {
    fn()
  } catch (error) {
    expect(isProtocolError(error)).toBe(true)
    const e = error as { code: string; field: string | undefined; message: string }
    return { code: e.code, field: e.field, message: e.message }
  }
  throw new Error('expected a ProtocolError')
}

const img = { type: 'IMAGE', encoding: 'npy', data: 'k05VTVBZ' }

describe('parseRunRequest: accepts', () => {
  it('the v1 map form with request_id', () => {
    expect(parseRunRequest({ inputs: { image: img }, request_id: 'r1' })).toEqual({
      inputs: { image: img },
      requestId: 'r1',
    })
  })

  it('the original list form (comfy_type, python_type, metadata kept as extras)', () => {
    const body = {
      node: { id: '7', name: 'Remote API' },
      inputs: [
        {
          name: 'input_1',
          comfy_type: 'IMAGE',
          python_type: 'torch.Tensor',
          encoding: 'base64+pickle',
          data: 'gASV',
          metadata: null,
        },
        { name: 'input_2', type: 'INT', encoding: 'identity', data: 3 },
      ],
      input_order: ['input_1', 'input_2'],
      workflow: {},
    }
    const req = parseRunRequest(body)
    expect(Object.keys(req.inputs)).toEqual(['input_1', 'input_2'])
    expect(req.inputs.input_1).toEqual({
      type: 'IMAGE',
      encoding: 'base64+pickle',
      data: 'gASV',
      python_type: 'torch.Tensor',
      metadata: null,
    })
    expect(req.inputs.input_2).toEqual({ type: 'INT', encoding: 'identity', data: 3 })
  })

  it.each([
    ['missing inputs', {}, {}],
    ['null inputs', { inputs: null }, {}],
    ['empty list', { inputs: [] }, {}],
    [
      'JSON text',
      '{"inputs":{"n":{"type":"INT","encoding":"json","data":1}}}',
      { n: { type: 'INT', encoding: 'json', data: 1 } },
    ],
    [
      'missing type becomes *',
      { inputs: { n: { encoding: 'json', data: 1 } } },
      { n: { type: '*', encoding: 'json', data: 1 } },
    ],
    [
      'data null is a value',
      { inputs: { n: { type: '*', encoding: 'json', data: null } } },
      { n: { type: '*', encoding: 'json', data: null } },
    ],
    [
      'ref instead of data',
      { inputs: { n: { type: 'IMAGE', encoding: 'npy', ref: 'https://x/y.npy' } } },
      { n: { type: 'IMAGE', encoding: 'npy', ref: 'https://x/y.npy', data: undefined } },
    ],
    ['requestId camelCase', { requestId: 'x' }, {}],
  ])('%s', (_name, body, inputs) => expect(parseRunRequest(body).inputs).toEqual(inputs))
})

describe('parseRunRequest: rejects, naming the field', () => {
  it.each([
    ['inputs: 5', { inputs: 5 }, 'BAD_REQUEST', 'inputs'],
    ['inputs: "x"', { inputs: 'x' }, 'BAD_REQUEST', 'inputs'],
    ['body not an object', [1], 'BAD_REQUEST', 'body'],
    ['body null', null, 'BAD_REQUEST', 'body'],
    ['body not JSON', '{inputs', 'BAD_REQUEST', 'body'],
    [
      'value without encoding',
      { inputs: { n: { type: 'INT', data: 1 } } },
      'BAD_REQUEST',
      'inputs.n.encoding',
    ],
    [
      'value without data',
      { inputs: { n: { type: 'INT', encoding: 'json' } } },
      'BAD_REQUEST',
      'inputs.n.data',
    ],
    [
      'value without encoding and data',
      { inputs: { n: { type: 'INT' } } },
      'BAD_REQUEST',
      'inputs.n.encoding',
    ],
    ['value not an object', { inputs: { n: 5 } }, 'BAD_REQUEST', 'inputs.n'],
    [
      'unknown encoding',
      { inputs: { n: { encoding: 'yaml', data: 1 } } },
      'UNKNOWN_ENCODING',
      'inputs.n.encoding',
    ],
    [
      'type not a string',
      { inputs: { n: { type: 5, encoding: 'json', data: 1 } } },
      'BAD_REQUEST',
      'inputs.n.type',
    ],
    [
      'list input without name',
      { inputs: [{ comfy_type: 'INT', encoding: 'identity', data: 1 }] },
      'BAD_REQUEST',
      'inputs[0].name',
    ],
    [
      'list input with empty name',
      { inputs: [{ name: '', encoding: 'identity', data: 1 }] },
      'BAD_REQUEST',
      'inputs[0].name',
    ],
    ['list input not an object', { inputs: [3] }, 'BAD_REQUEST', 'inputs[0]'],
    [
      'list input without encoding',
      { inputs: [{ name: 'input_1', data: 1 }] },
      'BAD_REQUEST',
      'inputs[0].encoding',
    ],
    [
      'duplicate list names',
      {
        inputs: [
          { name: 'a', encoding: 'json', data: 1 },
          { name: 'a', encoding: 'json', data: 2 },
        ],
      },
      'BAD_REQUEST',
      'inputs[1].name',
    ],
    ['request_id not a string', { inputs: {}, request_id: 5 }, 'BAD_REQUEST', 'request_id'],
    ['output_refs not a boolean', { inputs: {}, output_refs: 'yes' }, 'BAD_REQUEST', 'output_refs'],
  ])('%s', (_name, body, code, field) => {
    const e = fieldOf(() => parseRunRequest(body))
    expect(e.code).toBe(code)
    expect(e.field).toBe(field)
    expect(e.message).toContain(field)
  })
})

describe('output_refs and inputs by ref', () => {
  it('reads output_refs and keeps an input that carries a ref instead of data', () => {
    const ref = { type: 'IMAGE', encoding: 'npy', ref: 'https://example.com/a.npy' }
    expect(parseRunRequest({ inputs: { a: ref }, output_refs: true })).toEqual({
      inputs: { a: { ...ref, data: undefined } },
      outputRefs: true,
    })
    expect(parseRunRequest({ inputs: {} })).toEqual({ inputs: {} })
  })
})

describe('parseEncodedValue', () => {
  it('maps comfy_type to type and drops comfy_type', () => {
    expect(parseEncodedValue({ comfy_type: 'MASK', encoding: 'npy', data: '' })).toEqual({
      type: 'MASK',
      encoding: 'npy',
      data: '',
    })
  })
})

describe('untrusted keys', () => {
  it('an input named __proto__ stays an own property and changes no prototype', () => {
    const req = parseRunRequest(
      '{"inputs":{"__proto__":{"type":"INT","encoding":"json","data":1},"b":{"encoding":"json","data":2}}}',
    )
    expect(Object.getPrototypeOf(req.inputs)).toBe(Object.prototype)
    expect(Object.keys(req.inputs)).toEqual(['__proto__', 'b'])
    expect(Object.getOwnPropertyDescriptor(req.inputs, '__proto__')?.value).toEqual({
      type: 'INT',
      encoding: 'json',
      data: 1,
    })
  })

  it('a list input named __proto__ too', () => {
    const req = parseRunRequest({ inputs: [{ name: '__proto__', encoding: 'json', data: 1 }] })
    expect(Object.getPrototypeOf(req.inputs)).toBe(Object.prototype)
    expect(Object.hasOwn(req.inputs, '__proto__')).toBe(true)
  })
})

import { describe, expect, it } from 'vitest'
import { inputNamesText, parseEndpointSchema, planRemoteInputs } from './schema-plan.js'
import { remoteInputPosition, remoteInputSlotName } from './slots.js'

describe('remoteInputPosition', () => {
  it.each([
    ['input_1_$remote_inputs_ag$', 1],
    ['input_8_$remote_inputs_ag$', 8],
    ['remote_inputs.input0', 1],
    ['remote_inputs.input_3', 4],
    ['input_2', 2],
    ['url', null],
    ['request_timeout', null],
    ['input_x', null],
  ])('%s -> %s', (name, k) => expect(remoteInputPosition(name)).toBe(k))

  it('names new slots in the form of an existing one', () => {
    expect(remoteInputSlotName(3, 'input_1_$remote_inputs_ag$')).toBe('input_3_$remote_inputs_ag$')
    expect(remoteInputSlotName(3, 'remote_inputs.input0')).toBe('remote_inputs.input2')
    expect(remoteInputSlotName(3, null)).toBe('input_3')
  })
})

describe('parseEndpointSchema', () => {
  it('reads the bridge result form', () => {
    const s = parseEndpointSchema({
      schema: {
        inputs: [
          { name: 'image', type: 'IMAGE', required: true },
          { name: 'steps', type: 'int', required: false, default: 20 },
        ],
        outputs: [{ name: 'result', type: 'IMAGE' }],
        transports: ['json', 'multipart'],
      },
    })
    expect(s.inputs).toEqual([
      { name: 'image', type: 'IMAGE', required: true },
      { name: 'steps', type: 'INT', required: false, default: 20 },
    ])
    expect(s.outputs).toEqual([{ name: 'result', type: 'IMAGE' }])
    expect(s.transports).toEqual(['json', 'multipart'])
  })

  it('accepts a map of inputs and missing types', () => {
    const s = parseEndpointSchema({ inputs: { prompt: { type: 'STRING' }, seed: {} } })
    expect(s.inputs.map((i) => [i.name, i.type])).toEqual([
      ['prompt', 'STRING'],
      ['seed', '*'],
    ])
    expect(s.transports).toEqual(['json'])
  })

  it.each([
    [{ error: { code: 'UNAUTHORIZED', message: 'token rejected' } }, /UNAUTHORIZED: token rejected/],
    ['nope', /not an object/],
    [{ inputs: 5 }, /"inputs" must be a list/],
  ])('rejects %j', (body, message) => expect(() => parseEndpointSchema(body)).toThrow(message))
})

describe('planRemoteInputs', () => {
  const schema = parseEndpointSchema({
    inputs: [
      { name: 'image', type: 'IMAGE' },
      { name: 'prompt', type: 'STRING', required: false },
      { name: 'seed', type: 'INT' },
    ],
  })

  it('labels and types existing slots, creates missing ones in the same name form', () => {
    const plan = planRemoteInputs(schema, [
      { name: 'url', type: 'STRING', linked: false },
      { name: 'input_1_$remote_inputs_ag$', type: '*', linked: true },
      { name: 'input_2_$remote_inputs_ag$', type: '*', linked: false },
    ])
    expect(plan.inputNames).toEqual(['image', 'prompt', 'seed'])
    expect(plan.changes).toEqual([
      {
        position: 1,
        slotName: 'input_1_$remote_inputs_ag$',
        create: false,
        label: 'image',
        type: 'IMAGE',
        typeConflict: false,
      },
      {
        position: 2,
        slotName: 'input_2_$remote_inputs_ag$',
        create: false,
        label: 'prompt (optional)',
        type: 'STRING',
        typeConflict: false,
      },
      {
        position: 3,
        slotName: 'input_3_$remote_inputs_ag$',
        create: true,
        label: 'seed',
        type: 'INT',
        typeConflict: false,
      },
    ])
    expect(plan.warnings).toEqual([])
  })

  it('warns about a linked slot of another type, too many inputs and duplicates', () => {
    const many = parseEndpointSchema({
      inputs: Array.from({ length: 10 }, (_, i) => ({ name: i === 1 ? 'a0' : `a${i}`, type: 'MASK' })),
    })
    const plan = planRemoteInputs(many, [{ name: 'remote_inputs.input0', type: 'IMAGE', linked: true }])
    expect(plan.changes).toHaveLength(8)
    expect(plan.changes[0]?.typeConflict).toBe(true)
    expect(plan.changes[7]?.slotName).toBe('remote_inputs.input7')
    expect(plan.warnings.join('\n')).toMatch(/declares 10 inputs.*"a8", "a9"/)
    expect(plan.warnings.join('\n')).toMatch(/"a0" twice/)
    expect(plan.warnings.join('\n')).toMatch(/linked to a IMAGE value but "a0" expects MASK/)
  })

  it('says so when the endpoint declares nothing', () => {
    expect(planRemoteInputs(parseEndpointSchema({ inputs: [] }), []).warnings).toEqual([
      'The endpoint declares no inputs.',
    ])
  })
})

describe('inputNamesText', () => {
  it('joins names for the input_names widget, JSON when a name has a comma', () => {
    expect(inputNamesText(['image', 'seed'])).toBe('image, seed')
    expect(inputNamesText(['a,b', 'c'])).toBe('["a,b","c"]')
    expect(inputNamesText([])).toBe('')
  })
})

describe('fill from schema: an App Mode endpoint', () => {
  // GET /schema of a worker serving io-helpers' fixtures/app-mode/subgraph-promoted.json
  const body = {
    inputs: [
      {
        name: 'image',
        nodeId: '1',
        type: 'IMAGE',
        required: false,
        source: 'app',
        input: 'image',
        default: 'example.png',
      },
      {
        name: 'blur_radius',
        nodeId: '5:2',
        type: 'INT',
        required: false,
        source: 'app',
        input: 'blur_radius',
        default: 4,
        description: 'Blur radius in pixels',
      },
      {
        name: 'sigma',
        nodeId: '5:2',
        type: 'FLOAT',
        required: false,
        source: 'app',
        input: 'sigma',
        default: 1.5,
      },
    ],
    outputs: [{ name: 'images', nodeId: '3', type: 'IMAGE', source: 'app' }],
    transports: ['json', 'multipart'],
  }

  it('creates one typed socket per App Mode input, named as the schema names them', () => {
    const schema = parseEndpointSchema(body)
    expect(schema.outputs).toEqual([{ name: 'images', type: 'IMAGE' }])
    const plan = planRemoteInputs(schema, [{ name: 'input_1_$remote_inputs_ag$', type: '*', linked: false }])
    expect(plan.changes.map((c) => [c.slotName, c.create, c.label, c.type])).toEqual([
      ['input_1_$remote_inputs_ag$', false, 'image (optional)', 'IMAGE'],
      ['input_2_$remote_inputs_ag$', true, 'blur_radius (optional)', 'INT'],
      ['input_3_$remote_inputs_ag$', true, 'sigma (optional)', 'FLOAT'],
    ])
    expect(inputNamesText(plan.inputNames)).toBe('image, blur_radius, sigma')
    expect(plan.warnings).toEqual([])
  })
})

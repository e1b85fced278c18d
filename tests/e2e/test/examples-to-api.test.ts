// Each example's workflow.json (UI format, as the editor saves it) converts to its prompt.json (API
// format) with io-helpers' toApiPrompt and the object_info of a real ComfyUI 0.3.64.
import { join } from 'node:path'
import { describeWorkflow, type ObjectInfo, toApiPrompt, type UiWorkflow } from '@comfy-remote/io-helpers'
import { describe, expect, it } from 'vitest'
import { exampleNames, fixturesDir, readExample, readJson } from './support/paths.js'

const objectInfo = readJson<ObjectInfo>(join(fixturesDir, 'comfyui-0.3.64', 'object_info.json'))

const contracts = {
  'image-invert': { inputs: { image: ['IMAGE', true] }, outputs: { image: 'IMAGE' } },
  'typed-inputs': {
    inputs: {
      prompt: ['STRING', false],
      seed: ['INT', false],
      strength: ['FLOAT', false],
      image: ['IMAGE', false],
    },
    outputs: { image: 'IMAGE', prompt: 'STRING' },
  },
  'multi-output': {
    inputs: { image: ['IMAGE', true], caption: ['STRING', false] },
    outputs: { mask: 'MASK', caption: 'STRING', width: 'INT' },
  },
} as const

describe.each(exampleNames)('example %s', (name) => {
  const prompt = readExample<Record<string, unknown>>(name, 'prompt.json')

  it('toApiPrompt(workflow.json) equals prompt.json', () => {
    const ui = readExample<UiWorkflow>(name, 'workflow.json')
    expect(toApiPrompt(ui, objectInfo)).toEqual(prompt)
  })

  it('describeWorkflow reports the documented contract', () => {
    const described = describeWorkflow(prompt as never, objectInfo)
    const inputs = Object.fromEntries(described.inputs.map((i) => [i.name, [i.type, i.required]]))
    const outputs = Object.fromEntries(described.outputs.map((o) => [o.name, o.type]))
    expect({ inputs, outputs }).toEqual(contracts[name])
  })
})

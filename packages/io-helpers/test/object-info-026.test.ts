import { expect, it } from 'vitest'
import { describeWorkflow } from '../src/describe.js'
import { readFixtureJson } from '../src/testing/fixtures.js'
import type { ObjectInfo } from '../src/types.js'
import { toApiPrompt } from '../src/ui-convert.js'
import type { UiWorkflow } from '../src/ui-graph.js'
import { ownFixture } from './helpers.js'

const info026 = readFixtureJson<ObjectInfo>('object_info.json', '0.26.0')

it('converts and describes the same workflow with the 0.26.0 object_info', () => {
  const prompt = toApiPrompt(ownFixture<UiWorkflow>('ui-remote.json'), info026)
  expect(prompt['8']!.inputs).toEqual({ blur_radius: 5, sigma: 0.5, image: ['3', 0] })
  const contract = describeWorkflow(prompt, info026)
  expect(contract.inputs.map((i) => [i.name, i.type])).toEqual([
    ['image', 'IMAGE'],
    ['text', '*'],
  ])
  expect(contract.outputs.map((o) => o.type)).toEqual(['IMAGE', 'IMAGE', 'NOISE', '*'])
})

it('describes the API-format multi-input workflow with 0.26.0 types', () => {
  const contract = describeWorkflow(ownFixture('api-multi.json'), info026)
  expect(contract.inputs.map((i) => i.type)).toEqual(['IMAGE', '*', 'MASK'])
})

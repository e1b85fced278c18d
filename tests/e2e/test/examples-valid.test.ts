// The example files are self-consistent and a real ComfyUI would accept them: every prompt.json is
// checked against the /object_info recorded from ComfyUI 0.3.64 and 0.26.0.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { exampleNames, examplesDir, fixturesDir, readExample, readJson } from './support/paths.js'
import { type ApiPrompt, checkPrompt, type ObjectInfo } from './support/prompt-check.js'

const objectInfos: Record<string, ObjectInfo> = {
  '0.3.64': readJson(join(fixturesDir, 'comfyui-0.3.64', 'object_info.json')),
  '0.26.0': readJson(join(fixturesDir, 'comfyui-0.26.0', 'object_info.json')),
}

interface UiNode {
  id: number
  type: string
  inputs?: { name: string; link: number | null }[]
  outputs?: { name: string; links: number[] | null }[]
}
interface UiWorkflow {
  last_node_id: number
  last_link_id: number
  nodes: UiNode[]
  links: [number, number, number, number, number, string][]
}

describe.each(exampleNames)('example %s', (name) => {
  const prompt = readExample<ApiPrompt>(name, 'prompt.json')

  it.each(Object.keys(objectInfos))('prompt.json is valid for ComfyUI %s', (version) => {
    expect(checkPrompt(prompt, objectInfos[version]!)).toEqual([])
    expect(Object.values(prompt).some((n) => n.class_type === 'ComfyRemoteOutput')).toBe(true)
  })

  it('workflow.json links agree with the node slots', () => {
    const wf = readExample<UiWorkflow>(name, 'workflow.json')
    const byId = new Map(wf.nodes.map((n) => [n.id, n]))
    expect(Math.max(...wf.nodes.map((n) => n.id))).toBeLessThanOrEqual(wf.last_node_id)
    for (const [id, from, fromSlot, to, toSlot] of wf.links) {
      expect(id).toBeLessThanOrEqual(wf.last_link_id)
      expect(byId.get(from)?.outputs?.[fromSlot]?.links).toContain(id)
      expect(byId.get(to)?.inputs?.[toSlot]?.link).toBe(id)
    }
    const linkIds = new Set(wf.links.map((l) => l[0]))
    for (const node of wf.nodes) {
      for (const input of node.inputs ?? [])
        if (input.link !== null) expect(linkIds.has(input.link)).toBe(true)
    }
  })

  it('request.json names only Remote Inputs of the workflow', () => {
    const keys = Object.values(prompt)
      .filter((n) => n.class_type === 'ComfyRemoteInput')
      .map((n) => n.inputs.key)
    const request = readExample<{ inputs: Record<string, unknown> }>(name, 'request.json')
    expect(Object.keys(request.inputs).length).toBeGreaterThan(0)
    for (const key of Object.keys(request.inputs)) expect(keys).toContain(key)
  })
})

describe('the prompt checker', () => {
  it.each([
    ['value not in list', (p: ApiPrompt) => Object.assign(p['4']!.inputs, { channel: 'purple' })],
    ['value out of range', (p: ApiPrompt) => Object.assign(p['5']!.inputs, { value: 1.5 })],
    ['unknown class', (p: ApiPrompt) => Object.assign(p['4']!, { class_type: 'NoSuchNode' })],
    ['dangling link', (p: ApiPrompt) => Object.assign(p['5']!.inputs, { mask: ['99', 0] })],
    ['wrong link type', (p: ApiPrompt) => Object.assign(p['5']!.inputs, { mask: ['11', 0] })],
    ['missing input', (p: ApiPrompt) => delete p['4']!.inputs.channel],
  ])('rejects a prompt with a %s', (_label, spoil) => {
    const prompt = readExample<ApiPrompt>('multi-output', 'prompt.json')
    spoil(prompt)
    expect(checkPrompt(prompt, objectInfos['0.3.64']!).length).toBeGreaterThan(0)
  })
})

it('assets/sample.png is a 64x64 RGB PNG', () => {
  const png = readFileSync(join(examplesDir, 'assets', 'sample.png'))
  expect(png.subarray(1, 4).toString('latin1')).toBe('PNG')
  expect(png.subarray(12, 16).toString('latin1')).toBe('IHDR')
  expect([png.readUInt32BE(16), png.readUInt32BE(20), png[24], png[25]]).toEqual([64, 64, 8, 2])
})

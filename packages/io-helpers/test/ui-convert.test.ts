import { describe, expect, it } from 'vitest'
import { describeWorkflow } from '../src/describe.js'
import type { IoHelpersError } from '../src/errors.js'
import { REMOTE_NODES_OBJECT_INFO } from '../src/remote-nodes.js'
import { recordedObjectInfo } from '../src/testing/fixtures.js'
import { compareNodeIds } from '../src/types.js'
import { toApiPrompt, widgetSlots } from '../src/ui-convert.js'
import type { UiWorkflow } from '../src/ui-graph.js'
import { ownFixture } from './helpers.js'

const info = recordedObjectInfo()
const ui = ownFixture<UiWorkflow>('ui-remote.json')

function failure(fn: () => unknown): IoHelpersError {
  try {
    fn()
  } catch (error) {
    return error as IoHelpersError
  }
  throw new Error('expected an error')
}

describe('toApiPrompt', () => {
  const prompt = toApiPrompt(ui, info)

  it('drops muted, bypassed and virtual nodes (reroute, note, primitive)', () => {
    expect(Object.keys(prompt)).toEqual(['1', '2', '3', '6', '8', '10', '12', '13', '14', '15', '17'])
  })

  it('rewires consumers of a bypassed node through reroutes to its input of the same type', () => {
    expect(prompt['6']).toEqual({
      inputs: { key: 'image_out', value: ['3', 0] },
      class_type: 'ComfyRemoteOutput',
      _meta: { title: 'Image out' },
    })
  })

  it('puts a primitive node value into the widget input it feeds', () => {
    expect(prompt['8']!.inputs).toEqual({ blur_radius: 5, sigma: 0.5, image: ['3', 0] })
  })

  it('skips the hidden control-after-generate value and reads widgets in input order', () => {
    expect(prompt['12']!.inputs).toEqual({ noise_seed: 42 })
    expect(prompt['2']!.inputs).toEqual({ width: 64, height: 48, batch_size: 1, color: 0 })
  })

  it('leaves out inputs linked from muted nodes', () => {
    expect(prompt['17']).toEqual({
      inputs: {},
      class_type: 'PreviewImage',
      _meta: { title: 'Preview Image' },
    })
  })

  it('keeps Remote Input fallbacks and keys, so the contract can be read', () => {
    expect(describeWorkflow(prompt, info)).toEqual({
      inputs: [
        { name: 'image', nodeId: '1', type: 'IMAGE', required: false },
        { name: 'text', nodeId: '14', type: '*', required: true },
      ],
      outputs: [
        { name: 'image_out', nodeId: '6', type: 'IMAGE' },
        { name: 'blurred', nodeId: '10', type: 'IMAGE' },
        { name: 'noise', nodeId: '13', type: 'NOISE' },
        { name: 'echo', nodeId: '15', type: '*' },
      ],
    })
  })

  it('never mutates the workflow', () => {
    const copy = structuredClone(ui)
    toApiPrompt(copy, info)
    expect(copy).toEqual(ui)
  })

  it('handles a control value between widgets (KSampler seed)', () => {
    const ks: UiWorkflow = {
      nodes: [
        {
          id: 3,
          type: 'KSampler',
          mode: 0,
          inputs: [],
          widgets_values: [156680208700286, 'randomize', 20, 8, 'euler', 'normal', 1],
        },
      ],
      links: [],
    }
    expect(toApiPrompt(ks, info)['3']!.inputs).toEqual({
      seed: 156680208700286,
      steps: 20,
      cfg: 8,
      sampler_name: 'euler',
      scheduler: 'normal',
      denoise: 1,
    })
  })

  it('keeps the original widget order of the comfy-remote nodes (payload is not a widget)', () => {
    const names = (cls: string) => widgetSlots(REMOTE_NODES_OBJECT_INFO[cls]!).map((s) => s.name)
    expect(names('ComfyRemoteInput')).toEqual(['key'])
    expect(names('ComfyRemoteOutput')).toEqual(['key'])
    expect(names('ComfyRemoteNode').slice(0, 3)).toEqual(['url', 'request_timeout', 'poll_interval'])
    expect(names('ComfyRemoteModalDeployment')).toEqual([
      'workflow_path',
      'deploy',
      'app_name',
      'working_directory',
      'extra_pip_requirements',
      'extra_system_packages',
      'gpu_type',
      'dry_run',
      'clean_build',
      'rebuild_modal_app',
      'delete_modal_app',
    ])
  })

  it('reads the widget slots of the comfy-remote nodes without a server entry', () => {
    expect(widgetSlots(info.KSampler!).map((s) => [s.name, s.control])[0]).toEqual(['seed', true])
    const plain = toApiPrompt(
      { nodes: [{ id: 1, type: 'ComfyRemoteOutput', widgets_values: ['out'] }], links: [] },
      {},
    )
    expect(plain['1']!.inputs).toEqual({ key: 'out' })
  })

  it.each([
    [
      'a subgraph without its definition',
      ownFixture<UiWorkflow>('ui-subgraph.json'),
      'UNSUPPORTED_UI_NODE',
      '2',
    ],
    ['an unknown class', { nodes: [{ id: 4, type: 'NoSuchNode' }], links: [] }, 'UNSUPPORTED_UI_NODE', '4'],
    [
      'a group node',
      { nodes: [{ id: 9, type: 'workflow>My group' }], links: [] },
      'UNSUPPORTED_UI_NODE',
      '9',
    ],
  ])('rejects %s naming the node and pointing at Export (API)', (_what, workflow, code, nodeId) => {
    const error = failure(() => toApiPrompt(workflow as UiWorkflow, info))
    expect(error.code).toBe(code)
    expect(error.nodeIds).toEqual([nodeId])
    expect(error.message).toContain('Export (API)')
  })

  it('rejects malformed structure with INVALID_WORKFLOW', () => {
    expect(failure(() => toApiPrompt({ nodes: 'x' } as never, info)).code).toBe('INVALID_WORKFLOW')
    expect(failure(() => toApiPrompt({ nodes: [], links: [[1, 2]] }, info)).code).toBe('INVALID_WORKFLOW')
  })
})

describe('toApiPrompt with subgraphs', () => {
  const prompt = toApiPrompt(ownFixture<UiWorkflow>('ui-subgraph-remote.json'), info)

  it('flattens subgraph instances with "<instance>:<inner>" ids, links crossing both boundaries', () => {
    expect(prompt).toEqual({
      1: { inputs: { key: 'image' }, class_type: 'ComfyRemoteInput', _meta: { title: 'Remote Input' } },
      '2:5': { inputs: { image: ['1', 0] }, class_type: 'ImageInvert', _meta: { title: 'Invert Image' } },
      '2:6': {
        inputs: { blur_radius: 7, sigma: 1, image: ['2:5', 0] },
        class_type: 'ImageBlur',
        _meta: { title: 'ImageBlur' },
      },
      3: {
        inputs: { key: 'blurred', value: ['2:6', 0] },
        class_type: 'ComfyRemoteOutput',
        _meta: { title: 'Remote Output' },
      },
      5: {
        inputs: { key: 'bypassed', value: ['1', 0] },
        class_type: 'ComfyRemoteOutput',
        _meta: { title: 'Remote Output' },
      },
    })
    expect(Object.keys(prompt).sort(compareNodeIds)).toEqual(['1', '2:5', '2:6', '3', '5'])
  })

  it('describes the flattened contract with types from inside the subgraph', () => {
    expect(describeWorkflow(prompt, info).outputs).toEqual([
      { name: 'blurred', nodeId: '3', type: 'IMAGE' },
      { name: 'bypassed', nodeId: '5', type: 'IMAGE' },
    ])
  })
})

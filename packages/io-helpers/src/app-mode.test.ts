import { decodePng, encodeNpy } from '@comfy-remote/protocol'
import type { ComfyApp } from '@comfyorg/comfyui-frontend-types'
import { describe, expect, it } from 'vitest'
import { appModeOf } from './app-mode.js'
import { resolveFileRefs } from './app-mode-collect.js'
import { appModeUploads, uploadAppModeInputs } from './app-mode-upload.js'
import { collectOutputs } from './collect.js'
import { describeWorkflow } from './describe.js'
import { isIoHelpersError } from './errors.js'
import { injectInputs } from './inject.js'
import { appModeFixture } from './testing/app-mode-fixtures.js'
import { recordedObjectInfo } from './testing/fixtures.js'
import type { ApiPrompt, EncodedValue } from './types.js'
import { toApiPrompt } from './ui-convert.js'
import type { UiWorkflow } from './ui-graph.js'

/** The frontend's own type of `extra.linearData` (@comfyorg/comfyui-frontend-types, the reference shape). */
type FrontendWorkflow = NonNullable<Parameters<ComfyApp['loadGraphData']>[0]>
type FrontendLinearData = NonNullable<NonNullable<FrontendWorkflow['extra']>['linearData']>

const info = recordedObjectInfo()
const ROOT = '2b7f6c1a-4d3e-4f5a-9b8c-7d6e5f4a3b2c'
const SG = '9b1c0d2e-5a4f-4c3b-8e7d-0000000000a1'

function convert(workflow: UiWorkflow): { prompt: ApiPrompt; warnings: string[] } {
  const warnings: string[] = []
  return { prompt: toApiPrompt(workflow, info, { onWarning: (m) => warnings.push(m) }), warnings }
}

function withLinearData(workflow: UiWorkflow, linearData: FrontendLinearData): UiWorkflow {
  return { ...workflow, extra: { ...workflow.extra, linearData } }
}

function errorOf(fn: () => unknown): { code: string; message: string; problems: string[] } {
  try {
    fn()
  } catch (error) {
    if (isIoHelpersError(error)) return { code: error.code, message: error.message, problems: error.problems }
    throw error
  }
  throw new Error('expected an error')
}

const json = (type: string, data: unknown): EncodedValue => ({ type, encoding: 'json', data })

describe('App Mode: describeWorkflow', () => {
  for (const name of ['invert-node-ids', 'invert-widget-ids'] as const) {
    it(`${name}: inputs in the user's order with widget names, types, defaults, description; output by node`, () => {
      const { prompt, warnings } = convert(appModeFixture(name))
      expect(describeWorkflow(prompt, info)).toEqual({
        inputs: [
          {
            name: 'image',
            nodeId: '1',
            type: 'IMAGE',
            required: false,
            source: 'app',
            input: 'image',
            default: 'example.png',
            description: 'The image to invert',
          },
          {
            name: 'filename_prefix',
            nodeId: '3',
            type: 'STRING',
            required: false,
            source: 'app',
            input: 'filename_prefix',
            default: 'inverted',
          },
        ],
        outputs: [{ name: 'images', nodeId: '3', type: 'IMAGE', source: 'app' }],
      })
      expect(warnings).toHaveLength(1)
      expect(warnings[0]).toMatch(/App Mode input 2 .*"seed".*node 42 is not in the workflow.*skipped/)
    })
  }

  it('subgraph: a promoted widget stored by its inner node id, a locator of an inner widget; stale entries skipped', () => {
    const { prompt, warnings } = convert(appModeFixture('subgraph-promoted'))
    const d = describeWorkflow(prompt, info)
    expect(d.inputs.map((i) => [i.name, i.nodeId, i.input, i.type, i.default, i.description])).toEqual([
      ['image', '1', 'image', 'IMAGE', 'example.png', undefined],
      ['blur_radius', '5:2', 'blur_radius', 'INT', 4, 'Blur radius in pixels'],
      ['sigma', '5:2', 'sigma', 'FLOAT', 1.5, undefined],
    ])
    expect(d.outputs).toEqual([{ name: 'images', nodeId: '3', type: 'IMAGE', source: 'app' }])
    expect(warnings.join('\n')).toMatch(/input 3 .*node 9 is not in the workflow/)
    expect(warnings.join('\n')).toMatch(/output 1 \("77"\).*not in the workflow/)
  })

  it('subgraph: the widget id of the subgraph node and the host-locator form reach the same inner widget', () => {
    for (const id of [`${ROOT}:5:blur_radius`, `${SG}:5`]) {
      const workflow = withLinearData(appModeFixture('subgraph-promoted'), {
        inputs: [[id, 'blur_radius']],
        outputs: ['3'],
      })
      const { prompt, warnings } = convert(workflow)
      expect(warnings).toEqual([])
      expect(appModeOf(prompt).inputs).toEqual([
        { name: 'blur_radius', order: 0, type: 'INT', targets: [{ nodeId: '5:2', input: 'blur_radius' }] },
      ])
    }
  })

  it('names are unique and stable: a repeated widget name gets the node id; combos list their choices', () => {
    const workflow: UiWorkflow = {
      id: ROOT,
      nodes: [
        { id: 1, type: 'LoadImage', widgets_values: ['example.png', 'image'] },
        {
          id: 2,
          type: 'ImageScale',
          inputs: [{ name: 'image', type: 'IMAGE', link: 1 }],
          widgets_values: ['bilinear', 64, 48, 'center'],
        },
        {
          id: 3,
          type: 'ImageScale',
          inputs: [{ name: 'image', type: 'IMAGE', link: 2 }],
          widgets_values: ['nearest-exact', 32, 24, 'disabled'],
        },
        { id: 4, type: 'PreviewImage', inputs: [{ name: 'images', type: 'IMAGE', link: 3 }] },
        {
          id: 5,
          type: 'SaveImage',
          inputs: [{ name: 'images', type: 'IMAGE', link: 4 }],
          widgets_values: ['x'],
        },
      ],
      links: [
        [1, 1, 0, 2, 0, 'IMAGE'],
        [2, 2, 0, 3, 0, 'IMAGE'],
        [3, 3, 0, 4, 0, 'IMAGE'],
        [4, 3, 0, 5, 0, 'IMAGE'],
      ],
      extra: {
        linearData: {
          inputs: [
            [2, 'width'],
            [3, 'width'],
            [2, 'upscale_method'],
            [2, 'width'],
          ],
          outputs: [4, '5'],
        } satisfies FrontendLinearData,
      },
    }
    const { prompt, warnings } = convert(workflow)
    const d = describeWorkflow(prompt, info)
    expect(d.inputs.map((i) => i.name)).toEqual(['width_2', 'width_3', 'upscale_method'])
    expect(d.inputs[2]!.choices).toEqual(['nearest-exact', 'bilinear', 'area', 'bicubic', 'lanczos'])
    expect(d.outputs.map((o) => [o.name, o.nodeId])).toEqual([
      ['images_4', '4'],
      ['images_5', '5'],
    ])
    expect(warnings).toEqual([expect.stringMatching(/input 3 .*repeats an earlier input/)])
    // converting again gives the same names
    expect(describeWorkflow(convert(workflow).prompt, info)).toEqual(d)
  })

  it('a workflow with Remote nodes and App Mode marks has both; a clash is a clear error', () => {
    const workflow: UiWorkflow = {
      nodes: [
        {
          id: 1,
          type: 'ComfyRemoteInput',
          outputs: [{ name: 'Value', type: '*', links: [1] }],
          widgets_values: ['photo'],
        },
        { id: 2, type: 'ImageInvert', inputs: [{ name: 'image', type: 'IMAGE', link: 1 }] },
        {
          id: 3,
          type: 'SaveImage',
          inputs: [{ name: 'images', type: 'IMAGE', link: 2 }],
          widgets_values: ['out'],
        },
      ],
      links: [
        [1, 1, 0, 2, 0, 'IMAGE'],
        [2, 2, 0, 3, 0, 'IMAGE'],
      ],
      extra: { linearData: { inputs: [[3, 'filename_prefix']], outputs: [3] } },
    }
    const both = describeWorkflow(convert(workflow).prompt, info)
    expect(both.inputs.map((i) => [i.name, i.source])).toEqual([
      ['photo', undefined],
      ['filename_prefix', 'app'],
    ])
    expect(both.outputs.map((o) => o.name)).toEqual(['images'])
    const clash = structuredClone(workflow)
    clash.nodes[0]!.widgets_values = ['filename_prefix']
    const error = errorOf(() => describeWorkflow(convert(clash).prompt, info))
    expect(error.code).toBe('DUPLICATE_NAME')
    expect(error.message).toMatch(
      /App Mode input "filename_prefix" \(node 3\) has the name of the Remote Input key of node 1: rename the Remote Input key, or remove the App Mode mark/,
    )
  })

  it('a workflow without linearData is unchanged (no _meta marks)', () => {
    const workflow = appModeFixture('invert-node-ids')
    delete (workflow.extra as Record<string, unknown>).linearData
    const { prompt } = convert(workflow)
    expect(JSON.stringify(prompt)).not.toMatch(/comfy_remote_app/)
    expect(describeWorkflow(prompt, info)).toEqual({ inputs: [], outputs: [] })
  })
})

describe('App Mode: injectInputs', () => {
  const { prompt } = convert(appModeFixture('subgraph-promoted'))

  it('sets widget values in the API prompt (inner node of a subgraph too) and keeps the rest', () => {
    const next = injectInputs(
      prompt,
      { blur_radius: json('INT', 9), sigma: json('FLOAT', 0.5) },
      { objectInfo: info },
    )
    expect(next['5:2']!.inputs).toMatchObject({ blur_radius: 9, sigma: 0.5, image: ['5:1', 0] })
    expect(next['1']!.inputs.image).toBe('example.png')
    expect(prompt['5:2']!.inputs.blur_radius).toBe(4)
  })

  it('an upload widget takes the uploaded file name, or a json string naming a file ComfyUI has', () => {
    const png: EncodedValue = { type: 'IMAGE', encoding: 'png', data: new Uint8Array([1, 2, 3]) }
    const uploaded = injectInputs(prompt, { image: png }, { uploaded: { image: 'comfy_remote/cr-j-0.png' } })
    expect(uploaded['1']!.inputs.image).toBe('comfy_remote/cr-j-0.png')
    expect(injectInputs(prompt, { image: json('STRING', 'other.png') })['1']!.inputs.image).toBe('other.png')
    const error = errorOf(() => injectInputs(prompt, { image: png }))
    expect(error.message).toMatch(
      /inputs\.image: the IMAGE for node 1 \(LoadImage\) must be uploaded to ComfyUI first/,
    )
  })

  it('rejects wrong values all at once, naming each input', () => {
    const error = errorOf(() =>
      injectInputs(
        prompt,
        { blur_radius: json('INT', 2.5), sigma: json('FLOAT', 'big'), nope: json('INT', 1) },
        { objectInfo: info },
      ),
    )
    expect(error.code).toBe('INVALID_INPUTS')
    expect(error.problems).toEqual([
      expect.stringMatching(
        /^inputs\.nope: no Remote Input or App Mode input has this name \(known: "image", "blur_radius", "sigma"\)/,
      ),
      expect.stringMatching(
        /^inputs\.blur_radius: App Mode input "blur_radius" \(node 5:2\) expects an integer, got 2\.5/,
      ),
      expect.stringMatching(/^inputs\.sigma: .*expects a number, got "big"/),
    ])
  })

  it('a combo takes one of its choices only', () => {
    const workflow: UiWorkflow = {
      nodes: [
        { id: 1, type: 'LoadImage', widgets_values: ['example.png', 'image'] },
        {
          id: 2,
          type: 'ImageScale',
          inputs: [{ name: 'image', type: 'IMAGE', link: 1 }],
          widgets_values: ['bilinear', 64, 48, 'center'],
        },
        {
          id: 3,
          type: 'SaveImage',
          inputs: [{ name: 'images', type: 'IMAGE', link: 2 }],
          widgets_values: ['x'],
        },
      ],
      links: [
        [1, 1, 0, 2, 0, 'IMAGE'],
        [2, 2, 0, 3, 0, 'IMAGE'],
      ],
      extra: { linearData: { inputs: [[2, 'upscale_method']], outputs: [3] } },
    }
    const scaled = convert(workflow).prompt
    expect(
      injectInputs(scaled, { upscale_method: json('COMBO', 'area') }, { objectInfo: info })['2']!.inputs
        .upscale_method,
    ).toBe('area')
    expect(
      errorOf(() => injectInputs(scaled, { upscale_method: json('COMBO', 'fancy') }, { objectInfo: info }))
        .message,
    ).toMatch(
      /inputs\.upscale_method: .*expects one of "nearest-exact", "bilinear", "area", "bicubic", "lanczos", got "fancy"/,
    )
  })
})

describe('App Mode: uploads', () => {
  const { prompt } = convert(appModeFixture('invert-node-ids'))

  it('png bytes go as they are; an npy IMAGE becomes a PNG; files are named <prefix>-<n>.<ext>', async () => {
    const npy = encodeNpy({ dtype: 'float32', shape: [1, 2, 3, 3], data: new Float32Array(18).fill(0.5) })
    const files = appModeUploads(prompt, { image: { type: 'IMAGE', encoding: 'npy', data: npy } }, 'cr-job1')
    expect(files.map((f) => [f.name, f.kind, f.filename, f.mime])).toEqual([
      ['image', 'image', 'cr-job1-0.png', 'image/png'],
    ])
    const decoded = decodePng(files[0]!.bytes)
    expect(decoded.shape).toEqual([1, 2, 3, 3])
    const seen: string[] = []
    const uploaded = await uploadAppModeInputs(
      prompt,
      { image: { type: 'IMAGE', encoding: 'png', data: 'iVBORw0KGgo=' } },
      'cr-job2',
      async (file) => {
        seen.push(`${file.filename}:${file.bytes.byteLength}`)
        return `comfy_remote/${file.filename}`
      },
    )
    expect(seen).toEqual(['cr-job2-0.png:8'])
    expect(uploaded).toEqual({ image: 'comfy_remote/cr-job2-0.png' })
    expect(appModeUploads(prompt, { image: json('STRING', 'example.png') }, 'x')).toEqual([])
  })

  it('an IMAGE batch cannot go into one LoadImage', () => {
    const npy = encodeNpy({ dtype: 'float32', shape: [2, 2, 2, 3], data: new Float32Array(24) })
    expect(() =>
      appModeUploads(prompt, { image: { type: 'IMAGE', encoding: 'npy', data: npy } }, 'x'),
    ).toThrow(/inputs\.image: an image widget loads one image, got a batch of 2/)
  })
})

describe('App Mode: collectOutputs', () => {
  const { prompt } = convert(appModeFixture('invert-widget-ids'))
  const file = (filename: string, type = 'output') => ({ filename, subfolder: '', type })

  it('an output node saving one PNG gives an IMAGE png whose bytes are still in ComfyUI', async () => {
    const entry = {
      outputs: { '3': { images: [file('inverted_00001_.png')] } },
      status: { status_str: 'success' },
    }
    const values = collectOutputs(prompt, entry)
    expect(values).toEqual({
      images: {
        type: 'IMAGE',
        encoding: 'png',
        data: { file: { filename: 'inverted_00001_.png', subfolder: '', type: 'output' } },
      },
    })
    const read: string[] = []
    const resolved = await resolveFileRefs(values, async (ref) => {
      read.push(`${ref.type}/${ref.filename}`)
      return new Uint8Array([7, 7])
    })
    expect(read).toEqual(['output/inverted_00001_.png'])
    expect(resolved.images!.data).toEqual(new Uint8Array([7, 7]))
  })

  it('several files are a list; video and audio are file values', () => {
    const entry = {
      outputs: {
        '3': {
          images: [file('a.png'), file('b.png')],
        },
      },
    }
    const values = collectOutputs(prompt, entry)
    expect(values.images).toMatchObject({ type: 'IMAGE', encoding: 'list' })
    expect((values.images!.data as EncodedValue[]).map((v) => v.encoding)).toEqual(['png', 'png'])
    const video = collectOutputs(prompt, {
      outputs: { '3': { images: [file('clip.mp4')], animated: [true] } },
    })
    expect(video.images).toMatchObject({
      type: 'VIDEO',
      encoding: 'file',
      mime: 'video/mp4',
      filename: 'clip.mp4',
    })
    const audio = collectOutputs(prompt, { outputs: { '3': { audio: [file('a.flac', 'temp')] } } })
    expect(audio.images).toMatchObject({ type: 'AUDIO', encoding: 'file', mime: 'audio/flac' })
  })

  it('an output node that saved nothing is OUTPUT_NOT_PRODUCED naming it', () => {
    const error = errorOf(() => collectOutputs(prompt, { outputs: {} }))
    expect(error.code).toBe('OUTPUT_NOT_PRODUCED')
    expect(error.message).toMatch(/App Mode output "images" \(node 3, SaveImage\) produced no file/)
  })
})

import { decodePng, encodePng } from '@comfy-remote/protocol'
import {
  DEFAULT_OUTPUT_KEY,
  REMOTE_INPUT_CLASS,
  REMOTE_OUTPUT_CLASS,
  REMOTE_OUTPUT_UI_KEY,
} from '../remote-nodes.js'
import type { ApiNode, EncodedValue } from '../types.js'
import { isLink, isRecord } from '../types.js'
import type { FileStore } from './files.js'
import { readFixtureBytes } from './fixtures.js'
import type { RecordedFailure } from './recordings.js'
import { recordedFailure } from './recordings.js'
import { RemoteFileError, resolveRemoteInputFiles, writeRemoteOutputFiles } from './remote-files.js'

/** A node raised: becomes `execution_error`. */
export class NodeFailure extends Error {
  constructor(readonly failure: RecordedFailure) {
    super(failure.exception_message)
  }
}

export interface NodeRun {
  id: string
  node: ApiNode
  /** Values of the linked inputs, by input name. */
  linked: Record<string, EncodedValue>
  /** The ComfyUI type of output 0 (from object_info). */
  outputType: string
  files: FileStore
  /** UI output recorded for this node in an identical recorded prompt. */
  recordedUi?: Record<string, unknown>
  counter: () => number
}

export interface NodeResult {
  value: EncodedValue
  ui?: Record<string, unknown>
}

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47]
let viewPng: Uint8Array | undefined
const samplePng = () => {
  viewPng ??= readFixtureBytes('success/view-output.png')
  return viewPng
}

/**
 * How real ComfyUI (0.3.64 and 0.26.0) names an exception class of the comfy-remote node pack: it loads a
 * custom node package as a module named by its folder PATH (nodes.py load_custom_node,
 * `module_path.replace(".", "_x_")`), and execution.py's full_type_name puts that module in
 * `exception_type`. Workers must not pass the server path on (docs/protocol.md section 4).
 */
export const REMOTE_NODES_MODULE = '/srv/ComfyUI/custom_nodes/comfy-remote.comfy_remote.errors'

function fail(message: string, type = 'ValueError'): never {
  throw new NodeFailure({ exception_message: `${message}\n`, exception_type: type, traceback: [] })
}

function literals(node: ApiNode): Record<string, unknown> {
  return Object.fromEntries(Object.entries(node.inputs ?? {}).filter(([, v]) => !isLink(v)))
}

/** A Remote node's key: typed in, or the value of the (primitive) node linked to it. */
function keyOf(run: NodeRun, fallback: string): string {
  const key = literals(run.node).key ?? run.linked.key?.data
  return typeof key === 'string' && key !== '' ? key : fallback
}

function remoteInput(run: NodeRun): NodeResult {
  const inputs = literals(run.node)
  const key = keyOf(run, 'payload')
  if (typeof inputs.payload === 'string' && inputs.payload !== '') {
    let parsed: EncodedValue
    try {
      parsed = JSON.parse(inputs.payload) as EncodedValue
    } catch {
      fail(
        `Remote Input '${key}': payload is not JSON text of an encoded value`,
        `${REMOTE_NODES_MODULE}.CodecError`,
      )
    }
    try {
      return { value: resolveRemoteInputFiles(run.files, parsed, `payload of Remote Input '${key}'`) }
    } catch (error) {
      if (error instanceof RemoteFileError) fail(error.message, `${REMOTE_NODES_MODULE}.CodecError`)
      throw error
    }
  }
  if (run.linked.fallback) return { value: run.linked.fallback }
  if ('fallback' in inputs && inputs.fallback !== null)
    return { value: { type: '*', encoding: 'json', data: inputs.fallback } }
  return fail(
    `Remote Input '${key}' received no payload and has no fallback connected`,
    `${REMOTE_NODES_MODULE}.RemoteInputMissingError`,
  )
}

function images(run: NodeRun, type: 'output' | 'temp'): NodeResult {
  const value = Object.values(run.linked)[0] ?? { type: 'IMAGE', encoding: 'json', data: null }
  const recorded = run.recordedUi?.images
  const list = Array.isArray(recorded)
    ? (recorded as Array<{ filename: string; subfolder: string; type: string }>)
    : [
        {
          filename:
            type === 'output'
              ? `${String(literals(run.node).filename_prefix ?? 'ComfyUI')}_${String(run.counter()).padStart(5, '0')}_.png`
              : `ComfyUI_temp_fakec_${String(run.counter()).padStart(5, '0')}_.png`,
          subfolder: '',
          type,
        },
      ]
  // Without a recording, save the image that reached the node when it is a PNG (LoadImage -> ... -> SaveImage).
  const own = !Array.isArray(recorded) && value.encoding === 'png' && typeof value.data === 'string'
  const bytes = own ? new Uint8Array(Buffer.from(value.data as string, 'base64')) : samplePng()
  for (const image of list) run.files.put(image.type, image.subfolder, image.filename, bytes)
  return { value, ui: { images: list } }
}

function loadImage(run: NodeRun): NodeResult {
  const name = String(literals(run.node).image)
  const file = run.files.inputFile(name)
  if (!file || !PNG_MAGIC.every((b, i) => file.bytes[i] === b)) {
    const recorded = recordedFailure('loadimage-ws.jsonl')
    throw new NodeFailure({
      ...recorded,
      exception_message: recorded.exception_message.replace('wire-corrupt.png', name),
    })
  }
  return { value: { type: 'IMAGE', encoding: 'png', data: Buffer.from(file.bytes).toString('base64') } }
}

/** ImageInvert on a readable PNG value (what LoadImage yields here): 1 - x per channel, for real. */
function invertImage(run: NodeRun): NodeResult {
  const value = run.linked.image
  if (value?.encoding !== 'png' || typeof value.data !== 'string') return passThrough(run)
  let array: ReturnType<typeof decodePng>
  try {
    array = decodePng(new Uint8Array(Buffer.from(value.data, 'base64')))
  } catch {
    return passThrough(run) // not an image (values made up by tests travel through unchanged)
  }
  const data = Float32Array.from(array.data as ArrayLike<number>, (x) => 1 - x)
  const { bytes } = encodePng({ ...array, dtype: 'float32', data }, 'IMAGE')
  return { value: { type: 'IMAGE', encoding: 'png', data: Buffer.from(bytes).toString('base64') } }
}

function regexReplace(run: NodeRun): NodeResult {
  const pattern = String(literals(run.node).regex_pattern ?? '')
  try {
    new RegExp(pattern)
  } catch {
    throw new NodeFailure(recordedFailure('ws.jsonl'))
  }
  return passThrough(run)
}

function passThrough(run: NodeRun): NodeResult {
  const first = Object.values(run.linked)[0]
  if (first) return { value: first }
  const literal = Object.values(literals(run.node))[0]
  return { value: { type: run.outputType, encoding: 'json', data: literal ?? null } }
}

/** What the fake runs for one node: Remote nodes for real, a few core nodes by shape, others pass through. */
export function runNode(run: NodeRun): NodeResult {
  switch (run.node.class_type) {
    case REMOTE_INPUT_CLASS:
      return remoteInput(run)
    case REMOTE_OUTPUT_CLASS: {
      const value = run.linked.value ?? fail('Remote Output has no value connected')
      const name = keyOf(run, DEFAULT_OUTPUT_KEY)
      const reported = writeRemoteOutputFiles(run.files, value)
      return { value, ui: { [REMOTE_OUTPUT_UI_KEY]: [{ name, value: reported }] } }
    }
    case 'SaveImage':
      return images(run, 'output')
    case 'PreviewImage':
      return images(run, 'temp')
    case 'LoadImage':
      return loadImage(run)
    case 'ImageInvert':
      return invertImage(run)
    case 'RegexReplace':
      return regexReplace(run)
    case 'PreviewAny': {
      const result = passThrough(run)
      const data = isRecord(result.value) ? result.value.data : result.value
      const text = run.recordedUi?.text ?? [typeof data === 'string' ? data : JSON.stringify(data)]
      return { value: result.value, ui: { text } }
    }
    default:
      return passThrough(run)
  }
}

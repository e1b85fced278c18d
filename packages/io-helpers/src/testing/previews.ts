import type { ApiNode, ApiPrompt } from '../types.js'
import { isLink } from '../types.js'
import { encodeBinaryFrame } from '../ws-frames.js'
import { readFixtureBytes } from './fixtures.js'
import { pyJsonDumps } from './py-json.js'
import type { FakeState } from './state.js'

let previewPng: Uint8Array | undefined
/** The PNG SaveImageWebsocket sent in the recording (32x24), reused for every preview. */
function recordedPreview(): Uint8Array {
  previewPng ??= readFixtureBytes('ws-preview/legacy-frame-0.bin').subarray(8)
  return previewPng
}

/** Batch size of the image a node receives: the `batch_size` of the node that made it, else 1. */
export function batchSize(prompt: ApiPrompt, node: ApiNode, depth = 0): number {
  const link = Object.values(node.inputs ?? {}).find(isLink)
  const source = link ? prompt[String(link[0])] : undefined
  if (!source || depth > 32) return 1
  const size = source.inputs?.batch_size
  return typeof size === 'number' && size > 0 ? size : batchSize(prompt, source, depth + 1)
}

/**
 * One SaveImageWebsocket image, as recorded: a client that sent feature flags gets a type-4 frame
 * (metadata + PNG) and then `progress`; a legacy client gets `progress` and then a type-1 frame.
 */
export function sendPreview(
  state: FakeState,
  sid: string | undefined,
  at: { promptId: string; nodeId: string; index: number; count: number },
): void {
  const progress = { value: at.index, max: at.count, prompt_id: at.promptId, node: at.nodeId }
  const metadata = {
    node_id: at.nodeId,
    prompt_id: at.promptId,
    display_node_id: at.nodeId,
    parent_node_id: null,
    real_node_id: at.nodeId,
    image_type: 'image/png',
  }
  const image = recordedPreview()
  if (state.hub.wantsMetadata(sid)) {
    // Metadata as Python's json.dumps writes it, so frames are byte-identical to the recording.
    const meta = new TextEncoder().encode(pyJsonDumps(metadata))
    const payload = new Uint8Array(4 + meta.byteLength + image.byteLength)
    new DataView(payload.buffer).setUint32(0, meta.byteLength)
    payload.set(meta, 4)
    payload.set(image, 4 + meta.byteLength)
    state.hub.sendBinary(sid, () => encodeBinaryFrame({ eventType: 4, payload }))
    state.hub.send(sid, 'progress', progress)
  } else {
    state.hub.send(sid, 'progress', progress)
    state.hub.sendBinary(sid, () => encodeBinaryFrame({ eventType: 1, imageFormat: 'png', image }))
  }
}

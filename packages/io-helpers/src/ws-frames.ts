import { IoHelpersError } from './errors.js'

/** ComfyUI binary websocket event types (4-byte big-endian prefix of every binary frame). */
export const BINARY_EVENT = {
  PREVIEW_IMAGE: 1,
  UNENCODED_PREVIEW_IMAGE: 2,
  TEXT: 3,
  PREVIEW_IMAGE_WITH_METADATA: 4,
} as const

export type BinaryFrame =
  | { eventType: 1; imageFormat: 'jpeg' | 'png'; image: Uint8Array }
  | { eventType: 3; nodeId: string; text: string }
  | { eventType: 4; metadata: Record<string, unknown>; image: Uint8Array }
  | { eventType: number; payload: Uint8Array }

function u32(value: number): Uint8Array {
  const out = new Uint8Array(4)
  new DataView(out.buffer).setUint32(0, value)
  return out
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0))
  let offset = 0
  for (const part of parts) {
    out.set(part, offset)
    offset += part.byteLength
  }
  return out
}

/** Bytes of a binary frame as ComfyUI 0.3.64 sends it. */
export function encodeBinaryFrame(frame: BinaryFrame): Uint8Array {
  const enc = new TextEncoder()
  if (frame.eventType === 3 && 'text' in frame) {
    const id = enc.encode(frame.nodeId)
    return concat([u32(3), u32(id.byteLength), id, enc.encode(frame.text)])
  }
  if (frame.eventType === 1 && 'imageFormat' in frame) {
    return concat([u32(1), u32(frame.imageFormat === 'png' ? 2 : 1), frame.image])
  }
  if (frame.eventType === 4 && 'metadata' in frame) {
    const meta = enc.encode(JSON.stringify(frame.metadata))
    return concat([u32(4), u32(meta.byteLength), meta, frame.image])
  }
  if ('payload' in frame) return concat([u32(frame.eventType), frame.payload])
  throw new IoHelpersError('INVALID_FRAME', `Binary frame of type ${frame.eventType} lacks its fields`)
}

/** Decode a binary websocket frame (types 1, 3 and 4 structurally; others as raw payload). */
export function decodeBinaryFrame(bytes: Uint8Array): BinaryFrame {
  if (bytes.byteLength < 4)
    throw new IoHelpersError('INVALID_FRAME', 'Binary frame shorter than its 4-byte type')
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const eventType = view.getUint32(0)
  const body = bytes.subarray(4)
  const need = (n: number) => {
    if (body.byteLength < n)
      throw new IoHelpersError('INVALID_FRAME', `Binary frame type ${eventType} is truncated`)
  }
  if (eventType === 3 || eventType === 4) {
    need(4)
    const len = view.getUint32(4)
    need(4 + len)
    const head = new TextDecoder().decode(body.subarray(4, 4 + len))
    const rest = body.subarray(4 + len)
    if (eventType === 3) return { eventType, nodeId: head, text: new TextDecoder().decode(rest) }
    let metadata: unknown
    try {
      metadata = JSON.parse(head)
    } catch (cause) {
      throw new IoHelpersError('INVALID_FRAME', 'Binary frame type 4 has metadata that is not JSON', {
        cause,
      })
    }
    return { eventType, metadata: metadata as Record<string, unknown>, image: rest }
  }
  if (eventType === 1) {
    need(4)
    return { eventType, imageFormat: view.getUint32(4) === 2 ? 'png' : 'jpeg', image: body.subarray(4) }
  }
  return { eventType, payload: body }
}

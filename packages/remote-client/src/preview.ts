import { base64ToBytes } from '@comfy-remote/protocol'
import type { PreviewInfo } from './follow.js'

export type { PreviewInfo }

/** The data of an SSE `preview` event `{node, class_type, mime, data: base64}`, else undefined. */
export function readPreview(text: string): PreviewInfo | undefined {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch {
    return undefined
  }
  if (typeof raw !== 'object' || raw === null) return undefined
  const { node, class_type: classType, mime, data } = raw as Record<string, unknown>
  if (typeof mime !== 'string' || !mime.startsWith('image/') || typeof data !== 'string') return undefined
  let bytes: Uint8Array
  try {
    bytes = base64ToBytes(data)
  } catch {
    return undefined
  }
  const out: PreviewInfo = { mime, data: bytes }
  if (typeof node === 'string') out.node = node
  if (typeof classType === 'string') out.classType = classType
  return out
}

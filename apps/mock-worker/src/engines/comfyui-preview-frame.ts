/** A preview image from a ComfyUI binary websocket frame. */
export interface PreviewFrame {
  mime: string
  image: Uint8Array
  /** Type-4 frames name the node and prompt; type-1 frames belong to the running prompt's node. */
  node?: string
  promptId?: string
}

const MIME: Record<number, string> = { 1: 'image/jpeg', 2: 'image/png' }

/**
 * Reads a PREVIEW_IMAGE frame: type 1 `[u32 1][u32 format 1=JPEG 2=PNG][image]` (clients that sent no
 * feature flags) or type 4 `[u32 4][u32 metadata length][metadata JSON {node_id, prompt_id,
 * display_node_id, image_type, ...}][image]` (clients that announced supports_preview_metadata).
 * Anything else (text frames, unencoded previews, broken frames) is undefined.
 */
export function readPreviewFrame(raw: Uint8Array): PreviewFrame | undefined {
  if (raw.byteLength < 8) return undefined
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength)
  const type = view.getUint32(0)
  if (type === 1) {
    const mime = MIME[view.getUint32(4)]
    const image = raw.subarray(8)
    return mime === undefined || image.byteLength === 0 ? undefined : { mime, image }
  }
  if (type !== 4) return undefined
  const len = view.getUint32(4)
  if (8 + len >= raw.byteLength) return undefined
  let meta: Record<string, unknown>
  try {
    meta = JSON.parse(new TextDecoder().decode(raw.subarray(8, 8 + len))) as Record<string, unknown>
  } catch {
    return undefined
  }
  if (typeof meta !== 'object' || meta === null) return undefined
  const mime =
    typeof meta.image_type === 'string' && /^image\/[a-z+.-]+$/.test(meta.image_type)
      ? meta.image_type
      : 'image/jpeg'
  const frame: PreviewFrame = { mime, image: raw.subarray(8 + len) }
  const node = meta.display_node_id ?? meta.node_id
  if (typeof node === 'string') frame.node = node
  if (typeof meta.prompt_id === 'string') frame.promptId = meta.prompt_id
  return frame
}

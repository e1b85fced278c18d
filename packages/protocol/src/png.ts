import { convertIndexedToRgb, decode, encode } from 'fast-png'
import { ProtocolError } from './errors.js'
import type { NdArray } from './npy.js'

/**
 * PNG codec for IMAGE ([B,H,W,C] float 0..1, C = 1, 3 or 4) and MASK ([B,H,W] float 0..1).
 * A batch is stacked vertically into one PNG of height B*H; the batch size travels next to it
 * (`batch` on the encoded value). 8-bit, so lossy: values are rounded to n/255.
 */

function err(message: string, cause?: unknown): ProtocolError {
  return new ProtocolError('PNG_INVALID', message, { field: 'png', cause })
}

function floatsOf(array: NdArray): ArrayLike<number> {
  if (array.data instanceof BigInt64Array || array.data instanceof BigUint64Array) {
    throw err('PNG encoding needs float or uint8 data, got int64.')
  }
  if (array.dtype === 'float16')
    throw err('PNG encoding of float16 is not supported; convert to float32 first.')
  return array.data as ArrayLike<number>
}

/** Encodes an IMAGE [B,H,W,C] / [H,W,C] or MASK [B,H,W] / [H,W] array as one 8-bit PNG. */
export function encodePng(
  array: NdArray,
  kind: 'IMAGE' | 'MASK' = 'IMAGE',
): { bytes: Uint8Array; batch: number } {
  const shape = array.shape
  let b: number
  let h: number
  let w: number
  let c: number
  if (kind === 'MASK') {
    if (shape.length === 2) [b, h, w, c] = [1, shape[0]!, shape[1]!, 1]
    else if (shape.length === 3) [b, h, w, c] = [shape[0]!, shape[1]!, shape[2]!, 1]
    else throw err(`A MASK for PNG must be [B,H,W] or [H,W], got ${JSON.stringify(shape)}.`)
  } else if (shape.length === 3) [b, h, w, c] = [1, shape[0]!, shape[1]!, shape[2]!]
  else if (shape.length === 4) [b, h, w, c] = [shape[0]!, shape[1]!, shape[2]!, shape[3]!]
  else throw err(`An IMAGE for PNG must be [B,H,W,C] or [H,W,C], got ${JSON.stringify(shape)}.`)
  if (![1, 3, 4].includes(c)) throw err(`PNG needs 1, 3 or 4 channels, got ${c}.`)
  if (b * h * w === 0) throw err('PNG cannot hold an empty image.')
  const src = floatsOf(array)
  const n = b * h * w * c
  if (src.length !== n) throw err(`Shape ${JSON.stringify(shape)} needs ${n} values, data has ${src.length}.`)
  const out = new Uint8Array(n)
  if (array.dtype === 'uint8' || array.dtype === 'bool') {
    for (let i = 0; i < n; i++) out[i] = array.dtype === 'bool' ? (src[i]! ? 255 : 0) : src[i]!
  } else {
    for (let i = 0; i < n; i++) {
      const v = src[i]!
      out[i] = v >= 1 ? 255 : v > 0 ? Math.round(v * 255) : 0
    }
  }
  const bytes = encode({ width: w, height: b * h, data: out, channels: c, depth: 8 })
  return { bytes, batch: b }
}

/** Largest PNG (width * height) decodePng accepts: 8192 x 8192. */
export const PNG_MAX_PIXELS = 8192 * 8192

/**
 * Checks a PNG's dimensions from its first 24 bytes (the IHDR chunk), before anything is inflated:
 * PNG_INVALID for a missing signature or more than PNG_MAX_PIXELS pixels (a decompression bomb).
 */
export function checkPngHead(head: Uint8Array): void {
  const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]
  if (head.length < 24 || SIGNATURE.some((b, i) => head[i] !== b))
    throw err('The value is not a readable PNG file; send PNG bytes (base64 in JSON).')
  checkSize(head)
}

function checkSize(bytes: Uint8Array): void {
  if (bytes.length < 24) return
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const pixels = view.getUint32(16) * view.getUint32(20)
  if (pixels > PNG_MAX_PIXELS) {
    throw err(
      `The PNG is ${view.getUint32(16)}x${view.getUint32(20)}, above the ${PNG_MAX_PIXELS}-pixel limit; send npy instead.`,
    )
  }
}

/** Decodes a PNG to float32 0..1: IMAGE [B,H,W,C] (C = PNG channels) or MASK [B,H,W] (first channel). */
export function decodePng(bytes: Uint8Array, kind: 'IMAGE' | 'MASK' = 'IMAGE', batch = 1): NdArray {
  let png: ReturnType<typeof decode>
  checkSize(bytes)
  try {
    png = decode(bytes)
  } catch (cause) {
    throw err('The value is not a readable PNG file; send PNG bytes (base64 in JSON).', cause)
  }
  let data: ArrayLike<number> = png.data
  let channels = png.channels
  if (png.palette) {
    data = convertIndexedToRgb(png)
    channels = png.palette[0]?.length ?? 3
  }
  const scale = png.depth === 16 ? 65535 : png.depth === 8 || png.palette ? 255 : 2 ** png.depth - 1
  const b = Number.isInteger(batch) && batch > 0 && png.height % batch === 0 ? batch : 1
  const h = png.height / b
  const w = png.width
  if (kind === 'MASK') {
    const out = new Float32Array(png.width * png.height)
    for (let i = 0; i < out.length; i++) out[i] = (data[i * channels] ?? 0) / scale
    return { dtype: 'float32', shape: [b, h, w], data: out }
  }
  const out = new Float32Array(png.width * png.height * channels)
  for (let i = 0; i < out.length; i++) out[i] = (data[i] ?? 0) / scale
  return { dtype: 'float32', shape: [b, h, w, channels], data: out }
}

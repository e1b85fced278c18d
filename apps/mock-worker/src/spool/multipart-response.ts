import { Readable } from 'node:stream'
import { base64ToBytes, serializeJson } from '@comfy-remote/protocol'
import { FileBytes, isFileBytes } from './file-bytes.js'

/** Encodings whose `data` is a payload of bytes (the binary parts). */
export const BINARY_ENCODINGS = new Set(['npy', 'png', 'file'])
const OPAQUE = new Set(['json', 'identity', 'base64+pickle'])
const ALIGN = 64
const INLINE_THRESHOLD = 1024
const encoder = new TextEncoder()

type Payload = Uint8Array | FileBytes

function isDict(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !ArrayBuffer.isView(value)
}

interface Extraction {
  parts: Map<string, Payload>
  names: Map<unknown, string>
}

function extract(node: unknown, x: Extraction): unknown {
  if (Array.isArray(node)) return node.map((v) => extract(v, x))
  if (!isDict(node) || isFileBytes(node)) return node
  const out: Record<string, unknown> = {}
  const encoding = typeof node.encoding === 'string' ? node.encoding : undefined
  for (const [key, value] of Object.entries(node)) {
    if (key === 'data' && encoding !== undefined && OPAQUE.has(encoding)) {
      out[key] = value
      continue
    }
    if (
      key === 'data' &&
      encoding !== undefined &&
      BINARY_ENCODINGS.has(encoding) &&
      (value instanceof Uint8Array ||
        isFileBytes(value) ||
        (typeof value === 'string' && value.length >= INLINE_THRESHOLD))
    ) {
      let name = x.names.get(value)
      if (name === undefined) {
        name = `b${x.parts.size}`
        x.parts.set(name, typeof value === 'string' ? base64ToBytes(value) : value)
        x.names.set(value, name)
      }
      out[key] = { part: name }
      continue
    }
    out[key] = extract(value, x)
  }
  return out
}

export interface MultipartStream {
  stream: Readable
  contentType: string
  byteLength: number
}

/**
 * Message -> multipart/form-data as a stream: the same layout as the protocol's encoder (a `json`
 * part, then one 64-byte-aligned part per payload), but payloads held in spool files are streamed
 * from disk, and in-memory ones are written as they are (no joined copy of the body).
 */
export function encodeMultipartStream(message: unknown): MultipartStream {
  const boundary = `comfy-remote-${crypto.randomUUID().replaceAll('-', '')}`
  const parts = new Map<string, Payload>()
  const json = serializeJson(extract(message, { parts, names: new Map() }))
  const pieces: Payload[] = [
    encoder.encode(
      `--${boundary}\r\nContent-Disposition: form-data; name="json"\r\nContent-Type: application/json\r\n\r\n${json}`,
    ),
  ]
  let offset = (pieces[0] as Uint8Array).byteLength
  for (const [name, payload] of parts) {
    const head = `\r\n--${boundary}\r\nContent-Disposition: form-data; name="${name}"; filename="${name}"\r\nContent-Type: application/octet-stream\r\nContent-Length: ${payload.byteLength}\r\nX-Pad: `
    const pad = (ALIGN - ((offset + head.length + 4) % ALIGN)) % ALIGN
    const header = encoder.encode(`${head}${'.'.repeat(pad)}\r\n\r\n`)
    pieces.push(header, payload)
    offset += header.byteLength + payload.byteLength
  }
  const tail = encoder.encode(`\r\n--${boundary}--\r\n`)
  pieces.push(tail)
  offset += tail.byteLength
  async function* generate(): AsyncGenerator<Uint8Array> {
    for (const piece of pieces) {
      if (piece instanceof FileBytes) yield* piece.stream()
      else yield piece
    }
  }
  return {
    stream: Readable.from(generate(), { objectMode: false }),
    contentType: `multipart/form-data; boundary=${boundary}`,
    byteLength: offset,
  }
}

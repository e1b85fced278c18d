import { base64ToBytes } from './base64.js'
import { serializeJson } from './json.js'
import { JSON_PART_NAME, MEDIA_TYPE_JSON, MEDIA_TYPE_MULTIPART, MEDIA_TYPE_OCTET_STREAM } from './media.js'
import { isDict, setOwn } from './util.js'

export interface EncodeMultipartOptions {
  /** Boundary to use (default: random). Must not occur in any payload. */
  boundary?: string
  /** base64 strings of npy/png values at least this long move to binary parts (default 1024). */
  inlineThreshold?: number
}

export interface MultipartChunks {
  /** Body pieces in order; binary pieces are the caller's bytes, not copies. */
  chunks: Uint8Array[]
  contentType: string
  boundary: string
  byteLength: number
}

export interface MultipartBody {
  /** A fresh buffer (usable as a fetch body as is). */
  body: Uint8Array<ArrayBuffer>
  contentType: string
  boundary: string
}

const BINARY = new Set(['npy', 'png'])
const OPAQUE = new Set(['json', 'identity', 'base64+pickle'])
const encoder = new TextEncoder()
const ALIGN = 64

function randomBoundary(): string {
  const bytes = new Uint8Array(16)
  globalThis.crypto.getRandomValues(bytes)
  return `comfy-remote-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`
}

interface Extraction {
  parts: Map<string, Uint8Array>
  /** Part name of each payload already extracted: the same bytes (or base64 text) travel once. */
  names: Map<Uint8Array | string, string>
  threshold: number
}

/** Copies the message, replacing binary values' data by `{part}` and collecting their bytes. */
function extract(node: unknown, x: Extraction): unknown {
  if (Array.isArray(node)) return node.map((v) => extract(v, x))
  if (!isDict(node)) return node
  const out: Record<string, unknown> = {}
  const encoding = typeof node.encoding === 'string' ? node.encoding : undefined
  for (const [key, value] of Object.entries(node)) {
    if (key === 'data' && encoding !== undefined) {
      if (
        BINARY.has(encoding) &&
        (value instanceof Uint8Array || (typeof value === 'string' && value.length >= x.threshold))
      ) {
        let name = x.names.get(value)
        if (name === undefined) {
          name = `b${x.parts.size}`
          x.parts.set(name, value instanceof Uint8Array ? value : base64ToBytes(value))
          x.names.set(value, name)
        }
        setOwn(out, key, { part: name })
        continue
      }
      if (OPAQUE.has(encoding)) {
        setOwn(out, key, value)
        continue
      }
    }
    setOwn(out, key, extract(value, x))
  }
  return out
}

/**
 * Message -> multipart/form-data pieces without copying payloads: part `json` holds the message with
 * every npy/png value's `data` replaced by `{"part": "<name>"}`; each named part holds those bytes.
 * Write the chunks in order to a stream, or wrap them: `new Blob(chunks, {type: contentType})`.
 */
export function encodeMultipartChunks(
  message: unknown,
  options: EncodeMultipartOptions = {},
): MultipartChunks {
  const boundary = options.boundary ?? randomBoundary()
  const parts = new Map<string, Uint8Array>()
  const json = serializeJson(
    extract(message, { parts, names: new Map(), threshold: options.inlineThreshold ?? 1024 }),
  )
  const chunks: Uint8Array[] = [
    encoder.encode(
      `--${boundary}\r\nContent-Disposition: form-data; name="${JSON_PART_NAME}"\r\nContent-Type: ${MEDIA_TYPE_JSON}\r\n\r\n${json}`,
    ),
  ]
  let offset = chunks[0]!.byteLength
  for (const [name, bytes] of parts) {
    // pad the part header so the payload starts 64-byte aligned in the body: decoders can then view
    // npy data in place (typed arrays need aligned offsets) instead of copying it
    const head = `\r\n--${boundary}\r\nContent-Disposition: form-data; name="${name}"; filename="${name}"\r\nContent-Type: ${MEDIA_TYPE_OCTET_STREAM}\r\nContent-Length: ${bytes.byteLength}\r\nX-Pad: `
    const pad = (ALIGN - ((offset + head.length + 4) % ALIGN)) % ALIGN
    const header = encoder.encode(`${head}${'.'.repeat(pad)}\r\n\r\n`)
    chunks.push(header, bytes)
    offset += header.byteLength + bytes.byteLength
  }
  chunks.push(encoder.encode(`\r\n--${boundary}--\r\n`))
  let byteLength = 0
  for (const c of chunks) byteLength += c.byteLength
  return { chunks, boundary, byteLength, contentType: `${MEDIA_TYPE_MULTIPART}; boundary=${boundary}` }
}

/** Like encodeMultipartChunks, joined into one Uint8Array (one copy of each payload). */
export function encodeMultipart(message: unknown, options: EncodeMultipartOptions = {}): MultipartBody {
  const { chunks, contentType, boundary, byteLength } = encodeMultipartChunks(message, options)
  const body = new Uint8Array(byteLength)
  let offset = 0
  for (const c of chunks) {
    body.set(c, offset)
    offset += c.byteLength
  }
  return { body, contentType, boundary }
}

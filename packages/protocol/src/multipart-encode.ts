import { base64ToBytes } from './base64.js'
import { ProtocolError } from './errors.js'
import { serializeJson } from './json.js'
import { JSON_PART_NAME, MEDIA_TYPE_JSON, MEDIA_TYPE_MULTIPART, MEDIA_TYPE_OCTET_STREAM } from './media.js'
import { isDict, setOwn } from './util.js'

export interface EncodeMultipartOptions {
  /** Boundary to use (default: random). Must not occur in any payload. */
  boundary?: string
  /** base64 strings of npy/png values at least this long move to binary parts (default 1024). */
  inlineThreshold?: number
}

/** A body piece: header text or payload bytes in memory, or a Blob (e.g. a file from `fs.openAsBlob`). */
export type MultipartPiece = Uint8Array | Blob

export interface MultipartPieces {
  /** Body pieces in order; payloads are the caller's bytes or Blobs, not copies. */
  pieces: MultipartPiece[]
  contentType: string
  boundary: string
  byteLength: number
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

const BINARY = new Set(['npy', 'png', 'file'])
const OPAQUE = new Set(['json', 'identity', 'base64+pickle'])
const encoder = new TextEncoder()
const ALIGN = 64

function randomBoundary(): string {
  const bytes = new Uint8Array(16)
  globalThis.crypto.getRandomValues(bytes)
  return `comfy-remote-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`
}

const isBlob = (value: unknown): value is Blob => typeof Blob !== 'undefined' && value instanceof Blob

interface Extraction {
  parts: Map<string, MultipartPiece>
  /** Part name of each payload already extracted: the same bytes (or base64 text) travel once. */
  names: Map<MultipartPiece | string, string>
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
        (value instanceof Uint8Array ||
          isBlob(value) ||
          (typeof value === 'string' && value.length >= x.threshold))
      ) {
        let name = x.names.get(value)
        if (name === undefined) {
          name = `b${x.parts.size}`
          x.parts.set(name, typeof value === 'string' ? base64ToBytes(value) : value)
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
 * every npy/png/file value's `data` replaced by `{"part": "<name>"}`; each named part holds those
 * bytes. A `data` that is a Blob (e.g. `fs.openAsBlob(path)`) becomes a part as is: stream the pieces
 * in order (`blob.stream()` for Blobs) and the payload is never held in memory.
 */
export function encodeMultipartPieces(
  message: unknown,
  options: EncodeMultipartOptions = {},
): MultipartPieces {
  const boundary = options.boundary ?? randomBoundary()
  const parts = new Map<string, MultipartPiece>()
  const json = serializeJson(
    extract(message, { parts, names: new Map(), threshold: options.inlineThreshold ?? 1024 }),
  )
  const chunks: MultipartPiece[] = [
    encoder.encode(
      `--${boundary}\r\nContent-Disposition: form-data; name="${JSON_PART_NAME}"\r\nContent-Type: ${MEDIA_TYPE_JSON}\r\n\r\n${json}`,
    ),
  ]
  let offset = (chunks[0] as Uint8Array).byteLength
  for (const [name, bytes] of parts) {
    const size = isBlob(bytes) ? bytes.size : bytes.byteLength
    // pad the part header so the payload starts 64-byte aligned in the body: decoders can then view
    // npy data in place (typed arrays need aligned offsets) instead of copying it
    const head = `\r\n--${boundary}\r\nContent-Disposition: form-data; name="${name}"; filename="${name}"\r\nContent-Type: ${MEDIA_TYPE_OCTET_STREAM}\r\nContent-Length: ${size}\r\nX-Pad: `
    const pad = (ALIGN - ((offset + head.length + 4) % ALIGN)) % ALIGN
    const header = encoder.encode(`${head}${'.'.repeat(pad)}\r\n\r\n`)
    chunks.push(header, bytes)
    offset += header.byteLength + size
  }
  chunks.push(encoder.encode(`\r\n--${boundary}--\r\n`))
  let byteLength = 0
  for (const c of chunks) byteLength += isBlob(c) ? c.size : c.byteLength
  return {
    pieces: chunks,
    boundary,
    byteLength,
    contentType: `${MEDIA_TYPE_MULTIPART}; boundary=${boundary}`,
  }
}

/**
 * Like encodeMultipartPieces for messages whose payloads are all in memory (Uint8Array or base64):
 * write the chunks in order to a stream, or wrap them: `new Blob(chunks, {type: contentType})`.
 * A Blob payload throws BAD_VALUE (use encodeMultipartPieces).
 */
export function encodeMultipartChunks(
  message: unknown,
  options: EncodeMultipartOptions = {},
): MultipartChunks {
  const { pieces, contentType, boundary, byteLength } = encodeMultipartPieces(message, options)
  const chunks = pieces.map((p) => {
    if (isBlob(p))
      throw new ProtocolError('BAD_VALUE', 'a value holds a Blob; encode it with encodeMultipartPieces.')
    return p
  })
  return { chunks, contentType, boundary, byteLength }
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

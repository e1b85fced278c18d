import { indexOfBytes } from './bytes-search.js'
import { ProtocolError } from './errors.js'
import { isMultipartContentType, JSON_PART_NAME } from './media.js'
import { isDict } from './util.js'

export interface MultipartPart {
  name: string
  filename?: string
  contentType?: string
  /** A view into the body (no copy). */
  data: Uint8Array
}

const CRLF = new Uint8Array([13, 10])
const HEADER_END = new Uint8Array([13, 10, 13, 10])
const encoder = new TextEncoder()
const latin1 = new TextDecoder('latin1')

function invalid(message: string): ProtocolError {
  return new ProtocolError('MULTIPART_INVALID', `Malformed multipart body: ${message}`, { field: 'body' })
}

/** The boundary parameter of a multipart/form-data Content-Type. */
export function multipartBoundary(contentType: string): string {
  if (!isMultipartContentType(contentType)) {
    throw invalid(`content-type "${String(contentType)}" is not multipart/form-data.`)
  }
  const match = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType)
  const boundary = match?.[1] ?? match?.[2]
  if (!boundary || boundary.length > 200) throw invalid('the content-type has no usable boundary parameter.')
  return boundary
}

function param(header: string, name: string): string | undefined {
  const m =
    new RegExp(`;\\s*${name}="([^"]*)"`, 'i').exec(header) ??
    new RegExp(`;\\s*${name}=([^;\\s]+)`, 'i').exec(header)
  return m?.[1]
}

export interface PartHead {
  part: Omit<MultipartPart, 'data'>
  /** Content-Length of the part when given: a hint, used only when the delimiter follows it. */
  length: number | undefined
}

/**
 * One part's header block (the lines between the boundary line and the blank line) -> its name,
 * filename, Content-Type and Content-Length hint. MULTIPART_INVALID when the part has no name.
 */
export function parsePartHead(text: string): PartHead {
  let disposition: string | undefined
  let contentType: string | undefined
  let length: number | undefined
  for (const line of text.split('\r\n')) {
    const colon = line.indexOf(':')
    if (colon < 0) continue
    const key = line.slice(0, colon).trim().toLowerCase()
    const value = line.slice(colon + 1).trim()
    if (key === 'content-disposition') disposition = value
    else if (key === 'content-type') contentType = value
    else if (key === 'content-length' && /^\d{1,15}$/.test(value)) length = Number(value)
  }
  const name = disposition === undefined ? undefined : param(disposition, 'name')
  if (name === undefined) throw invalid('a part has no Content-Disposition name.')
  const part: Omit<MultipartPart, 'data'> = { name }
  const filename = disposition === undefined ? undefined : param(disposition, 'filename')
  if (filename !== undefined) part.filename = filename
  if (contentType !== undefined) part.contentType = contentType
  return { part, length }
}

function matchesAt(bytes: Uint8Array, needle: Uint8Array, at: number): boolean {
  if (at + needle.length > bytes.length) return false
  for (let i = 0; i < needle.length; i++) if (bytes[at + i] !== needle[i]) return false
  return true
}

function toBytes(body: unknown): Uint8Array {
  if (body instanceof Uint8Array) return body
  if (body instanceof ArrayBuffer) return new Uint8Array(body)
  if (ArrayBuffer.isView(body)) return new Uint8Array(body.buffer, body.byteOffset, body.byteLength)
  throw invalid('expected the body as a Uint8Array or ArrayBuffer.')
}

/** Splits a multipart/form-data body into parts whose data are views into `body`. */
export function parseMultipart(body: Uint8Array | ArrayBuffer, contentType: string): MultipartPart[] {
  const bytes = toBytes(body)
  const boundary = multipartBoundary(contentType)
  const dash = encoder.encode(`--${boundary}`)
  const delimiter = encoder.encode(`\r\n--${boundary}`)
  let pos = indexOfBytes(bytes, dash, 0)
  if (pos < 0) throw invalid(`boundary "${boundary}" not found.`)
  pos += dash.length
  const parts: MultipartPart[] = []
  for (;;) {
    if (bytes[pos] === 45 && bytes[pos + 1] === 45) return parts // "--": close delimiter
    const lineEnd = indexOfBytes(bytes, CRLF, pos)
    if (lineEnd < 0) throw invalid('truncated after a boundary.')
    const headerEnd = indexOfBytes(bytes, HEADER_END, lineEnd)
    if (headerEnd < 0) throw invalid('a part has no header terminator.')
    const { part, length } = parsePartHead(latin1.decode(bytes.subarray(lineEnd + 2, headerEnd + 2)))
    const start = headerEnd + 4
    // a part Content-Length that lands exactly on the delimiter saves scanning the payload
    const end =
      length !== undefined && matchesAt(bytes, delimiter, start + length)
        ? start + length
        : indexOfBytes(bytes, delimiter, start)
    if (end < 0) throw invalid('the closing boundary is missing (truncated body?).')
    parts.push({ ...part, data: bytes.subarray(start, end) })
    pos = end + delimiter.length
  }
}

const OPAQUE_ENCODINGS = new Set(['json', 'identity', 'base64+pickle'])

/**
 * Puts every `data: {"part": name}` of a decoded message back as the part's value (bytes in memory, or
 * whatever the reader holds them in, e.g. a worker's spool file). `json`/`identity`/`base64+pickle` data
 * is opaque. Walks with an explicit stack: no recursion depth for a hostile message to exhaust.
 */
export function attachParts(message: unknown, parts: ReadonlyMap<string, unknown>): void {
  const stack: unknown[] = [message]
  while (stack.length > 0) {
    const node = stack.pop()
    if (Array.isArray(node)) {
      for (const item of node) stack.push(item)
      continue
    }
    if (!isDict(node)) continue
    const data = node.data
    const opaque = typeof node.encoding === 'string' && OPAQUE_ENCODINGS.has(node.encoding)
    if (typeof node.encoding === 'string' && !opaque && isDict(data) && typeof data.part === 'string') {
      const bytes = parts.get(data.part)
      if (bytes === undefined) {
        throw new ProtocolError(
          'MULTIPART_MISSING_PART',
          `The message refers to part "${data.part}" that the body lacks.`,
          { field: 'data.part' },
        )
      }
      node.data = bytes
      continue
    }
    for (const [key, value] of Object.entries(node)) if (!(opaque && key === 'data')) stack.push(value)
  }
}

/**
 * multipart/form-data body -> message: parses the `json` part and puts every referenced binary part
 * back into `data` as a Uint8Array view into `body` (no copy).
 */
export function decodeMultipart(body: Uint8Array | ArrayBuffer, contentType: string): unknown {
  const parts = parseMultipart(body, contentType)
  const jsonPart = parts.find((p) => p.name === JSON_PART_NAME)
  if (!jsonPart) throw invalid(`no part named "${JSON_PART_NAME}" holding the JSON message.`)
  let message: unknown
  try {
    message = JSON.parse(new TextDecoder().decode(jsonPart.data))
  } catch (cause) {
    throw new ProtocolError('MULTIPART_INVALID', 'The "json" part is not valid JSON.', {
      field: 'json',
      cause,
    })
  }
  const byName = new Map<string, Uint8Array>()
  for (const p of parts) if (p !== jsonPart) byName.set(p.name, p.data)
  attachParts(message, byName)
  return message
}

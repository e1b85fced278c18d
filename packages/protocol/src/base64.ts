import { ProtocolError } from './errors.js'

interface BufferLike {
  buffer: ArrayBufferLike
  byteOffset: number
  byteLength: number
  toString(encoding: 'base64'): string
}
interface BufferCtor {
  from(input: ArrayBufferLike, byteOffset: number, length: number): BufferLike
  from(input: string, encoding: 'base64'): BufferLike
}
const NodeBuffer = (globalThis as { Buffer?: BufferCtor }).Buffer

const CHUNK = 0x8000

/** Standard base64 of `bytes` (no line breaks). Uses Buffer when present, else btoa. */
export function bytesToBase64(bytes: Uint8Array): string {
  if (NodeBuffer) return NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')
  let binary = ''
  for (let i = 0; i < bytes.length; i += CHUNK) {
    binary += String.fromCharCode.apply(null, bytes.subarray(i, i + CHUNK) as unknown as number[])
  }
  return btoa(binary)
}

/** Decodes standard or URL-safe base64 (whitespace ignored) to bytes. */
export function base64ToBytes(text: string): Uint8Array {
  if (typeof text !== 'string') {
    throw new ProtocolError('BASE64_INVALID', `Expected a base64 string, got ${typeof text}.`)
  }
  if (NodeBuffer) {
    const buf = NodeBuffer.from(text, 'base64')
    // Buffer skips characters outside the alphabet: "!!!!" decodes to 0 bytes. A decode shorter than
    // the text's length implies is checked again without whitespace (free for valid input).
    if (buf.byteLength !== decodedLength(text) && buf.byteLength !== decodedLength(text.replace(/\s/g, ''))) {
      throw invalid(undefined)
    }
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength)
  }
  try {
    const clean = text.replace(/[\s]/g, '').replace(/-/g, '+').replace(/_/g, '/')
    const binary = atob(clean)
    const out = new Uint8Array(binary.length)
    for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i)
    return out
  } catch (cause) {
    throw invalid(cause)
  }
}

function invalid(cause: unknown): ProtocolError {
  return new ProtocolError(
    'BASE64_INVALID',
    'The value is not valid base64; send the bytes base64-encoded.',
    {
      cause,
    },
  )
}

/**
 * The number of bytes base64 `text` stands for, from its length and padding alone (no validation):
 * what size checks and budgets count before (or instead of) decoding.
 */
export function base64ByteLength(text: string): number {
  const pad = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0
  return Math.floor((text.length * 3) / 4) - pad
}

/** Bytes that `text` (no whitespace) holds if every character is base64: -1 when its length cannot be. */
function decodedLength(text: string): number {
  let end = text.length
  if (text.charCodeAt(end - 1) === 61) end-- // '='
  if (text.charCodeAt(end - 1) === 61) end--
  if (end % 4 === 1) return -1
  return Math.floor((end * 3) / 4)
}

/** Base64 text this long or shorter is checked character by character when a request is parsed. */
export const BASE64_PARSE_CHECK_MAX = 1024 * 1024

const BASE64_TEXT = /^[A-Za-z0-9+/\-_\s]*={0,2}\s*$/

/**
 * True when `text` is standard or URL-safe base64 (whitespace allowed). Linear; used at parse time
 * for texts up to BASE64_PARSE_CHECK_MAX (longer ones are checked when decoded, by base64ToBytes).
 */
export function isBase64(text: string): boolean {
  return BASE64_TEXT.test(text) && decodedLength(text.replace(/[\s=]/g, '')) >= 0
}

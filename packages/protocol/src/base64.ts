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
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength)
  }
  try {
    const clean = text.replace(/[\s]/g, '').replace(/-/g, '+').replace(/_/g, '/')
    const binary = atob(clean)
    const out = new Uint8Array(binary.length)
    for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i)
    return out
  } catch (cause) {
    throw new ProtocolError(
      'BASE64_INVALID',
      'The value is not valid base64; send the bytes base64-encoded.',
      {
        cause,
      },
    )
  }
}

import { base64ToBytes } from './base64.js'
import { ProtocolError } from './errors.js'
import { describe, isDict } from './util.js'

/** The bytes of a binary (npy/png) value's data: Uint8Array as is, base64 strings decoded. */
export function bytesOfData(data: unknown, field: string): Uint8Array {
  if (data instanceof Uint8Array) return data
  if (typeof data === 'string') {
    try {
      return base64ToBytes(data)
    } catch (cause) {
      throw new ProtocolError(
        'BASE64_INVALID',
        `${field}: not valid base64; send the file bytes base64-encoded.`,
        {
          field,
          cause,
        },
      )
    }
  }
  if (data instanceof ArrayBuffer) return new Uint8Array(data)
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
  if (isDict(data) && typeof data.part === 'string') {
    throw new ProtocolError(
      'MULTIPART_MISSING_PART',
      `${field}: points at multipart part "${data.part}" that was not resolved; decode the body with decodeMultipart.`,
      { field },
    )
  }
  if (isDict(data) && typeof data.file === 'string') {
    throw new ProtocolError(
      'BAD_VALUE',
      `${field}: points at file ${data.file}; read the file into data (Uint8Array) before decoding.`,
      { field },
    )
  }
  throw new ProtocolError('BAD_VALUE', `${field}: expected base64 text or bytes, got ${describe(data)}.`, {
    field,
  })
}

import { bytesOfData } from './binary.js'
import { ProtocolError } from './errors.js'
import { decodeNpy, encodeNpy, type NdArray } from './npy.js'
import { decodePng, encodePng } from './png.js'
import { parseEncodedValue } from './run-request.js'
import type { EncodedValue, Encoding } from './schemas.js'
import { isDict, setOwn } from './util.js'

export interface EncodeValueOptions {
  /** ComfyUI type; inferred for primitives (STRING, INT, FLOAT, BOOLEAN), else `*`. */
  type?: string
  /** Forced encoding; inferred when absent (NdArray -> npy, FileValue -> file, containers with arrays -> object/list, else json). */
  encoding?: Encoding
  /** `file` encoding: media type (e.g. video/mp4); overrides the FileValue's. */
  mime?: string
  /** `file` encoding: informational file name; overrides the FileValue's. */
  filename?: string
}

/** A `file` value in memory: the file's bytes and what they are. */
export interface FileValue {
  bytes: Uint8Array
  mime?: string
  filename?: string
}

/** True for `{bytes: Uint8Array, mime?, filename?}` (what decodeValue gives for `file`). */
export function isFileValue(value: unknown): value is FileValue {
  return (
    isDict(value) &&
    value.bytes instanceof Uint8Array &&
    (value.mime === undefined || typeof value.mime === 'string') &&
    (value.filename === undefined || typeof value.filename === 'string') &&
    Object.keys(value).every((k) => k === 'bytes' || k === 'mime' || k === 'filename')
  )
}

function fileMeta(mime: unknown, filename: unknown): { mime?: string; filename?: string } {
  const out: { mime?: string; filename?: string } = {}
  if (typeof mime === 'string' && mime !== '') out.mime = mime
  if (typeof filename === 'string' && filename !== '') out.filename = filename
  return out
}

/** True for `{dtype, shape, data: TypedArray}`. */
export function isNdArray(value: unknown): value is NdArray {
  return (
    isDict(value) &&
    typeof value.dtype === 'string' &&
    Array.isArray(value.shape) &&
    ArrayBuffer.isView(value.data) &&
    !(value.data instanceof DataView)
  )
}

function holdsArrays(value: unknown): boolean {
  if (isNdArray(value) || isFileValue(value)) return true
  if (Array.isArray(value)) return value.some(holdsArrays)
  if (isDict(value)) return Object.values(value).some(holdsArrays)
  return false
}

function inferType(value: unknown): string {
  if (isFileValue(value)) {
    const mime = value.mime ?? ''
    return mime.startsWith('video/') ? 'VIDEO' : mime.startsWith('audio/') ? 'AUDIO' : 'FILE'
  }
  if (typeof value === 'string') return 'STRING'
  if (typeof value === 'boolean') return 'BOOLEAN'
  if (typeof value === 'number') return Number.isInteger(value) ? 'INT' : 'FLOAT'
  return '*'
}

function inferEncoding(value: unknown): Encoding {
  if (isNdArray(value)) return 'npy'
  if (isFileValue(value)) return 'file'
  if (Array.isArray(value)) return value.some(holdsArrays) ? 'list' : 'json'
  if (isDict(value)) return holdsArrays(value) ? 'object' : 'json'
  return 'json'
}

function needArray(value: unknown, encoding: string): NdArray {
  if (!isNdArray(value)) {
    throw new ProtocolError('BAD_VALUE', `encoding "${encoding}" needs an NdArray {dtype, shape, data}.`)
  }
  return value
}

/**
 * In-memory value -> encoded value. Binary encodings carry `data` as a Uint8Array (serializeJson or
 * encodeMultipart put it on the wire). bfloat16 arrays (`dtype: 'bfloat16'`, Uint16Array bits) travel
 * as uint16 npy with `dtype: "bfloat16"` on the encoded value.
 */
export function encodeValue(value: unknown, options: EncodeValueOptions = {}): EncodedValue {
  const encoding = options.encoding ?? inferEncoding(value)
  const type = options.type ?? inferType(value)
  switch (encoding) {
    case 'json':
    case 'identity':
      return { type, encoding, data: value }
    case 'npy': {
      const array = needArray(value, encoding)
      if (array.dtype === 'bfloat16') {
        return { type, encoding, data: encodeNpy({ ...array, dtype: 'uint16' }), dtype: 'bfloat16' }
      }
      return { type, encoding, data: encodeNpy(array) }
    }
    case 'png': {
      const { bytes, batch } = encodePng(needArray(value, encoding), type === 'MASK' ? 'MASK' : 'IMAGE')
      return batch === 1 ? { type, encoding, data: bytes } : { type, encoding, data: bytes, batch }
    }
    case 'file': {
      const file: FileValue | undefined =
        value instanceof Uint8Array ? { bytes: value } : isFileValue(value) ? value : undefined
      if (file === undefined) {
        throw new ProtocolError(
          'BAD_VALUE',
          'encoding "file" needs the file bytes (Uint8Array) or {bytes, mime?, filename?}.',
        )
      }
      const meta = fileMeta(options.mime ?? file.mime, options.filename ?? file.filename)
      return { type, encoding, ...meta, data: file.bytes }
    }
    case 'object': {
      if (!isDict(value)) throw new ProtocolError('BAD_VALUE', 'encoding "object" needs a plain object.')
      const data: Record<string, EncodedValue> = {}
      for (const [k, v] of Object.entries(value)) setOwn(data, k, encodeValue(v))
      return { type, encoding, data }
    }
    case 'list': {
      if (!Array.isArray(value)) throw new ProtocolError('BAD_VALUE', 'encoding "list" needs an array.')
      return { type, encoding, data: value.map((v) => encodeValue(v)) }
    }
    case 'base64+pickle':
      throw new ProtocolError(
        'PICKLE_REFUSED',
        'base64+pickle cannot be produced in TypeScript and is never sent by default; use npy, json, object or list.',
      )
    default:
      throw new ProtocolError('UNKNOWN_ENCODING', `Unknown encoding "${String(encoding)}".`)
  }
}

/**
 * Encoded value -> in-memory value: json/identity -> the JSON value; npy -> NdArray; png -> float32
 * NdArray (IMAGE [B,H,W,C], MASK [B,H,W]); file -> FileValue {bytes, mime?, filename?};
 * object -> {key: decoded}; list -> decoded[]. A value behind a `ref` throws BAD_VALUE.
 * base64+pickle throws PICKLE_REFUSED.
 */
export function decodeValue(encoded: unknown, field = 'value'): unknown {
  const value = parseEncodedValue(encoded, field)
  const { encoding, data } = value
  if (data === undefined && typeof value.ref === 'string') {
    throw new ProtocolError(
      'BAD_VALUE',
      `${field}: the bytes are behind ref "${value.ref}"; fetch them into data first (remote-client follows refs).`,
      { field: `${field}.ref` },
    )
  }
  switch (encoding) {
    case 'json':
    case 'identity':
      return data
    case 'npy': {
      const array = decodeNpy(bytesOfData(data, `${field}.data`))
      return value.dtype === 'bfloat16' && array.dtype === 'uint16' ? { ...array, dtype: 'bfloat16' } : array
    }
    case 'png': {
      const batch = typeof value.batch === 'number' ? value.batch : 1
      return decodePng(bytesOfData(data, `${field}.data`), value.type === 'MASK' ? 'MASK' : 'IMAGE', batch)
    }
    case 'file':
      return { bytes: bytesOfData(data, `${field}.data`), ...fileMeta(value.mime, value.filename) }
    case 'object': {
      if (!isDict(data)) {
        throw new ProtocolError(
          'BAD_VALUE',
          `${field}.data: encoding "object" needs a map of encoded values.`,
          {
            field: `${field}.data`,
          },
        )
      }
      const out: Record<string, unknown> = {}
      for (const [k, v] of Object.entries(data)) setOwn(out, k, decodeValue(v, `${field}.data.${k}`))
      return out
    }
    case 'list': {
      if (!Array.isArray(data)) {
        throw new ProtocolError(
          'BAD_VALUE',
          `${field}.data: encoding "list" needs an array of encoded values.`,
          {
            field: `${field}.data`,
          },
        )
      }
      return data.map((v, i) => decodeValue(v, `${field}.data[${i}]`))
    }
    case 'base64+pickle':
      throw new ProtocolError(
        'PICKLE_REFUSED',
        `${field}: base64+pickle can only be decoded by the Python side, and only after opting in (allow_pickle node option or COMFY_REMOTE_ALLOW_PICKLE=1), because unpickling runs code; ask the sender for npy/json/object/list.`,
        { field },
      )
    default:
      throw new ProtocolError(
        'UNKNOWN_ENCODING',
        `${field}.encoding: unknown encoding "${String(encoding)}".`,
        {
          field: `${field}.encoding`,
        },
      )
  }
}

import { ProtocolError } from './errors.js'
import { DTYPES, descrFor, dtypeForCode, type TypedArray } from './npy-dtypes.js'
import { NPY_MAX_HEADER_BYTES, parseNpyHeader } from './npy-header.js'

/**
 * An n-d array as the npy codec sees it. `float16` data holds the raw IEEE half bits (Uint16Array),
 * `int64`/`uint64` are BigInt arrays, `bool` is a Uint8Array of 0/1. C order.
 */
export interface NdArray {
  dtype: string
  shape: number[]
  data: TypedArray
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59] // \x93NUMPY
const ALIGN = 64

function err(code: ConstructorParameters<typeof ProtocolError>[0], message: string): ProtocolError {
  return new ProtocolError(code, message, { field: 'npy' })
}

function sizeOf(shape: readonly number[]): number {
  let n = 1
  for (const d of shape) n *= d
  return n
}

function dtypeOf(descr: string): string {
  const order = descr[0] ?? ''
  const code = '<>|='.includes(order) ? descr.slice(1) : descr
  const dtype = dtypeForCode(code)
  if (dtype === undefined) {
    const what = code.startsWith('O') ? 'object arrays (they need pickle)' : `dtype "${descr}"`
    throw err(
      'NPY_UNSUPPORTED_DTYPE',
      `npy ${what} cannot be decoded; send float32/float16/uint8/int32/int64/bool.`,
    )
  }
  if (order === '>' && (DTYPES[dtype]?.size ?? 1) > 1) {
    throw err(
      'NPY_BIG_ENDIAN',
      `Big-endian npy (${descr}) is not supported; save little-endian (arr.astype('<${code}')).`,
    )
  }
  return dtype
}

/** What the header of a .npy file says: dtype, shape, where the data starts and how long it is. */
export interface NpyLayout {
  dtype: string
  shape: number[]
  dataStart: number
  byteLength: number
}

/**
 * Reads and checks the header of a .npy file from its first bytes (`head`, at least the header; the
 * first 64 KiB + 12 bytes always suffice) given the file's total size, without touching the data:
 * the same coded errors as decodeNpy (NPY_BAD_HEADER, NPY_TRUNCATED, ...). Lets a server refuse a
 * broken or lying header when a request arrives, before any decoding.
 */
export function readNpyLayout(head: Uint8Array, totalSize: number): NpyLayout {
  if (!(head instanceof Uint8Array))
    throw err('NPY_BAD_HEADER', 'decodeNpy expects the .npy file bytes (Uint8Array).')
  if (head.length < 10 || MAGIC.some((b, i) => head[i] !== b)) {
    throw err(
      'NPY_BAD_HEADER',
      'Not a .npy file (magic \\x93NUMPY missing); send the bytes written by numpy.save.',
    )
  }
  const major = head[6] ?? 0
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength)
  let headerLen: number
  let start: number
  if (major === 1) {
    headerLen = view.getUint16(8, true)
    start = 10
  } else if (major === 2 || major === 3) {
    if (head.length < 12) throw err('NPY_TRUNCATED', 'The .npy header is truncated.')
    headerLen = view.getUint32(8, true)
    start = 12
  } else {
    throw err('NPY_BAD_HEADER', `Unsupported .npy format version ${major}; use version 1, 2 or 3.`)
  }
  if (headerLen > NPY_MAX_HEADER_BYTES) {
    throw err(
      'NPY_BAD_HEADER',
      `The .npy header is ${headerLen} bytes, over the ${NPY_MAX_HEADER_BYTES}-byte limit; send the file numpy.save writes for a plain array.`,
    )
  }
  const dataStart = start + headerLen
  if (dataStart > head.length || dataStart > totalSize)
    throw err('NPY_TRUNCATED', 'The .npy header is truncated.')
  const decoder = new TextDecoder(major === 3 ? 'utf-8' : 'latin1')
  const header = parseNpyHeader(decoder.decode(head.subarray(start, dataStart)))
  const dtype = dtypeOf(header.descr)
  const info = DTYPES[dtype]!
  if (header.fortran && header.shape.filter((d) => d > 1).length > 1) {
    throw err(
      'NPY_FORTRAN_ORDER',
      'Fortran-order npy is not supported; save a C-order array (np.ascontiguousarray).',
    )
  }
  const byteLength = sizeOf(header.shape) * info.size
  if (!Number.isSafeInteger(byteLength) || dataStart + byteLength > totalSize) {
    throw err(
      'NPY_TRUNCATED',
      `The .npy data is truncated: shape ${JSON.stringify(header.shape)} needs ${byteLength} bytes, got ${totalSize - dataStart}.`,
    )
  }
  return { dtype, shape: header.shape, dataStart, byteLength }
}

/**
 * Decodes a NumPy .npy file (versions 1-3, little-endian, C order). The returned data is a view into
 * `bytes` when the payload is aligned for its element type, else a copy.
 */
export function decodeNpy(bytes: Uint8Array): NdArray {
  const { dtype, shape, dataStart, byteLength } = readNpyLayout(bytes, bytes?.length ?? 0)
  const info = DTYPES[dtype]!
  const count = byteLength / info.size
  const offset = bytes.byteOffset + dataStart
  const data =
    offset % info.size === 0
      ? new info.ctor(bytes.buffer, offset, count)
      : new info.ctor(bytes.slice(dataStart, dataStart + byteLength).buffer, 0, count)
  return { dtype, shape, data }
}

function headerText(descr: string, shape: readonly number[]): string {
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(', ')
  return `{'descr': '${descr}', 'fortran_order': False, 'shape': (${dims}), }`
}

/** Encodes `{dtype, shape, data}` as a whole .npy file (version 1, or 2 for huge headers). */
export function encodeNpy(array: NdArray): Uint8Array {
  const descr = descrFor(array?.dtype)
  if (descr === undefined) {
    throw err(
      'NPY_UNSUPPORTED_DTYPE',
      `encodeNpy: unknown dtype "${String(array?.dtype)}"; use ${Object.keys(DTYPES).join(', ')}.`,
    )
  }
  const info = DTYPES[array.dtype]!
  const { shape, data } = array
  if (!Array.isArray(shape) || shape.some((d) => !Number.isSafeInteger(d) || d < 0)) {
    throw err('NPY_SHAPE_MISMATCH', 'encodeNpy: shape must be a list of non-negative integers.')
  }
  if (!ArrayBuffer.isView(data) || data.byteLength !== sizeOf(shape) * info.size) {
    throw err(
      'NPY_SHAPE_MISMATCH',
      `encodeNpy: shape ${JSON.stringify(shape)} needs ${sizeOf(shape)} ${array.dtype} elements, data has ${ArrayBuffer.isView(data) ? data.byteLength / info.size : 0}.`,
    )
  }
  let text = headerText(descr, shape)
  let prefix = 10
  if (text.length + 1 + prefix > 0xffff) prefix = 12
  const total = Math.ceil((prefix + text.length + 1) / ALIGN) * ALIGN
  text = `${text.padEnd(total - prefix - 1, ' ')}\n`
  const out = new Uint8Array(total + data.byteLength)
  out.set(MAGIC, 0)
  out[6] = prefix === 10 ? 1 : 2
  out[7] = 0
  const view = new DataView(out.buffer)
  if (prefix === 10) view.setUint16(8, text.length, true)
  else view.setUint32(8, text.length, true)
  for (let i = 0; i < text.length; i++) out[prefix + i] = text.charCodeAt(i)
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), total)
  return out
}

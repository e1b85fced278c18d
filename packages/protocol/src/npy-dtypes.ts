/** NumPy dtypes the npy codec reads and writes, keyed by the name NumPy prints. */

export type TypedArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array

export interface DtypeInfo {
  /** descr kind + size without the byte-order char, e.g. `f4`. */
  code: string
  size: number
  ctor: new (buffer: ArrayBufferLike, byteOffset: number, length: number) => TypedArray
}

export const DTYPES: Record<string, DtypeInfo> = {
  float32: { code: 'f4', size: 4, ctor: Float32Array },
  float64: { code: 'f8', size: 8, ctor: Float64Array },
  float16: { code: 'f2', size: 2, ctor: Uint16Array },
  int8: { code: 'i1', size: 1, ctor: Int8Array },
  int16: { code: 'i2', size: 2, ctor: Int16Array },
  int32: { code: 'i4', size: 4, ctor: Int32Array },
  int64: { code: 'i8', size: 8, ctor: BigInt64Array },
  uint8: { code: 'u1', size: 1, ctor: Uint8Array },
  uint16: { code: 'u2', size: 2, ctor: Uint16Array },
  uint32: { code: 'u4', size: 4, ctor: Uint32Array },
  uint64: { code: 'u8', size: 8, ctor: BigUint64Array },
  bool: { code: 'b1', size: 1, ctor: Uint8Array },
}

export type Dtype = keyof typeof DTYPES

const BY_CODE = new Map(Object.entries(DTYPES).map(([name, info]) => [info.code, name]))

export function dtypeForCode(code: string): string | undefined {
  return BY_CODE.get(code)
}

/** The descr string numpy writes for a dtype: `|` for 1-byte types, `<` otherwise. */
export function descrFor(dtype: string): string | undefined {
  const info = DTYPES[dtype]
  if (!info) return undefined
  return `${info.size === 1 ? '|' : '<'}${info.code}`
}

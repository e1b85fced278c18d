/** Conversions for the 16-bit float dtypes, which the npy codec keeps as raw Uint16Array bits. */

const f32 = new Float32Array(1)
const u32 = new Uint32Array(f32.buffer)

/** IEEE 754 half-precision bits -> number. */
export function halfBitsToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1
  const exp = (bits >> 10) & 0x1f
  const frac = bits & 0x3ff
  if (exp === 0) return sign * frac * 2 ** -24
  if (exp === 0x1f) return frac ? Number.NaN : sign * Number.POSITIVE_INFINITY
  return sign * (1 + frac / 1024) * 2 ** (exp - 15)
}

/** bfloat16 bits (the upper half of a float32) -> number. */
export function bfloat16BitsToNumber(bits: number): number {
  u32[0] = (bits & 0xffff) << 16
  return f32[0]!
}

/** number -> bfloat16 bits, rounding to nearest even (NaN stays NaN). */
export function numberToBfloat16Bits(value: number): number {
  f32[0] = value
  const x = u32[0]!
  if (Number.isNaN(value)) return 0x7fc0
  return ((x + 0x7fff + ((x >> 16) & 1)) >>> 16) & 0xffff
}

/** float16 or bfloat16 bits -> Float32Array of their values. */
export function bitsToFloat32(bits: Uint16Array, kind: 'float16' | 'bfloat16'): Float32Array {
  const out = new Float32Array(bits.length)
  const convert = kind === 'float16' ? halfBitsToNumber : bfloat16BitsToNumber
  for (let i = 0; i < bits.length; i++) out[i] = convert(bits[i]!)
  return out
}

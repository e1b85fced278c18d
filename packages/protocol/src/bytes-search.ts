interface BufferLike {
  indexOf(value: Uint8Array, byteOffset?: number): number
}
interface BufferCtor {
  from(input: ArrayBufferLike, byteOffset: number, length: number): BufferLike
}
const NodeBuffer = (globalThis as { Buffer?: BufferCtor }).Buffer

/** Index of `needle` in `haystack` at or after `from`, or -1. Native search when Buffer exists. */
export function indexOfBytes(haystack: Uint8Array, needle: Uint8Array, from = 0): number {
  if (needle.length === 0) return from <= haystack.length ? from : -1
  if (NodeBuffer) {
    return NodeBuffer.from(haystack.buffer, haystack.byteOffset, haystack.byteLength).indexOf(needle, from)
  }
  const first = needle[0]!
  const last = haystack.length - needle.length
  let i = from
  while (i <= last) {
    i = haystack.indexOf(first, i)
    if (i === -1 || i > last) return -1
    let j = 1
    while (j < needle.length && haystack[i + j] === needle[j]) j++
    if (j === needle.length) return i
    i++
  }
  return -1
}

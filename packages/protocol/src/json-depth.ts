import { ProtocolError, type ProtocolErrorCode } from './errors.js'

/**
 * Deepest nesting of arrays/objects accepted in a request or an envelope. Real messages nest < 20
 * levels; JSON.parse handles any depth, but everything after it that recurses (fingerprints,
 * structuredClone, JSON.stringify, Python's json) overflows its stack somewhere between ~1,000 and
 * ~10,000 levels. The Python side (generated Modal app) uses the same limit.
 */
export const MAX_JSON_DEPTH = 256

/** Depth of `value` if it is at most `limit`, else `limit + 1`. Iterative: never overflows the stack. */
export function jsonDepth(value: unknown, limit = MAX_JSON_DEPTH): number {
  let deepest = 0
  const stack: [unknown, number][] = [[value, 0]]
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!
    if (typeof node !== 'object' || node === null || ArrayBuffer.isView(node)) continue
    const level = depth + 1
    if (level > limit) return limit + 1
    if (level > deepest) deepest = level
    const children = Array.isArray(node) ? node : Object.values(node)
    for (const child of children) {
      if (typeof child === 'object' && child !== null) stack.push([child, level])
    }
  }
  return deepest
}

/** Throws a coded ProtocolError when `value` nests deeper than `limit`. */
export function assertJsonDepth(
  value: unknown,
  field: string,
  code: ProtocolErrorCode = 'BAD_REQUEST',
  limit = MAX_JSON_DEPTH,
): void {
  if (jsonDepth(value, limit) > limit) {
    throw new ProtocolError(
      code,
      `${field}: JSON nested deeper than ${limit} levels; flatten the value (real messages nest a few levels).`,
      { field },
    )
  }
}

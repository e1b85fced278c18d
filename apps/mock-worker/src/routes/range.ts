/**
 * A single HTTP byte range (RFC 9110 14.1.2) of a resource of `size` bytes, as inclusive [start, end];
 * undefined when there is no usable Range header (serve it whole: also for several ranges or another
 * unit), 'unsatisfiable' for a range wholly outside the resource (416).
 */
export function parseRange(
  header: string | undefined,
  size: number,
): [number, number] | 'unsatisfiable' | undefined {
  if (header === undefined) return undefined
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim())
  if (match === null) return undefined
  const [, first = '', last = ''] = match
  if (first === '' && last === '') return undefined
  if (first === '') {
    const suffix = Number(last)
    if (suffix === 0) return 'unsatisfiable'
    return size === 0 ? 'unsatisfiable' : [Math.max(0, size - suffix), size - 1]
  }
  const start = Number(first)
  if (start >= size) return 'unsatisfiable'
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1)
  if (end < start) return undefined // invalid: ignored, the whole resource
  return [start, end]
}

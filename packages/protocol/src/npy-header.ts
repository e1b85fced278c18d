import { ProtocolError } from './errors.js'

/**
 * Largest .npy header text accepted (bytes). numpy writes ~128 bytes for any plain array and refuses
 * headers over 10 000 bytes by default (`max_header_size`); 64 KiB leaves room for 64-d shapes.
 */
export const NPY_MAX_HEADER_BYTES = 64 * 1024

export interface NpyHeader {
  descr: string
  fortran: boolean
  shape: number[]
}

function bad(message: string): ProtocolError {
  return new ProtocolError('NPY_BAD_HEADER', message, { field: 'npy' })
}

const isSpace = (c: string | undefined) => c === ' ' || c === '\t' || c === '\n' || c === '\r'

/**
 * Parses the header dict (`{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`) in one pass:
 * string, True/False and int-tuple values only. Linear in the text length (a regex over a hostile
 * header rescanned it from every `'shape'`: quadratic).
 */
export function parseNpyHeader(text: string): NpyHeader {
  let i = 0
  const ws = () => {
    while (isSpace(text[i])) i++
  }
  const fail = (what: string): never => {
    if (/'descr'\s*:\s*\[/.test(text.slice(0, 256))) {
      throw new ProtocolError(
        'NPY_UNSUPPORTED_DTYPE',
        'Structured npy dtypes are not supported; send a plain numeric array.',
        { field: 'npy' },
      )
    }
    throw bad(
      `The npy header is not a dict with descr, fortran_order and shape (${what} at offset ${i}): ${text.slice(0, 120)}`,
    )
  }
  const str = (): string => {
    const quote = text[i]
    if (quote !== "'" && quote !== '"') return fail('expected a quoted string')
    const end = text.indexOf(quote, i + 1)
    if (end < 0) return fail('unterminated string')
    const value = text.slice(i + 1, end)
    i = end + 1
    return value
  }
  const tuple = (): number[] => {
    i++ // (
    const shape: number[] = []
    for (;;) {
      ws()
      if (text[i] === ')') break
      const start = i
      while (text[i] !== undefined && text[i]! >= '0' && text[i]! <= '9') i++
      if (i === start) {
        const token = text.slice(start, start + 20).split(/[,)\s]/)[0]
        throw bad(`The npy shape holds a non-integer "${token}".`)
      }
      shape.push(Number.parseInt(text.slice(start, i), 10))
      if (text[i] === 'L') i++
      ws()
      if (text[i] === ',') i++
      else if (text[i] !== ')') return fail('expected "," or ")" in shape')
    }
    i++ // )
    return shape
  }
  const values: Record<string, unknown> = {}
  ws()
  if (text[i] !== '{') fail('expected "{"')
  i++
  for (;;) {
    ws()
    if (text[i] === '}') break
    const key = str()
    ws()
    if (text[i] !== ':') fail('expected ":"')
    i++
    ws()
    if (text.startsWith('True', i) || text.startsWith('False', i)) {
      values[key] = text[i] === 'T'
      i += values[key] ? 4 : 5
    } else if (text[i] === '(') values[key] = tuple()
    else if (text[i] === "'" || text[i] === '"') values[key] = str()
    else fail(`unsupported value for "${key}"`)
    ws()
    if (text[i] === ',') i++
    else if (text[i] !== '}') fail('expected "," or "}"')
  }
  const { descr, fortran_order: fortran, shape } = values
  if (typeof descr !== 'string' || typeof fortran !== 'boolean' || !Array.isArray(shape))
    return fail('missing or mistyped key')
  return { descr, fortran, shape }
}

import { ENCODINGS, type EncodedValue, type Encoding } from './schemas.js'
import { type Dict, setOwn } from './util.js'

const STRIP = new Set(['status', 'state', 'comfy_type', 'value'])

/**
 * Reads a result object the original's way: `value` without `data` means identity; type is `type`
 * else `comfy_type` else `*`; a missing encoding means `base64+pickle`. Returns undefined when the
 * object carries neither `data` nor `value` (or `ref`). Extra keys are kept unless `keepExtras` is
 * false (used when the whole envelope is the result).
 */
export function toResultValue(obj: Dict, keepExtras = true): EncodedValue | undefined {
  const hasData = Object.hasOwn(obj, 'data')
  const hasValue = Object.hasOwn(obj, 'value')
  const ref = typeof obj.ref === 'string' ? obj.ref : undefined
  if (!hasData && !hasValue && ref === undefined) return undefined
  const type =
    typeof obj.type === 'string' ? obj.type : typeof obj.comfy_type === 'string' ? obj.comfy_type : '*'
  let encoding: Encoding
  let data: unknown
  if (!hasData && hasValue) {
    encoding = 'identity'
    data = obj.value
  } else {
    const enc = typeof obj.encoding === 'string' ? obj.encoding.toLowerCase() : 'base64+pickle'
    // an unknown encoding is kept as sent, so decodeValue can name it (UNKNOWN_ENCODING)
    encoding = ((ENCODINGS as readonly string[]).includes(enc) ? enc : obj.encoding) as Encoding
    data = obj.data
  }
  const out: EncodedValue = { type, encoding, data }
  if (ref !== undefined) out.ref = ref
  if (!keepExtras) return out
  for (const [key, v] of Object.entries(obj)) {
    if (!Object.hasOwn(out, key) && !STRIP.has(key)) setOwn(out, key, v)
  }
  return out
}

import { BASE64_PARSE_CHECK_MAX, isBase64 } from './base64.js'
import { ProtocolError } from './errors.js'
import { assertJsonDepth } from './json-depth.js'
import { BINARY_ENCODINGS, ENCODINGS, type EncodedValue, type Encoding, type RunRequest } from './schemas.js'
import { type Dict, describe, isDict, setOwn } from './util.js'

function bad(field: string, message: string): ProtocolError {
  return new ProtocolError('BAD_REQUEST', `${field}: ${message}`, { field })
}

/**
 * Validates one encoded value: an object with a known `encoding` and a `data` key (or a `ref`).
 * `comfy_type` is accepted for `type`; a missing type becomes `*`. Extra keys are kept.
 */
export function parseEncodedValue(raw: unknown, field = 'value'): EncodedValue {
  if (!isDict(raw))
    throw bad(field, `expected an encoded value object {type, encoding, data}, got ${describe(raw)}.`)
  const encoding = raw.encoding
  if (typeof encoding !== 'string') {
    throw bad(`${field}.encoding`, `missing; set it to one of ${ENCODINGS.join(', ')}.`)
  }
  if (!(ENCODINGS as readonly string[]).includes(encoding)) {
    throw new ProtocolError(
      'UNKNOWN_ENCODING',
      `${field}.encoding: unknown encoding "${encoding}"; use one of ${ENCODINGS.join(', ')}.`,
      { field: `${field}.encoding` },
    )
  }
  const hasRef = typeof raw.ref === 'string' && raw.ref !== ''
  if ((!Object.hasOwn(raw, 'data') || raw.data === undefined) && !hasRef) {
    throw bad(`${field}.data`, 'missing; put the value (or its base64 bytes) in data, or a URL in ref.')
  }
  const data = raw.data
  if (
    typeof data === 'string' &&
    BINARY_ENCODINGS.includes(encoding as Encoding) &&
    data.length <= BASE64_PARSE_CHECK_MAX &&
    !isBase64(data)
  ) {
    throw new ProtocolError(
      'BASE64_INVALID',
      `${field}.data: not valid base64; send the ${encoding} bytes base64-encoded (or as a multipart part).`,
      { field: `${field}.data` },
    )
  }
  const typeRaw = raw.type ?? raw.comfy_type
  if (typeRaw !== undefined && typeof typeRaw !== 'string') throw bad(`${field}.type`, 'must be a string.')
  const out: EncodedValue = { ...raw, type: typeRaw ?? '*', encoding: encoding as Encoding, data: raw.data }
  delete out.comfy_type
  return out
}

function fromList(list: unknown[]): Record<string, EncodedValue> {
  const inputs: Record<string, EncodedValue> = {}
  list.forEach((item, i) => {
    const field = `inputs[${i}]`
    if (!isDict(item))
      throw bad(field, `expected an object {name, type, encoding, data}, got ${describe(item)}.`)
    const name = item.name
    if (typeof name !== 'string' || name === '')
      throw bad(`${field}.name`, 'missing; name each list input (input_1, ...).')
    if (Object.hasOwn(inputs, name)) throw bad(`${field}.name`, `duplicate input name "${name}".`)
    const value = parseEncodedValue(item, field)
    delete value.name
    setOwn(inputs, name, value)
  })
  return inputs
}

function toObject(body: unknown): Dict {
  let value = body
  if (value instanceof Uint8Array) value = new TextDecoder().decode(value)
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value)
    } catch (cause) {
      throw new ProtocolError('BAD_REQUEST', 'body: not valid JSON; send a JSON object {"inputs": {...}}.', {
        field: 'body',
        cause,
      })
    }
  }
  assertJsonDepth(value, 'body')
  if (!isDict(value)) throw bad('body', `expected a JSON object {"inputs": {...}}, got ${describe(value)}.`)
  return value
}

/**
 * Reads a run request body: the v1 map form `{inputs: {name: value}, request_id?}` or the original
 * list form `{inputs: [{name, comfy_type|type, encoding, data}, ...]}`. Missing inputs mean none.
 * `output_refs: true` (optional) becomes `outputRefs`.
 * Throws ProtocolError (BAD_REQUEST / UNKNOWN_ENCODING) naming the field.
 */
export function parseRunRequest(body: unknown): RunRequest {
  const obj = toObject(body)
  const raw = obj.inputs
  let inputs: Record<string, EncodedValue>
  if (raw === undefined || raw === null) inputs = {}
  else if (Array.isArray(raw)) inputs = fromList(raw)
  else if (isDict(raw)) {
    inputs = {}
    for (const [name, value] of Object.entries(raw))
      setOwn(inputs, name, parseEncodedValue(value, `inputs.${name}`))
  } else {
    throw bad(
      'inputs',
      `expected a map {name: encoded value} or a list of named inputs, got ${describe(raw)}.`,
    )
  }
  const request: RunRequest = { inputs }
  const id = obj.request_id ?? obj.requestId
  if (id !== undefined && id !== null) {
    if (typeof id !== 'string') throw bad('request_id', `must be a string, got ${describe(id)}.`)
    request.requestId = id
  }
  const refs = obj.output_refs ?? obj.outputRefs
  if (refs !== undefined && refs !== null) {
    if (typeof refs !== 'boolean') throw bad('output_refs', `must be true or false, got ${describe(refs)}.`)
    request.outputRefs = refs
  }
  return request
}

import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  base64ToBytes,
  bytesToBase64,
  DTYPES,
  decodeMultipart,
  decodeNpy,
  decodeValue,
  ENCODINGS,
  encodeMultipart,
  encodeNpy,
  encodeValue,
  isNdArray,
  isProtocolError,
  normalizeProgress,
  normalizeStatus,
  parseEncodedValue,
  parseEnvelope,
  parseRunRequest,
  serializeJson,
} from './index.js'

const RUNS = { numRuns: 200 }

function onlyProtocolErrors(fn: () => unknown): void {
  try {
    fn()
  } catch (error) {
    if (!isProtocolError(error)) throw error
  }
}

const arbShape = fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 0, maxLength: 4 })
const arbNdArray = fc
  .record({ dtype: fc.constantFrom(...Object.keys(DTYPES)), shape: arbShape })
  .chain(({ dtype, shape }) => {
    const n = shape.reduce((a, b) => a * b, 1)
    const size = DTYPES[dtype]!.size
    return fc.uint8Array({ minLength: n * size, maxLength: n * size }).map((bytes) => {
      const copy = new Uint8Array(bytes)
      return { dtype, shape, data: new DTYPES[dtype]!.ctor(copy.buffer, 0, n) }
    })
  })

/** NdArrays -> {dtype, shape, base64 of their bytes}; JSON values as JSON would carry them. */
function canon(v: unknown): unknown {
  if (isNdArray(v)) return { dtype: v.dtype, shape: v.shape, bytes: bytesToBase64(asBytes(v)) }
  if (Array.isArray(v)) return v.map(canon)
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, canon(x)]))
  return v === undefined ? undefined : JSON.parse(JSON.stringify(v))
}

const asBytes = (a: { data: ArrayBufferView }) =>
  new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength)

describe('round trips', () => {
  it('npy: decodeNpy(encodeNpy(a)) == a for every dtype and shape', () => {
    fc.assert(
      fc.property(arbNdArray, (a) => {
        const back = decodeNpy(encodeNpy(a))
        expect(back.dtype).toBe(a.dtype)
        expect(back.shape).toEqual(a.shape)
        expect(asBytes(back)).toEqual(asBytes(a))
      }),
      RUNS,
    )
  })

  it('base64: bytes survive', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
        expect(base64ToBytes(bytesToBase64(b))).toEqual(b)
      }),
      RUNS,
    )
  })

  it('json: any JSON value survives encodeValue -> serializeJson -> decodeValue', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const expected = JSON.parse(JSON.stringify(v))
        expect(decodeValue(JSON.parse(serializeJson(encodeValue(v))))).toEqual(expected)
      }),
      RUNS,
    )
  })

  it('multipart: messages with arrays in nested objects/lists survive, and equal the JSON transport', () => {
    const arbValue = fc.oneof(
      arbNdArray,
      fc.jsonValue({ maxDepth: 2 }),
      fc.dictionary(fc.string({ maxLength: 5 }), arbNdArray, { maxKeys: 3 }),
    )
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), arbValue, { maxKeys: 4 }),
        fc.integer({ min: 0, max: 64 }),
        (inputs, threshold) => {
          const message = {
            inputs: Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, encodeValue(v)])),
          }
          const { body, contentType } = encodeMultipart(message, { inlineThreshold: threshold })
          const viaMultipart = parseRunRequest(decodeMultipart(body, contentType))
          const viaJson = parseRunRequest(serializeJson(message))
          for (const name of Object.keys(inputs)) {
            const a = decodeValue(viaMultipart.inputs[name])
            const b = decodeValue(viaJson.inputs[name])
            expect(canon(a)).toEqual(canon(b))
            expect(canon(a)).toEqual(canon(inputs[name]))
          }
        },
      ),
      { numRuns: 100 },
    )
  })
})

describe('no input makes a parser throw anything but ProtocolError', () => {
  const arbJsonText = fc.oneof(
    fc.string(),
    fc.jsonValue().map((v) => JSON.stringify(v)),
  )
  it('parseEnvelope', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.anything(), arbJsonText),
        fc.option(fc.oneof(fc.webUrl(), fc.string())),
        (body, url) => onlyProtocolErrors(() => parseEnvelope(body, url ?? undefined)),
      ),
      RUNS,
    )
  })

  it('parseEnvelope: envelopes always have a status; failed ones an error message; numbers are finite', () => {
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.constantFrom(
            'status',
            'state',
            'progress',
            'error',
            'detail',
            'message',
            'retry_in',
            'poll_url',
            'result',
            'data',
            'value',
          ),
          fc.anything(),
        ),
        (body) => {
          const env = parseEnvelope(body, 'http://127.0.0.1:1/run')
          expect(['pending', 'running', 'completed', 'failed', 'cancelled']).toContain(env.status)
          if (env.status === 'failed' || env.status === 'cancelled') expect(env.error?.message).toBeTruthy()
          if (env.retryAfter !== undefined) expect(env.retryAfter).toBeGreaterThanOrEqual(0.1)
          if (env.progress) {
            expect(Number.isFinite(env.progress.value) && Number.isFinite(env.progress.max)).toBe(true)
            expect(env.progress.value).toBeLessThanOrEqual(env.progress.max)
          }
        },
      ),
      RUNS,
    )
  })

  it('normalizeStatus / normalizeProgress never throw and never give NaN or Infinity', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.anything(),
          fc.double(),
          fc.record({ value: fc.double(), max: fc.double(), percent: fc.double() }),
        ),
        (raw) => {
          normalizeStatus(raw)
          const p = normalizeProgress(raw)
          if (p)
            expect(Number.isFinite(p.value) && Number.isFinite(p.max) && p.max > 0 && p.value >= 0).toBe(true)
        },
      ),
      RUNS,
    )
  })

  it('parseRunRequest', () => {
    fc.assert(
      fc.property(fc.oneof(fc.anything(), arbJsonText, fc.record({ inputs: fc.anything() })), (body) =>
        onlyProtocolErrors(() => parseRunRequest(body)),
      ),
      RUNS,
    )
  })

  it('decodeValue / parseEncodedValue', () => {
    const arbEncoded = fc.record(
      {
        type: fc.anything(),
        encoding: fc.oneof(fc.constantFrom(...ENCODINGS), fc.anything()),
        data: fc.oneof(fc.anything(), fc.uint8Array(), fc.base64String()),
        batch: fc.anything(),
      },
      { requiredKeys: [] },
    )
    fc.assert(
      fc.property(fc.oneof(arbEncoded, fc.anything()), (v) => {
        onlyProtocolErrors(() => decodeValue(v))
        onlyProtocolErrors(() => parseEncodedValue(v))
      }),
      RUNS,
    )
  })

  it('decodeNpy on random and mutated files', () => {
    const valid = encodeNpy({ dtype: 'float32', shape: [2, 3], data: new Float32Array(6) })
    const mutated = fc
      .tuple(
        fc.nat({ max: valid.length - 1 }),
        fc.integer({ min: 0, max: 255 }),
        fc.nat({ max: valid.length }),
      )
      .map(([i, b, cut]) => {
        const copy = valid.slice(0, Math.max(cut, i + 1))
        copy[i] = b
        return copy
      })
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 200 }), mutated), (bytes) =>
        onlyProtocolErrors(() => decodeNpy(bytes)),
      ),
      RUNS,
    )
  })

  it('decodeMultipart on random and mutated bodies', () => {
    const { body, contentType } = encodeMultipart(
      { v: { type: '*', encoding: 'npy', data: new Uint8Array(40) } },
      { boundary: 'B' },
    )
    const mutated = fc
      .tuple(fc.nat({ max: body.length - 1 }), fc.integer({ min: 0, max: 255 }), fc.nat({ max: body.length }))
      .map(([i, b, cut]) => {
        const copy = body.slice(0, Math.max(cut, i + 1))
        copy[i] = b
        return copy
      })
    fc.assert(
      fc.property(
        fc.oneof(fc.uint8Array({ maxLength: 200 }), mutated),
        fc.oneof(fc.constant(contentType), fc.string()),
        (bytes, ct) => onlyProtocolErrors(() => decodeMultipart(bytes, ct)),
      ),
      RUNS,
    )
  })
})

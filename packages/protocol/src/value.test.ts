import { encode } from 'fast-png'
import { describe, expect, it } from 'vitest'
import {
  bytesToBase64,
  decodeMultipart,
  decodeValue,
  encodeMultipart,
  encodeValue,
  isProtocolError,
  type NdArray,
  numberToBfloat16Bits,
  serializeJson,
} from './index.js'

function errorOf(fn: () => unknown): { code: string; message: string } {
  try {
    fn()
  } catch (error) {
    expect(isProtocolError(error)).toBe(true)
    return error as { code: string; message: string }
  }
  throw new Error('expected a ProtocolError')
}

const nd = (shape: number[], fill = (i: number) => (i % 7) / 7): NdArray => {
  const n = shape.reduce((a, b) => a * b, 1)
  return { dtype: 'float32', shape, data: Float32Array.from({ length: n }, (_, i) => fill(i)) }
}

describe('encodeValue inference', () => {
  it.each([
    ['integer', 3, 'INT', 'json'],
    ['float', 1.5, 'FLOAT', 'json'],
    ['string', 'hi', 'STRING', 'json'],
    ['boolean', true, 'BOOLEAN', 'json'],
    ['null', null, '*', 'json'],
    ['plain object', { a: 1 }, '*', 'json'],
    ['plain array', [1, 'x'], '*', 'json'],
    ['ndarray', nd([2]), '*', 'npy'],
    ['object holding an array', { samples: nd([1, 4, 2, 2]) }, '*', 'object'],
    ['list holding an array', [nd([1]), 2], '*', 'list'],
    ['nested array deep inside', { a: { b: [nd([1])] } }, '*', 'object'],
  ])('%s -> %s/%s', (_name, value, type, encoding) => {
    const ev = encodeValue(value)
    expect(ev.type).toBe(type)
    expect(ev.encoding).toBe(encoding)
  })

  it('keeps the given type and encoding', () => {
    expect(encodeValue({ a: 1 }, { type: 'LATENT', encoding: 'identity' })).toEqual({
      type: 'LATENT',
      encoding: 'identity',
      data: { a: 1 },
    })
  })

  it('object and list round-trip through JSON', () => {
    const latent = { samples: nd([1, 4, 2, 2]), batch_index: [0] }
    const ev = encodeValue(latent, { type: 'LATENT' })
    const back = decodeValue(JSON.parse(serializeJson(ev))) as { samples: NdArray; batch_index: number[] }
    expect(back.batch_index).toEqual([0])
    expect(back.samples.shape).toEqual([1, 4, 2, 2])
    expect(Array.from(back.samples.data as Float32Array)).toEqual(
      Array.from(latent.samples.data as Float32Array),
    )
  })

  it('bfloat16 arrays travel as uint16 npy marked dtype bfloat16', () => {
    const bits = Uint16Array.from([1, -2.5, 0.15625].map(numberToBfloat16Bits))
    const ev = encodeValue({ dtype: 'bfloat16', shape: [3], data: bits })
    expect(ev.dtype).toBe('bfloat16')
    const back = decodeValue(JSON.parse(serializeJson(ev))) as NdArray
    expect(back.dtype).toBe('bfloat16')
    expect(Array.from(back.data as Uint16Array)).toEqual(Array.from(bits))
  })

  it.each([
    ['npy of a non-array', () => encodeValue(5, { encoding: 'npy' }), 'BAD_VALUE'],
    ['object of an array', () => encodeValue([1], { encoding: 'object' }), 'BAD_VALUE'],
    ['list of an object', () => encodeValue({}, { encoding: 'list' }), 'BAD_VALUE'],
    ['pickle', () => encodeValue('x', { encoding: 'base64+pickle' }), 'PICKLE_REFUSED'],
    ['unknown encoding', () => encodeValue('x', { encoding: 'yaml' as 'json' }), 'UNKNOWN_ENCODING'],
  ])('rejects %s', (_name, fn, code) => expect(errorOf(fn).code).toBe(code))
})

describe('png', () => {
  it.each([
    ['IMAGE rgb', 'IMAGE', [1, 3, 4, 3]],
    ['IMAGE rgba', 'IMAGE', [1, 2, 2, 4]],
    ['IMAGE grey', 'IMAGE', [1, 2, 5, 1]],
    ['IMAGE batch of 3', 'IMAGE', [3, 2, 2, 3]],
    ['MASK', 'MASK', [1, 3, 3]],
    ['MASK batch', 'MASK', [2, 3, 3]],
  ])('%s round-trips within 1/255', (_name, type, shape) => {
    const array = nd(shape)
    const ev = encodeValue(array, { type, encoding: 'png' })
    const back = decodeValue(JSON.parse(serializeJson(ev))) as NdArray
    expect(back.dtype).toBe('float32')
    expect(back.shape).toEqual(shape)
    const src = array.data as Float32Array
    ;(back.data as Float32Array).forEach((v, i) => {
      expect(Math.abs(v - src[i]!)).toBeLessThanOrEqual(0.5 / 255 + 1e-6)
    })
  })

  it('adds the batch dimension to a 3-d IMAGE and clamps out-of-range values', () => {
    const ev = encodeValue(
      nd([1, 2, 3], (i) => (i === 0 ? -1 : 2)),
      { type: 'IMAGE', encoding: 'png' },
    )
    const back = decodeValue(ev) as NdArray
    expect(back.shape).toEqual([1, 1, 2, 3])
    expect(Array.from(back.data as Float32Array)).toEqual([0, 1, 1, 1, 1, 1])
  })

  it('reads 16-bit PNGs made elsewhere', () => {
    const png = encode({ width: 2, height: 1, depth: 16, channels: 1, data: Uint16Array.from([0, 65535]) })
    const back = decodeValue({ type: 'IMAGE', encoding: 'png', data: bytesToBase64(png) }) as NdArray
    expect(back.shape).toEqual([1, 1, 2, 1])
    expect(Array.from(back.data as Float32Array)).toEqual([0, 1])
  })

  it.each([
    ['2 channels', nd([1, 2, 2, 2])],
    ['5-d', nd([1, 1, 1, 1, 3])],
    ['empty', nd([0, 2, 2, 3])],
    ['int64', { dtype: 'int64', shape: [1, 1, 1], data: new BigInt64Array(1) }],
  ])('encode rejects %s', (_name, array) =>
    expect(errorOf(() => encodeValue(array, { type: 'IMAGE', encoding: 'png' })).code).toBe('PNG_INVALID'),
  )

  it('decode rejects bytes that are not PNG', () => {
    expect(errorOf(() => decodeValue({ type: 'IMAGE', encoding: 'png', data: 'AAAA' })).code).toBe(
      'PNG_INVALID',
    )
  })
})

describe('decodeValue', () => {
  it.each([
    ['json', { type: 'INT', encoding: 'json', data: 5 }, 5],
    ['identity', { type: 'STRING', encoding: 'identity', data: 'x' }, 'x'],
    ['comfy_type accepted', { comfy_type: 'INT', encoding: 'identity', data: 1 }, 1],
  ])('%s', (_name, ev, expected) => expect(decodeValue(ev)).toEqual(expected))

  it('refuses base64+pickle and says only Python may decode it after opting in', () => {
    const e = errorOf(() => decodeValue({ type: '*', encoding: 'base64+pickle', data: 'gASV' }))
    expect(e.code).toBe('PICKLE_REFUSED')
    expect(e.message).toMatch(/Python/)
    expect(e.message).toMatch(/opt/)
  })

  it.each([
    [
      'unresolved multipart part',
      { type: '*', encoding: 'npy', data: { part: 'b0' } },
      'MULTIPART_MISSING_PART',
    ],
    ['file reference', { type: '*', encoding: 'npy', data: { file: '/tmp/x.npy' } }, 'BAD_VALUE'],
    ['number for npy', { type: '*', encoding: 'npy', data: 5 }, 'BAD_VALUE'],
    [
      'nested error names the path',
      { type: '*', encoding: 'object', data: { a: { encoding: 'npy' } } },
      'BAD_REQUEST',
    ],
    ['not an object', 'hello', 'BAD_REQUEST'],
  ])('rejects %s', (_name, ev, code) => expect(errorOf(() => decodeValue(ev)).code).toBe(code))

  it('names the nested field', () => {
    const e = errorOf(() => decodeValue({ type: '*', encoding: 'list', data: [{ encoding: 'json' }] }))
    expect(e.message).toContain('value.data[0].data')
  })
})

describe('serializeJson', () => {
  it('writes Uint8Array and Buffer data as base64', () => {
    const bytes = new Uint8Array([1, 2, 3, 250])
    const text = serializeJson({ a: { data: bytes }, b: [Buffer.from([1, 2, 3, 250])], c: 'x' })
    expect(JSON.parse(text)).toEqual({ a: { data: 'AQID+g==' }, b: ['AQID+g=='], c: 'x' })
  })

  it('writes a top-level Uint8Array as a base64 string', () => {
    expect(serializeJson(new Uint8Array([255]))).toBe('"/w=="')
  })
})

describe('untrusted keys in object values', () => {
  it('decodes an object value with a __proto__ key as an own property', () => {
    const ev = JSON.parse(
      '{"type":"*","encoding":"object","data":{"__proto__":{"type":"INT","encoding":"json","data":7}}}',
    )
    const out = decodeValue(ev) as Record<string, unknown>
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype)
    expect(Object.getOwnPropertyDescriptor(out, '__proto__')?.value).toBe(7)
  })
})

describe('file encoding (VIDEO, AUDIO, arbitrary files)', () => {
  const clip = Uint8Array.from({ length: 3000 }, (_, i) => (i * 7) % 256)

  it('encodes a FileValue with its mime and name and infers VIDEO/AUDIO/FILE from the mime', () => {
    const video = encodeValue({ bytes: clip, mime: 'video/mp4', filename: 'clip.mp4' })
    expect(video).toEqual({
      type: 'VIDEO',
      encoding: 'file',
      mime: 'video/mp4',
      filename: 'clip.mp4',
      data: clip,
    })
    expect(encodeValue({ bytes: clip, mime: 'audio/wav' }).type).toBe('AUDIO')
    expect(encodeValue({ bytes: clip }).type).toBe('FILE')
    expect(encodeValue(clip, { encoding: 'file', type: 'VIDEO', mime: 'video/webm' })).toEqual({
      type: 'VIDEO',
      encoding: 'file',
      mime: 'video/webm',
      data: clip,
    })
  })

  it('round-trips bit-exact through JSON (base64) and through multipart', () => {
    const value = encodeValue({ bytes: clip, mime: 'video/mp4', filename: 'a.mp4' })
    const viaJson = decodeValue(JSON.parse(serializeJson(value)))
    expect(viaJson).toEqual({ bytes: clip, mime: 'video/mp4', filename: 'a.mp4' })
    const { body, contentType } = encodeMultipart({ status: 'completed', result: value })
    expect(new TextDecoder().decode(body)).not.toContain(bytesToBase64(clip).slice(0, 40))
    const back = decodeMultipart(body, contentType) as { result: unknown }
    expect(decodeValue(back.result)).toEqual({ bytes: clip, mime: 'video/mp4', filename: 'a.mp4' })
  })

  it('refuses a file value without bytes, and a value behind a ref, naming the field', () => {
    expect(errorOf(() => encodeValue('x', { encoding: 'file' })).code).toBe('BAD_VALUE')
    const e = errorOf(() => decodeValue({ type: 'VIDEO', encoding: 'file', ref: '/jobs/j/outputs/v' }, 'out'))
    expect(e.code).toBe('BAD_VALUE')
    expect(e.message).toContain('out')
    expect(e.message).toContain('/jobs/j/outputs/v')
  })

  it('a FileValue inside an object makes it an object value', () => {
    const audio = encodeValue({ clip: { bytes: clip, mime: 'audio/flac' }, rate: 44100 })
    expect(audio.encoding).toBe('object')
    expect(decodeValue(audio)).toEqual({ clip: { bytes: clip, mime: 'audio/flac' }, rate: 44100 })
  })
})

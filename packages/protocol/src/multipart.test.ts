import { describe, expect, it } from 'vitest'
import { codeOf } from '../test/error-code.js'
import {
  acceptsMultipart,
  attachParts,
  bytesToBase64,
  decodeMultipart,
  decodeValue,
  encodeMultipart,
  encodeMultipartChunks,
  encodeMultipartPieces,
  encodeValue,
  isMultipartContentType,
  multipartBoundary,
  type NdArray,
  parseMultipart,
} from './index.js'

const enc = new TextEncoder()
const big = Uint8Array.from({ length: 5000 }, (_, i) => (i * 31) % 256)

describe('encodeMultipart / decodeMultipart', () => {
  const message = {
    status: 'completed',
    result: { type: 'IMAGE', encoding: 'npy', data: big },
    outputs: {
      latent: {
        type: 'LATENT',
        encoding: 'object',
        data: { samples: { type: '*', encoding: 'npy', data: bytesToBase64(big) } },
      },
      list: {
        type: '*',
        encoding: 'list',
        data: [{ type: 'MASK', encoding: 'png', data: big.subarray(0, 10) }],
      },
      small: { type: '*', encoding: 'npy', data: 'AAEC' },
      text: { type: 'STRING', encoding: 'json', data: { part: 'not-a-part', data: 'x' } },
    },
  }

  it('moves every binary value into a part and reads it back', () => {
    const { body, contentType } = encodeMultipart(message)
    const back = decodeMultipart(body, contentType) as typeof message
    expect(back.result.data).toEqual(big)
    expect(back.outputs.latent.data.samples.data).toEqual(big)
    expect(back.outputs.list.data[0]!.data).toEqual(big.subarray(0, 10))
    expect(back.outputs.small.data).toBe('AAEC')
    expect(back.outputs.text.data).toEqual({ part: 'not-a-part', data: 'x' })
  })

  it('sends the same payload once when a message references it twice (result and its output)', () => {
    const twice = { status: 'completed', result: message.result, outputs: { image: message.result } }
    const { body, contentType } = encodeMultipart(twice)
    const parts = parseMultipart(body, contentType)
    expect(parts.filter((p) => p.name !== 'json')).toHaveLength(1)
    const back = decodeMultipart(body, contentType) as typeof twice
    expect(back.result.data).toEqual(big)
    expect(back.outputs.image.data).toEqual(big)
    const distinct = { ...twice, outputs: { image: { ...message.result, data: big.slice() } } }
    const other = encodeMultipart(distinct)
    expect(parseMultipart(other.body, other.contentType).filter((p) => p.name !== 'json')).toHaveLength(2)
  })

  it('sends no base64 for the moved values and leaves the input untouched', () => {
    const { body } = encodeMultipart(message)
    const text = new TextDecoder('latin1').decode(body)
    expect(text).not.toContain(bytesToBase64(big).slice(0, 100))
    expect(message.result.data).toBe(big)
    expect(typeof message.outputs.latent.data.samples.data).toBe('string')
  })

  it('decoded data are views into the body, not copies', () => {
    const { body, contentType } = encodeMultipart(message)
    const back = decodeMultipart(body, contentType) as typeof message
    expect((back.result.data as Uint8Array).buffer).toBe(body.buffer)
  })

  it.each([1, 7, 100, 3000])(
    'aligns binary parts so npy arrays decode in place (json part %i chars)',
    (n) => {
      const array = { dtype: 'float64', shape: [3], data: Float64Array.from([1.5, -2, 3]) }
      const msg = {
        pad: 'x'.repeat(n),
        a: encodeValue(array),
        b: encodeValue({ ...array, dtype: 'float32', data: Float32Array.from([1, 2, 3]) }),
      }
      const { body, contentType } = encodeMultipart(msg)
      const back = decodeMultipart(body, contentType) as { a: unknown; b: unknown }
      for (const v of [back.a, back.b]) {
        const nd = decodeValue(v) as NdArray
        expect(nd.data.buffer).toBe(body.buffer)
      }
      expect(Array.from((decodeValue(back.a) as NdArray).data as Float64Array)).toEqual([1.5, -2, 3])
    },
  )

  it('chunks reuse the caller bytes and sum to byteLength', () => {
    const chunks = encodeMultipartChunks(message)
    expect(chunks.chunks).toContain(big)
    expect(chunks.chunks.reduce((n, c) => n + c.byteLength, 0)).toBe(chunks.byteLength)
    expect(chunks.contentType).toBe(`multipart/form-data; boundary=${chunks.boundary}`)
  })

  it('uses a fresh random boundary per message', () => {
    expect(encodeMultipart({}).boundary).not.toBe(encodeMultipart({}).boundary)
  })

  it('parses parts with quoted boundary, preamble, epilogue and extra headers', () => {
    const b = "a b'c(1)"
    const body = enc.encode(
      `preamble\r\n--${b}\r\nContent-Disposition: form-data; name="json"\r\nX-Extra: 1\r\n\r\n{"v":{"type":"*","encoding":"npy","data":{"part":"p"}}}\r\n--${b}\r\ncontent-disposition: form-data; name=p; filename="p.npy"\r\ncontent-type: application/octet-stream\r\n\r\n\r\n--x\r\n--${b}--\r\nepilogue`,
    )
    const ct = `multipart/form-data; charset=utf-8; boundary="${b}"`
    const parts = parseMultipart(body, ct)
    expect(parts.map((p) => p.name)).toEqual(['json', 'p'])
    expect(parts[1]?.filename).toBe('p.npy')
    const back = decodeMultipart(body.buffer, ct) as { v: { data: Uint8Array } }
    expect(new TextDecoder().decode(back.v.data)).toBe('\r\n--x')
  })

  it.each([
    ['not multipart', 'application/json', enc.encode('{}'), 'MULTIPART_INVALID'],
    ['no boundary', 'multipart/form-data', enc.encode('--x--'), 'MULTIPART_INVALID'],
    [
      'boundary absent from body',
      'multipart/form-data; boundary=zz',
      enc.encode('hello'),
      'MULTIPART_INVALID',
    ],
    [
      'truncated (no close)',
      'multipart/form-data; boundary=zz',
      enc.encode('--zz\r\nContent-Disposition: form-data; name="json"\r\n\r\n{}'),
      'MULTIPART_INVALID',
    ],
    [
      'no header end',
      'multipart/form-data; boundary=zz',
      enc.encode('--zz\r\nContent-Disposition: x'),
      'MULTIPART_INVALID',
    ],
    ['after boundary nothing', 'multipart/form-data; boundary=zz', enc.encode('--zz'), 'MULTIPART_INVALID'],
    [
      'part without name',
      'multipart/form-data; boundary=zz',
      enc.encode('--zz\r\nContent-Type: text/plain\r\n\r\nx\r\n--zz--'),
      'MULTIPART_INVALID',
    ],
    [
      'no json part',
      'multipart/form-data; boundary=zz',
      enc.encode('--zz\r\nContent-Disposition: form-data; name="b0"\r\n\r\nx\r\n--zz--'),
      'MULTIPART_INVALID',
    ],
    [
      'json part not JSON',
      'multipart/form-data; boundary=zz',
      enc.encode('--zz\r\nContent-Disposition: form-data; name="json"\r\n\r\n{oops\r\n--zz--'),
      'MULTIPART_INVALID',
    ],
    [
      'missing referenced part',
      'multipart/form-data; boundary=zz',
      enc.encode(
        '--zz\r\nContent-Disposition: form-data; name="json"\r\n\r\n{"v":{"encoding":"npy","data":{"part":"b9"}}}\r\n--zz--',
      ),
      'MULTIPART_MISSING_PART',
    ],
  ])('rejects %s', (_name, ct, body, code) => expect(codeOf(() => decodeMultipart(body, ct))).toBe(code))

  it('rejects a body that is not bytes', () => {
    expect(
      codeOf(() => decodeMultipart('text' as unknown as Uint8Array, 'multipart/form-data; boundary=x')),
    ).toBe('MULTIPART_INVALID')
  })

  it('reads the boundary parameter', () => {
    expect(multipartBoundary('Multipart/Form-Data; boundary=abc')).toBe('abc')
  })
})

describe('content negotiation helpers', () => {
  it.each([
    ['multipart/form-data; boundary=x', true],
    ['Multipart/Form-Data', true],
    [' multipart/form-data ;boundary=y', true],
    ['application/json', false],
    ['multipart/mixed; boundary=x', false],
    ['', false],
    [undefined, false],
    [null, false],
  ])('isMultipartContentType(%j) = %s', (ct, expected) => expect(isMultipartContentType(ct)).toBe(expected))

  it.each([
    ['multipart/form-data, application/json', true],
    ['application/json;q=0.9, multipart/form-data;q=0.5', true],
    ['multipart/form-data;q=0', false],
    ['application/json', false],
    ['*/*', false],
    [undefined, false],
  ])('acceptsMultipart(%j) = %s', (accept, expected) => expect(acceptsMultipart(accept)).toBe(expected))
})

describe('part Content-Length', () => {
  const head = (len: string) =>
    `--zz\r\nContent-Disposition: form-data; name="json"\r\n\r\n{"v":{"encoding":"npy","data":{"part":"b"}}}\r\n--zz\r\nContent-Disposition: form-data; name="b"\r\nContent-Length: ${len}\r\n\r\n`
  const ct = 'multipart/form-data; boundary=zz'

  it.each([
    ['exact', '6', 'abcdef'],
    ['too short: falls back to the delimiter', '2', 'abcdef'],
    ['too long: falls back to the delimiter', '60', 'abcdef'],
    ['junk: ignored', 'x1', 'abcdef'],
  ])('%s', (_name, len, payload) => {
    const body = enc.encode(`${head(len)}${payload}\r\n--zz--\r\n`)
    const back = decodeMultipart(body, ct) as { v: { data: Uint8Array } }
    expect(new TextDecoder().decode(back.v.data)).toBe(payload)
  })

  it('our writer sets it on binary parts', () => {
    const { body } = encodeMultipart({ v: { type: '*', encoding: 'npy', data: new Uint8Array(77) } })
    expect(new TextDecoder('latin1').decode(body)).toContain('Content-Length: 77\r\n')
  })
})

describe('encodeMultipartPieces (Blob payloads, e.g. files)', () => {
  it('keeps a Blob payload as one piece, counts its size and decodes to its bytes', async () => {
    const bytes = Uint8Array.from({ length: 4099 }, (_, i) => (i * 13) % 251)
    const blob = new Blob([bytes])
    const message = {
      inputs: {
        clip: { type: 'VIDEO', encoding: 'file', mime: 'video/mp4', data: blob },
        again: { type: 'VIDEO', encoding: 'file', mime: 'video/mp4', data: blob },
      },
    }
    const { pieces, contentType, byteLength } = encodeMultipartPieces(message)
    expect(pieces.filter((p) => p === blob)).toHaveLength(1)
    const body = new Uint8Array(await new Blob(pieces as BlobPart[]).arrayBuffer())
    expect(body.byteLength).toBe(byteLength)
    const back = decodeMultipart(body, contentType) as typeof message
    expect(back.inputs.clip.data).toEqual(bytes)
    expect(back.inputs.again.data).toEqual(bytes)
    expect(() => encodeMultipartChunks(message)).toThrow(/encodeMultipartPieces/)
  })

  it('leaves a value that carries a ref (no data) as it is', () => {
    const message = { inputs: { x: { type: 'IMAGE', encoding: 'npy', ref: 'https://example.com/x.npy' } } }
    const { body, contentType } = encodeMultipart(message)
    expect(decodeMultipart(body, contentType)).toEqual(message)
  })
})

describe('attachParts', () => {
  it('walks a hostile, deeply nested message without recursion and leaves opaque data alone', () => {
    let deep: unknown = { type: 'IMAGE', encoding: 'npy', data: { part: 'p' } }
    for (let i = 0; i < 200_000; i++) deep = [deep]
    const bytes = new Uint8Array([1, 2, 3])
    const pickled = { type: '*', encoding: 'base64+pickle', data: { part: 'p' } }
    const message = { inputs: { deep, pickled } }
    attachParts(message, new Map([['p', bytes]]))
    let leaf: unknown = message.inputs.deep
    while (Array.isArray(leaf)) leaf = leaf[0]
    expect((leaf as { data: unknown }).data).toBe(bytes)
    expect(pickled.data).toEqual({ part: 'p' })
    expect(() =>
      attachParts({ v: { type: 'IMAGE', encoding: 'png', data: { part: 'x' } } }, new Map()),
    ).toThrow(/part "x"/)
  })
})

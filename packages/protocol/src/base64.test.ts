import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { codeOf } from '../test/error-code.js'
import { isBase64 } from './base64.js'
import { base64ToBytes, bytesToBase64, decodeValue, parseRunRequest } from './index.js'

// Issue 14 defect 9: Buffer skips characters outside the alphabet, so "!!!!" was an npy value of 0
// bytes that travelled on and failed far away.
describe('invalid base64 in an npy value (defect 9)', () => {
  it('is refused when the request is parsed, naming the field', () => {
    for (const data of ['!!!!', 'QUJD!', 'QQ==QUJD', 'Q', 'QUJDR', 'not base64 at all?']) {
      const body = { inputs: { image: { type: 'IMAGE', encoding: 'npy', data } } }
      expect(codeOf(() => parseRunRequest(body))).toBe('BASE64_INVALID')
      expect(() => parseRunRequest(body)).toThrow(/inputs\.image\.data: not valid base64/)
    }
  })

  it('is refused when decoded, at any size', () => {
    expect(codeOf(() => base64ToBytes('!!!!'))).toBe('BASE64_INVALID')
    const big = `${bytesToBase64(new Uint8Array(3 * 1024 * 1024))}!!!!`
    expect(codeOf(() => base64ToBytes(big))).toBe('BASE64_INVALID')
    expect(codeOf(() => decodeValue({ type: 'IMAGE', encoding: 'npy', data: '!!!!' }))).toBe('BASE64_INVALID')
  })

  it('valid base64 (padded, unpadded, URL-safe, with line breaks) still decodes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.boolean(), fc.boolean(), (bytes, unpad, wrap) => {
        let text = bytesToBase64(bytes)
        if (unpad) text = text.replace(/=+$/, '').replaceAll('+', '-').replaceAll('/', '_')
        if (wrap) text = text.replace(/(.{76})/g, '$1\n')
        expect(isBase64(text)).toBe(true)
        expect(Array.from(base64ToBytes(text))).toEqual(Array.from(bytes))
      }),
    )
  })
})

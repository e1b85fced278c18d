import { bytesToBase64, encodeNpy, encodePng } from '@comfy-remote/protocol'
import { describe, expect, it } from 'vitest'
import { checkBinaryHeads } from './binary-heads.js'

const npy = encodeNpy({ dtype: 'float32', shape: [1, 2, 2, 3], data: new Float32Array(12) })
const png = encodePng({ dtype: 'float32', shape: [1, 2, 2, 3], data: new Float32Array(12) }, 'IMAGE').bytes

/** A PNG whose IHDR claims width x height (nothing else needs to be valid for the check). */
function pngClaiming(width: number, height: number): Uint8Array {
  const bytes = new Uint8Array(png)
  const view = new DataView(bytes.buffer)
  view.setUint32(16, width)
  view.setUint32(20, height)
  return bytes
}

describe('checkBinaryHeads (hostile inputs refused when the request arrives)', () => {
  it('accepts valid npy and png, as bytes and as base64, also inside object values', () => {
    expect(() =>
      checkBinaryHeads({
        a: { type: 'IMAGE', encoding: 'npy', data: npy },
        b: { type: 'IMAGE', encoding: 'png', data: bytesToBase64(png) },
        c: {
          type: 'LATENT',
          encoding: 'object',
          data: { samples: { type: '*', encoding: 'npy', data: npy } },
        },
      }),
    ).not.toThrow()
  })

  it.each([
    ['an npy whose shape needs more bytes than sent', npy.subarray(0, npy.length - 4), /truncated/],
    ['a file that is not npy', new Uint8Array(64), /magic/],
  ])('refuses %s with a coded error naming the input', (_, data, message) => {
    const error = (() => {
      try {
        checkBinaryHeads({ image: { type: 'IMAGE', encoding: 'npy', data } })
      } catch (e) {
        return e as { code: string; message: string }
      }
    })()
    expect(error?.code).toMatch(/^NPY_/)
    expect(error?.message).toMatch(/^inputs\.image: /)
    expect(error?.message).toMatch(message)
  })

  it('refuses a PNG decompression bomb (IHDR over the pixel limit) before inflating anything', () => {
    expect(() =>
      checkBinaryHeads({ image: { type: 'IMAGE', encoding: 'png', data: pngClaiming(30000, 30000) } }),
    ).toThrow(/inputs\.image: .*30000x30000.*pixel limit/)
  })
})

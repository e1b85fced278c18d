import { readFixtureBytes } from '@comfy-remote/io-helpers/testing'
import { describe, expect, it } from 'vitest'
import { readPreviewFrame } from './comfyui-preview-frame.js'

// Real frames recorded from ComfyUI 0.3.64 (io-helpers fixtures ws-preview/).
describe('readPreviewFrame', () => {
  it('reads a legacy type-1 frame (PNG format code 2)', () => {
    const raw = readFixtureBytes('ws-preview/legacy-frame-0.bin')
    const frame = readPreviewFrame(raw)
    expect(frame).toMatchObject({ mime: 'image/png' })
    expect(frame?.node).toBeUndefined()
    expect([...(frame?.image.subarray(0, 4) ?? [])]).toEqual([0x89, 0x50, 0x4e, 0x47])
    expect(frame?.image.byteLength).toBe(raw.byteLength - 8)
  })

  it('reads a type-4 frame: node, prompt and image type from its metadata', () => {
    const frame = readPreviewFrame(readFixtureBytes('ws-preview/feature-flags-frame-0.bin'))
    expect(frame).toMatchObject({
      mime: 'image/png',
      node: '2',
      promptId: 'b9626377-2dbf-4a53-8250-5bd356361fdc',
    })
    const legacy = readPreviewFrame(readFixtureBytes('ws-preview/legacy-frame-0.bin'))
    expect(Buffer.from(frame?.image ?? []).equals(Buffer.from(legacy?.image ?? []))).toBe(true)
  })

  it('ignores text frames, unknown formats and truncated frames', () => {
    const u32 = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]
    expect(readPreviewFrame(new Uint8Array([...u32(3), ...u32(1), 65, 66]))).toBeUndefined()
    expect(readPreviewFrame(new Uint8Array([...u32(1), ...u32(9), 1, 2]))).toBeUndefined()
    expect(readPreviewFrame(new Uint8Array([...u32(4), ...u32(100), 1, 2]))).toBeUndefined()
    expect(readPreviewFrame(new Uint8Array([0, 0, 0]))).toBeUndefined()
  })
})

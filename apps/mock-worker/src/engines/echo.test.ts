import { describe, expect, it } from 'vitest'
import type { ApiPrompt } from '../workflow.js'
import { findUpstreamInput } from './echo.js'

const node = (class_type: string, inputs: Record<string, unknown> = {}) => ({ class_type, inputs })

describe('findUpstreamInput', () => {
  it('follows linked inputs in key order, depth first', () => {
    const prompt: ApiPrompt = {
      '1': node('ComfyRemoteInput', { key: 'a' }),
      '2': node('ComfyRemoteInput', { key: 'b' }),
      '3': node('ImageBlend', { image2: ['1', 0], image1: ['4', 0], blend_factor: 0.5 }),
      '4': node('ImageInvert', { image: ['2', 0] }),
    }
    // image1 sorts before image2: 3 -> 4 -> 2
    expect(findUpstreamInput(prompt, '3')).toBe('2')
  })

  it('skips branches without a Remote Input and survives cycles', () => {
    const prompt: ApiPrompt = {
      '1': node('ComfyRemoteInput', { key: 'a' }),
      '2': node('A', { a: ['3', 0], b: ['1', 0] }),
      '3': node('B', { x: ['2', 0] }),
      '4': node('EmptyImage', { width: 8 }),
    }
    expect(findUpstreamInput(prompt, '2')).toBe('1')
    expect(findUpstreamInput(prompt, '4')).toBeUndefined()
  })
})

import {
  type RecordedExchange,
  readFixtureJson,
  readWsTranscript,
  recordedPrompt,
} from '@comfy-remote/io-helpers/testing'
import { describe, expect, it } from 'vitest'
import { describeNodeErrors } from './comfyui-http.js'
import { ProgressFolder } from './comfyui-progress.js'
import type { ComfyMessage } from './comfyui-socket.js'

function fold(prompt: string, transcript: string): Array<{ value: number; max: number; message?: string }> {
  const folder = new ProgressFolder(recordedPrompt(prompt))
  const seen = []
  for (const line of readWsTranscript(transcript)) {
    if ('binary' in line) continue
    const progress = folder.apply(line as ComfyMessage)
    if (progress !== undefined) seen.push(progress)
  }
  return seen
}

describe('ProgressFolder on recorded ComfyUI 0.3.64 transcripts', () => {
  it('success/: rises monotonically to 100% over the 7 nodes', () => {
    const seen = fold('success/prompt.json', 'success/ws.jsonl')
    const values = seen.map((p) => p.value)
    expect(values).toEqual([...values].sort((a, b) => a - b))
    expect(values.at(-1)).toBe(100)
    expect(seen.every((p) => p.max === 100)).toBe(true)
    expect(seen.some((p) => p.message === 'running Image Blur (node 3)')).toBe(true)
  })

  it('cached/: a fully cached prompt reaches 100% from execution_cached alone', () => {
    const seen = fold('success/prompt.json', 'cached/ws.jsonl')
    expect(seen.at(-1)?.value).toBe(100)
  })

  it('interrupt/: stays below 100% when interrupted', () => {
    const seen = fold('interrupt/prompt.json', 'interrupt/ws.jsonl')
    expect(seen.length).toBeGreaterThan(0)
    expect(seen.at(-1)?.value).toBeLessThan(100)
  })
})

describe('describeNodeErrors on recorded validation errors', () => {
  it.each([
    ['missing-input', /node 3 \(ImageBlur\) input "sigma": Required input is missing/],
    ['bad-value', /node \d+ \(ImageBlur\) input "blur_radius": Value 999 bigger than max/],
    ['wrong-link-type', /node 4 \(SaveImage\) input "images"/],
  ])('%s names node and input', (name, pattern) => {
    const exchange = readFixtureJson<RecordedExchange>(`validation-error/${name}.json`)
    const body = exchange.response.body as { node_errors: Record<string, unknown> }
    expect(describeNodeErrors(body.node_errors).join('; ')).toMatch(pattern)
  })
})

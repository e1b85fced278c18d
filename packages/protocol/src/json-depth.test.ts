import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { codeOf } from '../test/error-code.js'
import { jsonDepth, MAX_JSON_DEPTH, parseEnvelope, parseRunRequest } from './index.js'

/** `depth` levels of alternating arrays and objects around a leaf, built from the JSON text. */
function nestedText(depth: number): string {
  let open = ''
  let close = ''
  for (let i = 0; i < depth; i++) {
    open += i % 2 ? '{"k":' : '['
    close = (i % 2 ? '}' : ']') + close
  }
  return `${open}1${close}`
}

// Issue 14 defect 3 (and 5 on the client): JSON.parse takes any depth, but what runs after it
// (fingerprints, structuredClone, JSON.stringify) overflowed the stack: 500s and stuck jobs.
describe('deeply nested JSON (defect 3)', () => {
  it('jsonDepth counts levels iteratively, typed arrays are leaves', () => {
    expect(jsonDepth(1)).toBe(0)
    expect(jsonDepth({ a: [1, { b: new Uint8Array(8) }] })).toBe(3)
    expect(jsonDepth(JSON.parse(nestedText(100_000)))).toBe(MAX_JSON_DEPTH + 1)
  })

  it('parseRunRequest: a coded BAD_REQUEST over the limit, accepted up to it (any depth, any shape)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: MAX_JSON_DEPTH * 3 }), (depth) => {
        const text = `{"inputs": {"x": {"type": "*", "encoding": "json", "data": ${nestedText(depth)}}}}`
        const total = depth + 3 // body, inputs, value
        if (total > MAX_JSON_DEPTH) expect(codeOf(() => parseRunRequest(text))).toBe('BAD_REQUEST')
        else expect(parseRunRequest(text).inputs.x).toBeDefined()
      }),
      { numRuns: 60 },
    )
  })

  it('parseEnvelope: a 20,000-deep result from a hostile endpoint is BAD_ENVELOPE, not a stack overflow', () => {
    const text = `{"status": "completed", "result": {"type": "*", "encoding": "json", "data": ${nestedText(20_000)}}}`
    expect(codeOf(() => parseEnvelope(text))).toBe('BAD_ENVELOPE')
    expect(codeOf(() => parseEnvelope(JSON.parse(text)))).toBe('BAD_ENVELOPE')
  })
})

import { expect, it } from 'vitest'
import { createPayloadRegistry } from './registry.js'

it('injects, resolves and pops payloads per node id', () => {
  const r = createPayloadRegistry()
  r.injectPayload(5, { image: 1, text: 'a' })
  expect(r.resolveInput('5', 'text', 'fb')).toBe('a')
  expect(r.resolveInput('5', 'missing', 'fb')).toBe('fb')
  expect(r.resolveInput('6', 'text', 'fb')).toBe('fb')
  expect(r.popPayload('5')).toEqual({ image: 1, text: 'a' })
  expect(r.popPayload(5)).toBeUndefined()
})

it('merges output keys into one bucket and forgets it on pop', () => {
  const r = createPayloadRegistry()
  r.registerOutput('9', 'a', 1)
  r.registerOutput(9, 'b', 2)
  r.registerOutput('10', 'a', 3)
  expect(r.popOutput('9')).toEqual({ a: 1, b: 2 })
  expect(r.popOutput('9')).toBeUndefined()
  expect(r.popOutput(10)).toEqual({ a: 3 })
})

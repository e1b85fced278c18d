import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  JSON_SCHEMA_SOURCES,
  parseRunRequest,
  toJsonSchemas,
  toWireEnvelope,
  zJobEnvelopeWire,
  zRunRequestWire,
} from './index.js'

describe('shipped JSON Schema files', () => {
  it.each(Object.keys(JSON_SCHEMA_SOURCES))('schema/%s.json is up to date (run pnpm gen:schema)', (name) => {
    const file = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'schema', `${name}.json`), 'utf8'))
    expect(file).toEqual(toJsonSchemas()[name as keyof typeof JSON_SCHEMA_SOURCES])
  })
})

describe('zod wire schemas agree with the parsers', () => {
  it.each([
    [{ inputs: { a: { encoding: 'json', data: 1 } } }],
    [{ inputs: { a: { comfy_type: 'INT', encoding: 'identity', data: 1 } }, request_id: 'x' }],
    [
      {
        inputs: [{ name: 'input_1', comfy_type: 'IMAGE', encoding: 'base64+pickle', data: 'gASV' }],
        node: { id: '1' },
      },
    ],
    [{ inputs: null }],
    [{}],
  ])('zRunRequestWire accepts what parseRunRequest accepts: %j', (body) => {
    expect(zRunRequestWire.safeParse(body).success).toBe(true)
    expect(() => parseRunRequest(body)).not.toThrow()
  })

  it.each([
    [{ inputs: 5 }],
    [{ inputs: { a: { type: 'INT', data: 1 } } }],
    [{ inputs: [{ encoding: 'json', data: 1 }] }],
  ])('both reject %j', (body) => {
    expect(zRunRequestWire.safeParse(body).success).toBe(false)
    expect(() => parseRunRequest(body)).toThrow()
  })

  it('a toWireEnvelope result validates against zJobEnvelopeWire', () => {
    const wire = toWireEnvelope({
      status: 'running',
      jobId: 'j',
      progress: { value: 1, max: 2 },
      retryAfter: 0.5,
    })
    expect(zJobEnvelopeWire.parse(wire)).toEqual(wire)
  })
})

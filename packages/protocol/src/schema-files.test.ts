import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { JSON_SCHEMA_SOURCES, toJsonSchemas } from './index.js'

describe('shipped JSON Schema files', () => {
  it.each(Object.keys(JSON_SCHEMA_SOURCES))('schema/%s.json is up to date (run pnpm gen:schema)', (name) => {
    const file = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'schema', `${name}.json`), 'utf8'))
    expect(file).toEqual(toJsonSchemas()[name as keyof typeof JSON_SCHEMA_SOURCES])
  })
})

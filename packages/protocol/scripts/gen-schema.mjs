// Writes schema/<name>.json from the built package (run after build: `pnpm gen:schema`).
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { toJsonSchemas } from '../dist/index.js'

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'schema')
mkdirSync(dir, { recursive: true })
for (const [name, schema] of Object.entries(toJsonSchemas())) {
  writeFileSync(join(dir, `${name}.json`), `${JSON.stringify(schema, null, 2)}\n`)
}
console.log(`wrote ${Object.keys(toJsonSchemas()).length} JSON Schema files to ${dir}`)

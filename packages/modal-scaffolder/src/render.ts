import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import nunjucks from 'nunjucks'
import type { ModalConfig } from './config.js'
import { TORCH_PRESETS } from './presets.js'
import { pyLiteral } from './py-literal.js'

/** One file of the rendered project: path relative to the project dir, and its text. */
export interface RenderedFile {
  path: string
  content: string
}

function listFiles(dir: string, root = dir): string[] {
  const out: string[] = []
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === '__pycache__' || entry.name.endsWith('.pyc')) continue
    const full = join(dir, entry.name)
    if (entry.isDirectory()) out.push(...listFiles(full, root))
    else if (entry.isFile()) out.push(relative(root, full).split('\\').join('/'))
  }
  return out.sort()
}

/**
 * Renders every `*.njk` of the template folder (without the suffix) and copies the other files
 * as they are. Templates see `config` (modal_config.json) and `preset` (the torch preset); values
 * go into Python only through the `py` filter, which writes safe literals.
 */
export function renderTemplates(templatesDir: string, config: ModalConfig): RenderedFile[] {
  const env = new nunjucks.Environment(new nunjucks.FileSystemLoader(templatesDir, { noCache: true }), {
    autoescape: false,
    throwOnUndefined: true,
    trimBlocks: true,
    lstripBlocks: true,
  })
  env.addFilter('py', (value: unknown) => pyLiteral(value))
  env.addFilter('json', (value: unknown) => JSON.stringify(value, null, 2))
  const context = { config, preset: TORCH_PRESETS[config.torch_preset] }
  return listFiles(templatesDir).map((path) =>
    path.endsWith('.njk')
      ? { path: path.slice(0, -'.njk'.length), content: env.render(path, context) }
      : { path, content: readFileSync(join(templatesDir, path), 'utf8') },
  )
}

// Every name the docs import from a package (`import { a, b } from '@comfy-remote/x'` in any code block
// of the README, docs/ and the package READMEs) is a runtime export of that module, so a renamed or
// moved export fails here rather than in a reader's editor. Type-only imports are left to tsc.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'
import { repoRoot } from './support/paths.js'

function markdownFiles(): string[] {
  const out = ['README.md', 'examples/README.md']
  const walk = (dir: string) => {
    for (const name of readdirSync(join(repoRoot, dir))) {
      const path = join(dir, name)
      if (name === 'node_modules' || name === 'dist') continue
      if (statSync(join(repoRoot, path)).isDirectory()) walk(path)
      else if (name.endsWith('.md')) out.push(path)
    }
  }
  walk('docs')
  for (const root of ['packages', 'apps'])
    for (const pkg of readdirSync(join(repoRoot, root))) {
      const readme = join(root, pkg, 'README.md')
      try {
        statSync(join(repoRoot, readme))
        out.push(readme)
      } catch {}
    }
  return out
}

interface DocImport {
  where: string
  module: string
  names: string[]
}

function docImports(): DocImport[] {
  const out: DocImport[] = []
  for (const file of markdownFiles()) {
    const text = readFileSync(join(repoRoot, file), 'utf8')
    for (const block of text.matchAll(/^```(?:js|ts|javascript|typescript|mjs)\n([\s\S]*?)^```$/gm))
      for (const match of (block[1] ?? '').matchAll(
        /^import\s+(?!type\s)\{([^}]*)\}\s+from\s+'(@comfy-remote\/[^']+)'/gm,
      )) {
        const names = (match[1] ?? '')
          .split(',')
          .map((part) => part.trim())
          .filter((part) => part && !part.startsWith('type '))
          .map((part) => (part.split(/\s+as\s+/)[0] ?? '').trim())
        out.push({ where: relative(repoRoot, join(repoRoot, file)), module: match[2] as string, names })
      }
  }
  return out
}

describe('names the docs import exist', () => {
  const imports = docImports()

  it('finds the docs imports (guards the reader)', () => {
    expect(imports.length).toBeGreaterThan(10)
  })

  it.each(imports.map((i) => [`${i.where}: ${i.module}`, i] as const))('%s', async (_, entry) => {
    const module = (await import(entry.module)) as Record<string, unknown>
    const missing = entry.names.filter((name) => !(name in module))
    expect(missing, `not exported by ${entry.module}`).toEqual([])
  })
})

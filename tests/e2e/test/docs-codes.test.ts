// Every error code a CLI, server, bridge or the node pack can emit is explained in docs/troubleshooting.md.
// Codes are collected from the source (TypeScript `...Code` unions, `code: '...'` literals, `new XError('CODE'`;
// Python `code = "..."`, `XError("CODE"`), so a new code without a doc entry fails here.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'
import { repoRoot } from './support/paths.js'

const SOURCE_ROOTS = [
  'packages/protocol/src',
  'packages/io-helpers/src',
  'packages/remote-client/src',
  'packages/modal-scaffolder/src',
  'apps/mock-worker/src',
  'apps/comfyui-extension/src',
  'apps/comfyui-extension/comfy_remote',
  'templates/modal',
]
const SKIP_DIR = new Set(['node_modules', 'dist', '__pycache__', 'testing', 'tests', 'test', '__golden__'])

function sourceFiles(dir: string): string[] {
  const out: string[] = []
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) {
      if (!SKIP_DIR.has(name)) out.push(...sourceFiles(path))
    } else if (/\.(ts|py)$/.test(name) && !/\.test\.ts$|^test_/.test(name)) out.push(path)
  }
  return out
}

const CODE = '([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+|[A-Z]{4,})'
const TS_PATTERNS = [
  new RegExp(`\\bcode:\\s*'${CODE}'`, 'g'),
  new RegExp(`new \\w*Error\\(\\s*'${CODE}'`, 'g'),
]
const PY_PATTERNS = [
  new RegExp(`\\bcode\\s*=\\s*"${CODE}"`, 'g'),
  new RegExp(`\\b\\w*Error\\(\\s*"${CODE}"`, 'g'),
  new RegExp(`"code":\\s*"${CODE}"`, 'g'),
]
/** Members of `type FooCode = | 'A' | 'B'` unions. */
function unionCodes(text: string): string[] {
  const out: string[] = []
  for (const match of text.matchAll(/type \w*Code\s*=([\s\S]*?)(?:\n\n|\nexport|\n\/\*\*)/g))
    for (const member of (match[1] ?? '').matchAll(new RegExp(`'${CODE}'`, 'g')))
      out.push(member[1] as string)
  return out
}

/** code -> files it comes from. */
function collectCodes(): Map<string, Set<string>> {
  const codes = new Map<string, Set<string>>()
  const add = (code: string, file: string) => {
    const files = codes.get(code) ?? new Set<string>()
    files.add(relative(repoRoot, file))
    codes.set(code, files)
  }
  for (const root of SOURCE_ROOTS)
    for (const file of sourceFiles(join(repoRoot, root))) {
      const text = readFileSync(file, 'utf8')
      const patterns = file.endsWith('.py') ? PY_PATTERNS : TS_PATTERNS
      for (const pattern of patterns)
        for (const match of text.matchAll(pattern)) add(match[1] as string, file)
      if (file.endsWith('.ts')) for (const code of unionCodes(text)) add(code, file)
    }
  return codes
}

describe('docs/troubleshooting.md', () => {
  const doc = readFileSync(join(repoRoot, 'docs', 'troubleshooting.md'), 'utf8')
  const codes = collectCodes()

  it('the collector finds the codes it must (guards the patterns themselves)', () => {
    for (const known of [
      'PICKLE_REFUSED',
      'OUTPUT_EXISTS',
      'HTTP_ERROR',
      'IDEMPOTENCY_CONFLICT',
      'NODE_NOT_FOUND',
    ])
      expect(codes.has(known), known).toBe(true)
  })

  it('explains every error code the source can emit', () => {
    const missing = [...codes.entries()]
      .filter(([code]) => !doc.includes(`\`${code}\``))
      .map(([code, files]) => `${code} (${[...files].join(', ')})`)
      .sort()
    expect(missing, 'add a `CODE` entry to docs/troubleshooting.md for each').toEqual([])
  })
})

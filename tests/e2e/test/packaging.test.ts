// What `npm install @comfy-remote/<pkg>` would unpack, checked without a registry: for each publishable
// package, `npm pack --dry-run --json` lists the tarball's files (the same packlist pnpm publish uses),
// and the test asserts that every exports/main/types/bin target is inside, bins start with the node
// shebang, runtime assets (schemas, vectors, fixtures, Modal templates, the node pack's Python) are
// shipped, nothing from src/test or source maps leaks in, and every bare import of the shipped
// JavaScript is a declared dependency (a hoisted workspace hides a missing one; a user's install does not).
import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { builtinModules } from 'node:module'
import { join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'
import { repoRoot } from './support/paths.js'

interface Manifest {
  name: string
  license?: string
  main?: string
  types?: string
  bin?: Record<string, string>
  exports?: unknown
  dependencies?: Record<string, string>
  peerDependencies?: Record<string, string>
  publishConfig?: { access?: string }
}

const packages = {
  '@comfy-remote/protocol': 'packages/protocol',
  '@comfy-remote/io-helpers': 'packages/io-helpers',
  '@comfy-remote/remote-client': 'packages/remote-client',
  '@comfy-remote/modal-scaffolder': 'packages/modal-scaffolder',
  '@comfy-remote/mock-worker': 'apps/mock-worker',
} as const
type PackageName = keyof typeof packages

const expectedBins: Partial<Record<PackageName, string>> = {
  '@comfy-remote/remote-client': 'comfy-remote',
  '@comfy-remote/modal-scaffolder': 'comfy-remote-modal',
  '@comfy-remote/mock-worker': 'comfy-remote-mock',
}

const strip = (path: string) => path.replace(/^\.\//, '')

/** Files of `dir`, relative to `base`, skipping what the build filters out (caches, bytecode). */
function walk(dir: string, base = dir, skip = new Set(['__pycache__', '.pytest_cache'])): string[] {
  return readdirSync(dir).flatMap((entry) => {
    if (skip.has(entry) || entry.endsWith('.pyc')) return []
    const path = join(dir, entry)
    return statSync(path).isDirectory()
      ? walk(path, base, skip)
      : [relative(base, path).split('\\').join('/')]
  })
}

function packList(dir: string): string[] {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: join(repoRoot, dir),
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
    timeout: 30_000,
  })
  const [result] = JSON.parse(out) as [{ files: { path: string }[] }]
  return result.files.map((file) => file.path)
}

/** Every string target of an `exports` map (conditions and subpaths, recursively). */
function exportTargets(value: unknown): string[] {
  if (typeof value === 'string') return [value]
  if (value && typeof value === 'object') return Object.values(value).flatMap(exportTargets)
  return []
}

/** Bare specifiers imported (statically, dynamically or via import.meta.resolve) by a JS file. */
function bareImports(source: string): string[] {
  const found = new Set<string>()
  const re =
    /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|import\.meta\.resolve\(\s*|\brequire\(\s*)['"]([^'"./][^'"]*)['"]/g
  for (const match of source.matchAll(re)) {
    const spec = match[1]!
    if (spec.startsWith('node:') || builtinModules.includes(spec.split('/')[0]!)) continue
    found.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!)
  }
  return [...found]
}

const lists = new Map<PackageName, string[]>()
const listOf = (name: PackageName) => {
  let list = lists.get(name)
  if (!list) {
    list = packList(packages[name])
    lists.set(name, list)
  }
  return list
}
const manifestOf = (name: PackageName) =>
  JSON.parse(readFileSync(join(repoRoot, packages[name], 'package.json'), 'utf8')) as Manifest

describe.each(Object.keys(packages) as PackageName[])('%s tarball', (name) => {
  const dir = join(repoRoot, packages[name])

  it('contains every exports/main/types/bin target', () => {
    const files = new Set(listOf(name))
    const manifest = manifestOf(name)
    expect(manifest.name).toBe(name)
    const targets = [manifest.main, manifest.types, ...Object.values(manifest.bin ?? {})]
      .concat(exportTargets(manifest.exports))
      .filter((target): target is string => typeof target === 'string')
      .map(strip)
    expect(targets.length).toBeGreaterThan(2)
    for (const target of targets) {
      if (target === 'package.json') continue
      if (target.includes('*')) {
        // A subpath pattern must match at least one shipped file.
        const [head, tail] = target.split('*') as [string, string]
        const hits = [...files].filter((file) => file.startsWith(head) && file.endsWith(tail))
        expect(hits, `${name}: no file matches exports pattern ${target}`).not.toHaveLength(0)
      } else {
        expect(files.has(target), `${name}: ${target} is not in the tarball`).toBe(true)
      }
    }
  })

  it('ships README and package.json, no sources, tests or source maps; public, MIT', () => {
    const files = listOf(name)
    expect(files).toContain('README.md')
    expect(files).toContain('package.json')
    const leaked = files.filter(
      (file) =>
        /^(src|test|tests|bench|scripts)\//.test(file) ||
        /\.(test|spec)\.[cm]?[jt]s$/.test(file) ||
        file.endsWith('.map') ||
        /(^|\/)(\.env|\.npmrc|tsconfig[^/]*\.json|vitest\.config\.[jt]s)$/.test(file),
    )
    expect(leaked).toEqual([])
    const manifest = manifestOf(name)
    expect(manifest.license).toBe('MIT')
    expect(manifest.publishConfig?.access).toBe('public')
  })

  it('declares every package its shipped JavaScript imports', () => {
    const manifest = manifestOf(name)
    const declared = new Set([
      name,
      ...Object.keys(manifest.dependencies ?? {}),
      ...Object.keys(manifest.peerDependencies ?? {}),
    ])
    const missing = listOf(name)
      .filter((file) => /\.[cm]?js$/.test(file))
      .flatMap((file) =>
        bareImports(readFileSync(join(dir, file), 'utf8'))
          .filter((spec) => !declared.has(spec))
          .map((spec) => `${file} imports ${spec}`),
      )
    expect(missing).toEqual([])
  })

  it('declares exactly its expected bin, shipped and starting with the node shebang', () => {
    const manifest = manifestOf(name)
    const bin = expectedBins[name]
    if (bin === undefined) {
      expect(manifest.bin, `${name} declares no bin`).toBeUndefined()
      return
    }
    expect(Object.keys(manifest.bin ?? {})).toEqual([bin])
    const target = manifest.bin?.[bin]
    expect(target, `${name} must declare bin ${bin}`).toBeTypeOf('string')
    expect(listOf(name)).toContain(strip(target!))
    const firstLine = readFileSync(join(dir, target!), 'utf8').split('\n', 1)[0]
    expect(firstLine).toBe('#!/usr/bin/env node')
  })
})

describe('runtime assets read from disk are inside the tarballs', () => {
  it('protocol ships every JSON Schema and test vector', () => {
    const files = new Set(listOf('@comfy-remote/protocol'))
    const root = join(repoRoot, packages['@comfy-remote/protocol'])
    const assets = [
      ...walk(join(root, 'schema')).map((file) => `schema/${file}`),
      ...walk(join(root, 'vectors')).map((file) => `vectors/${file}`),
    ]
    expect(assets).toContain('vectors/vectors.json')
    expect(assets.filter((file) => file.endsWith('.json')).length).toBeGreaterThan(3)
    expect(assets.filter((file) => !files.has(file))).toEqual([])
  })

  it('io-helpers ships the recorded ComfyUI fixtures (the mock worker reads object_info.json from them)', () => {
    const files = new Set(listOf('@comfy-remote/io-helpers'))
    const fixtures = walk(join(repoRoot, 'packages', 'io-helpers', 'fixtures')).map(
      (file) => `fixtures/${file}`,
    )
    expect(fixtures).toContain('fixtures/comfyui-0.3.64/object_info.json')
    expect(fixtures.filter((file) => !files.has(file))).toEqual([])
    expect(manifestOf('@comfy-remote/mock-worker').dependencies).toHaveProperty('@comfy-remote/io-helpers')
  })

  it('modal-scaffolder ships the Modal templates and the node pack Python under dist/assets', () => {
    const files = new Set(listOf('@comfy-remote/modal-scaffolder'))
    const templates = walk(join(repoRoot, 'templates', 'modal')).map(
      (f) => `dist/assets/templates/modal/${f}`,
    )
    expect(templates).toContain('dist/assets/templates/modal/workflow.py.njk')
    const nodePack = join(repoRoot, 'apps', 'comfyui-extension')
    const skip = new Set(['bridge', 'web', '__pycache__', 'tests', 'test', 'node_modules', '.pytest_cache'])
    const python = [
      'dist/assets/nodepack/__init__.py',
      ...walk(join(nodePack, 'comfy_remote'), join(nodePack, 'comfy_remote'), skip).map(
        (file) => `dist/assets/nodepack/comfy_remote/${file}`,
      ),
    ]
    expect(python).toContain('dist/assets/nodepack/comfy_remote/__init__.py')
    expect([...templates, ...python].filter((file) => !files.has(file))).toEqual([])
  })
})

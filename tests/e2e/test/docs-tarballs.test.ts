// The packages as a user installs them before they are published: `npm run pack:npm`'s script packs
// every package into tarballs, a scratch project installs them with plain npm (dependencies from the
// registry, as a user's install would), and the guide's snippets and the CLIs run from there.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DOC_URL, snippetExpectations, snippets } from './support/doc-snippets.js'
import { repoRoot } from './support/paths.js'
import { runNode, stopAll } from './support/processes.js'
import { workerUrl } from './support/shared.js'

const project = mkdtempSync(join(tmpdir(), 'comfy-remote-user-'))
const bin = (name: string) => join(project, 'node_modules', '.bin', name)

beforeAll(() => {
  execFileSync(process.execPath, [join(repoRoot, 'scripts', 'pack-npm.mjs')], {
    stdio: 'ignore',
    timeout: 240_000,
  })
  const packed = join(repoRoot, 'dist-npm')
  const tarballs = readdirSync(packed)
    .filter((name) => name.endsWith('.tgz'))
    .map((name) => join(packed, name))
  writeFileSync(
    join(project, 'package.json'),
    '{"name": "user-project", "private": true, "type": "module"}\n',
  )
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...tarballs], {
    cwd: project,
    stdio: 'ignore',
    timeout: 240_000,
  })
}, 480_000)

afterAll(async () => {
  await stopAll()
  rmSync(project, { recursive: true, force: true })
})

describe('installed from the packed tarballs', () => {
  it.each(['comfy-remote', 'comfy-remote-mock', 'comfy-remote-modal'])('%s --help works', (name) => {
    const out = execFileSync(bin(name), ['--help'], { encoding: 'utf8', timeout: 30_000 })
    expect(out).toContain(name)
  })

  const guide = snippets().filter((s) => s.id.startsWith('npm-packages.md'))
  it.each(guide.map((s) => [s.id, s] as const))('%s runs from the user project', async (id, snippet) => {
    const file = join(project, `${id.replace(/[^a-z0-9]+/gi, '-')}.mjs`)
    writeFileSync(file, snippet.code.split(DOC_URL).join(workerUrl('echo', 'typed-inputs')))
    // cwd = the repository, for the example files the snippets read; imports resolve from the project
    const result = await runNode(file, [], { timeoutMs: 30_000, cwd: repoRoot })
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    for (const pattern of snippetExpectations[id] ?? []) expect(result.stdout).toMatch(pattern)
  })
})

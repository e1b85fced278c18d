import { existsSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ModalScaffolderError } from './errors.js'

/**
 * Where the templates and the node pack's Python live. The build copies both into `dist/assets/`
 * so the published package is self-contained; from a source checkout (tests run from `src/`) the
 * repository folders are used when `dist/assets` is missing.
 */
const here = dirname(fileURLToPath(import.meta.url))
const packageRoot = resolve(here, '..')
const repoRoot = resolve(packageRoot, '..', '..')

export interface AssetPaths {
  /** Folder holding `workflow.py.njk` and the static runtime modules. */
  templatesDir: string
  /** Folder holding the node pack's `__init__.py` and `comfy_remote/` (may be missing). */
  nodePackDir: string
  /** Folder holding `serve_local.py` and the in-process `local_modal/` of `comfy-remote-modal serve`. */
  serveDir: string
}

export function assetPaths(): AssetPaths {
  const built = join(packageRoot, 'dist', 'assets')
  const templatesDir = existsSync(join(built, 'templates', 'modal'))
    ? join(built, 'templates', 'modal')
    : join(repoRoot, 'templates', 'modal')
  const nodePackDir = existsSync(join(built, 'nodepack', '__init__.py'))
    ? join(built, 'nodepack')
    : join(repoRoot, 'apps', 'comfyui-extension')
  const serveDir = existsSync(join(built, 'serve', 'serve_local.py'))
    ? join(built, 'serve')
    : join(packageRoot, 'python')
  return { templatesDir, nodePackDir, serveDir }
}

export function requireTemplates(dir: string): string {
  if (!existsSync(join(dir, 'workflow.py.njk')))
    throw new ModalScaffolderError(
      'ASSETS_MISSING',
      `templates not found in ${dir}; rebuild the package (pnpm --filter @comfy-remote/modal-scaffolder build) or reinstall it.`,
    )
  return dir
}

export function requireNodePack(dir: string): string {
  if (!existsSync(join(dir, '__init__.py')) || !existsSync(join(dir, 'comfy_remote')))
    throw new ModalScaffolderError(
      'ASSETS_MISSING',
      `the Remote Input/Output node pack (__init__.py + comfy_remote/) was not found in ${dir}; rebuild the package so dist/assets/nodepack exists, or pass nodePackDir.`,
    )
  return dir
}

/** Names never copied from the node pack into a Modal project (UI, bridge, caches, tests). */
export const NODEPACK_EXCLUDES = new Set([
  'bridge',
  'web',
  '__pycache__',
  'tests',
  'test',
  'node_modules',
  '.pytest_cache',
])

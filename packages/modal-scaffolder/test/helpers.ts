import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const PACKAGE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..')
export const REPO_DIR = resolve(PACKAGE_DIR, '..', '..')
export const FIXTURES = join(PACKAGE_DIR, 'test', 'fixtures')
export const CLI = join(PACKAGE_DIR, 'dist', 'cli.js')
export const OBJECT_INFO = join(
  REPO_DIR,
  'packages',
  'io-helpers',
  'fixtures',
  'comfyui-0.3.64',
  'object_info.json',
)

const created: string[] = []

export function tempDir(prefix = 'cr-modal-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  created.push(dir)
  return dir
}

export function cleanupTempDirs(): void {
  for (const dir of created.splice(0)) rmSync(dir, { recursive: true, force: true })
}

/** The built node pack when it exists; otherwise an empty stand-in package (not node code). */
export function nodePackDir(): string {
  const built = join(PACKAGE_DIR, 'dist', 'assets', 'nodepack')
  if (existsSync(join(built, '__init__.py'))) return built
  const dir = join(tempDir('cr-nodepack-'), 'nodepack')
  mkdirSync(join(dir, 'comfy_remote'), { recursive: true })
  writeFileSync(join(dir, '__init__.py'), '# stand-in: apps/comfyui-extension is not built here\n')
  writeFileSync(join(dir, 'comfy_remote', '__init__.py'), '')
  return dir
}

export function hasRealNodePack(): boolean {
  return existsSync(join(PACKAGE_DIR, 'dist', 'assets', 'nodepack', '__init__.py'))
}

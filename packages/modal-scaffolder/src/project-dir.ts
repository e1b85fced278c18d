import { existsSync, lstatSync, readdirSync, readFileSync, realpathSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { isAbsolute, join, relative, resolve } from 'node:path'
import { ModalScaffolderError } from './errors.js'

/** The file that says "this directory was written by comfy-remote-modal". */
export const MARKER_FILE = '.comfy-remote-modal.json'
export const MARKER_TOOL = 'comfy-remote-modal'

export interface Marker {
  tool: typeof MARKER_TOOL
  app_name: string
  version: string
}

export function readMarker(dir: string): Marker | undefined {
  const file = join(dir, MARKER_FILE)
  if (!existsSync(file)) return undefined
  try {
    const value = JSON.parse(readFileSync(file, 'utf8')) as Partial<Marker>
    return value.tool === MARKER_TOOL && typeof value.app_name === 'string' ? (value as Marker) : undefined
  } catch {
    return undefined
  }
}

/** True when `child` is strictly inside `root` (after resolving symlinks of what exists). */
export function isInside(root: string, child: string): boolean {
  const real = (p: string) => (existsSync(p) ? realpathSync(p) : resolve(p))
  const rel = relative(real(root), real(child))
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel)
}

/**
 * Removes a project directory for a clean build. Refuses (CLEAN_REFUSED, nothing deleted) unless the
 * directory lies under `root`, is not a symlink, and holds our marker.
 */
export async function removeProjectDir(root: string, dir: string): Promise<boolean> {
  if (!existsSync(dir)) return false
  if (lstatSync(dir).isSymbolicLink())
    throw new ModalScaffolderError(
      'CLEAN_REFUSED',
      `clean build refused: ${dir} is a symbolic link; remove it yourself if it should go.`,
      { details: { dir } },
    )
  if (!isInside(root, dir))
    throw new ModalScaffolderError(
      'CLEAN_REFUSED',
      `clean build refused: ${dir} is not inside the output folder ${root}; nothing was deleted.`,
      { details: { dir, root } },
    )
  if (!readMarker(dir))
    throw new ModalScaffolderError(
      'CLEAN_REFUSED',
      `clean build refused: ${dir} has no ${MARKER_FILE}, so comfy-remote-modal did not create it; nothing was deleted. Pick another app name or output folder, or remove it yourself.`,
      { details: { dir } },
    )
  await rm(dir, { recursive: true, force: true })
  return true
}

/** Before writing: the directory must be new, empty, or ours and `overwrite` given. */
export function assertWritable(dir: string, overwrite = false): void {
  if (!existsSync(dir)) return
  const stat = lstatSync(dir)
  if (stat.isSymbolicLink() || !stat.isDirectory())
    throw new ModalScaffolderError(
      'OUTPUT_EXISTS',
      `${dir} exists and is not a plain directory; pick another app name or output folder.`,
      { details: { dir } },
    )
  if (readdirSync(dir).length > 0 && !readMarker(dir))
    throw new ModalScaffolderError(
      'OUTPUT_EXISTS',
      `${dir} already exists and was not created by comfy-remote-modal (no ${MARKER_FILE}); pick another app name or output folder, it will not be overwritten.`,
      { details: { dir } },
    )
  const marker = readMarker(dir)
  if (marker && !overwrite)
    throw new ModalScaffolderError(
      'OUTPUT_EXISTS',
      `${dir} already holds the Modal project of app "${marker.app_name}"; pass --overwrite (overwrite: true) to regenerate its files in place, or --clean (cleanBuild: true) to delete it and start over.`,
      { details: { dir, app_name: marker.app_name } },
    )
}

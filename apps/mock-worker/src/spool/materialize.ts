import { type FileBytes, isFileBytes } from './file-bytes.js'

/** True when a spool file sits anywhere in `node`. */
export function hasFileBytes(node: unknown): boolean {
  const stack: unknown[] = [node]
  while (stack.length > 0) {
    const item = stack.pop()
    if (isFileBytes(item)) return true
    if (item === null || typeof item !== 'object' || ArrayBuffer.isView(item)) continue
    for (const value of Object.values(item)) stack.push(value)
  }
  return false
}

/** A copy of `node` with every spool file replaced by `fn(file)`; branches without files are shared. */
export function mapFileBytes<T>(node: T, fn: (file: FileBytes) => unknown): T {
  if (isFileBytes(node)) return fn(node) as T
  if (node === null || typeof node !== 'object' || ArrayBuffer.isView(node) || !hasFileBytes(node))
    return node
  if (Array.isArray(node)) return node.map((item) => mapFileBytes(item, fn)) as T
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(node)) out[key] = mapFileBytes(value, fn)
  return out as T
}

/** Spool files read into memory: for the JSON transport (base64 text) and engines that need bytes whole. */
export function materialize<T>(node: T): T {
  return mapFileBytes(node, (file) => file.readAll())
}

const EMPTY = new Uint8Array(0)

/** Spool files as empty byte arrays: to validate a value's shape without reading its files. */
export function withoutFiles<T>(node: T): T {
  return mapFileBytes(node, () => EMPTY)
}

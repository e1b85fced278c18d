import type { EncodedValue } from '@comfy-remote/protocol'
import { isFileBytes } from './spool/file-bytes.js'

/** Rough in-memory cost of a JSON scalar (a number or a boolean is a double or a pointer). */
const SCALAR_BYTES = 8

/** Bytes a value holds: `memory` (counted against the budgets) and `disk` (spool files). */
export interface HeldBytes {
  memory: number
  disk: number
}

/**
 * What a value really holds, whatever its encoding (issue 14 defect 1: json, identity, object, list
 * and base64+pickle values used to count 0): bytes of Uint8Arrays, characters of strings (base64 text,
 * JSON strings, object keys), 8 per JSON scalar, spool files as disk bytes. Walks with an explicit
 * stack (no recursion depth to exhaust) in time linear in the value.
 */
export function heldBytes(value: unknown): HeldBytes {
  const held: HeldBytes = { memory: 0, disk: 0 }
  const stack: unknown[] = [value]
  while (stack.length > 0) {
    const node = stack.pop()
    if (node === null || node === undefined) continue
    if (typeof node === 'string') held.memory += node.length
    else if (node instanceof Uint8Array) held.memory += node.byteLength
    else if (isFileBytes(node)) held.disk += node.size
    else if (Array.isArray(node)) {
      held.memory += SCALAR_BYTES
      for (const item of node) stack.push(item)
    } else if (typeof node === 'object') {
      for (const [key, item] of Object.entries(node)) {
        held.memory += key.length
        stack.push(item)
      }
    } else held.memory += SCALAR_BYTES
  }
  return held
}

/** The spool files (FileBytes paths) a record of values holds, at any depth. */
export function spooledPaths(values: Record<string, EncodedValue> | undefined): Set<string> {
  const paths = new Set<string>()
  const stack: unknown[] = [values]
  while (stack.length > 0) {
    const node = stack.pop()
    if (isFileBytes(node)) paths.add(node.path)
    else if (typeof node === 'object' && node !== null && !(node instanceof Uint8Array))
      for (const item of Object.values(node)) stack.push(item)
  }
  return paths
}

/** Memory bytes of one value (see heldBytes). */
export function valueBytes(value: EncodedValue): number {
  return heldBytes(value.data).memory
}

/** What a record of values (request inputs or job outputs) holds in its `data`. */
export function valuesHeldBytes(values: Record<string, EncodedValue> | undefined): HeldBytes {
  const held: HeldBytes = { memory: 0, disk: 0 }
  for (const value of Object.values(values ?? {})) {
    if (typeof value !== 'object' || value === null) continue
    const one = heldBytes(value.data)
    held.memory += one.memory
    held.disk += one.disk
  }
  return held
}

/** Memory bytes of a record of values (request inputs or job outputs), counted against the budgets. */
export function valuesBytes(values: Record<string, EncodedValue> | undefined): number {
  return valuesHeldBytes(values).memory
}

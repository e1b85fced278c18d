import { ProtocolError } from '@comfy-remote/protocol'
import type { FileBytes } from './file-bytes.js'

const OPAQUE = new Set(['json', 'identity', 'base64+pickle'])

function isDict(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !ArrayBuffer.isView(value)
}

/**
 * Puts every `data: {"part": name}` of a decoded multipart message back as the part's bytes (in
 * memory or a spool file). Walks with an explicit stack: no recursion depth to exhaust.
 */
export function attachParts(message: unknown, parts: Map<string, Uint8Array | FileBytes>): void {
  const stack: unknown[] = [message]
  while (stack.length > 0) {
    const node = stack.pop()
    if (Array.isArray(node)) {
      for (const item of node) stack.push(item)
      continue
    }
    if (!isDict(node)) continue
    const data = node.data
    const opaque = typeof node.encoding === 'string' && OPAQUE.has(node.encoding)
    if (typeof node.encoding === 'string' && !opaque && isDict(data) && typeof data.part === 'string') {
      const bytes = parts.get(data.part)
      if (bytes === undefined) {
        throw new ProtocolError(
          'MULTIPART_MISSING_PART',
          `The message refers to part "${data.part}" that the body lacks.`,
          { field: 'data.part' },
        )
      }
      node.data = bytes
      continue
    }
    for (const [key, value] of Object.entries(node)) if (!(opaque && key === 'data')) stack.push(value)
  }
}

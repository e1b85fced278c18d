import type { ApiPrompt, EncodedValue } from '../types.js'
import { isLink } from '../types.js'
import { canonical } from './canonical.js'

/** Nodes ComfyUI never caches (their IS_CHANGED changes every run). */
const UNCACHEABLE = new Set(['SaveImageWebsocket'])

export interface CachedNode {
  value: EncodedValue
  ui?: Record<string, unknown>
}

/**
 * Input signatures as ComfyUI's cache computes them: a node's class, its literal inputs and, for linked
 * inputs, the signature of the source node and slot. Identical signatures reuse the cached result.
 */
export function signatures(prompt: ApiPrompt): Map<string, string | undefined> {
  const out = new Map<string, string | undefined>()
  const visit = (id: string, depth: number): string | undefined => {
    if (out.has(id)) return out.get(id)
    const node = prompt[id]
    if (!node || depth > 256) return undefined
    out.set(id, undefined) // cycle guard
    let cacheable = !UNCACHEABLE.has(node.class_type)
    const inputs: Record<string, unknown> = {}
    for (const [name, value] of Object.entries(node.inputs ?? {})) {
      if (!isLink(value)) {
        inputs[name] = value
        continue
      }
      const source = visit(String(value[0]), depth + 1)
      if (source === undefined) cacheable = false
      inputs[name] = [source, value[1]]
    }
    const signature = cacheable ? canonical({ class_type: node.class_type, inputs }) : undefined
    out.set(id, signature)
    return signature
  }
  for (const id of Object.keys(prompt)) visit(id, 0)
  return out
}

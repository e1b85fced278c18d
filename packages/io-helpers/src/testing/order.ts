import type { ApiPrompt, ObjectInfo } from '../types.js'
import { isLink } from '../types.js'

/**
 * The order ComfyUI 0.3.64's ExecutionList runs the nodes needed by `outputs`: a node runs when its
 * inputs are done; among ready nodes, output nodes first, then nodes feeding an output, then nodes two
 * steps from an output, then the first ready one.
 */
export function executionOrder(prompt: ApiPrompt, objectInfo: ObjectInfo, outputs: string[]): string[] {
  const pending = new Map<string, true>()
  const blockCount = new Map<string, number>()
  const blocking = new Map<string, Set<string>>()
  for (const output of outputs) {
    const stack = [output]
    const links: Array<[string, string]> = []
    while (stack.length > 0) {
      const id = stack.pop()!
      if (pending.has(id)) continue
      pending.set(id, true)
      blockCount.set(id, 0)
      if (!blocking.has(id)) blocking.set(id, new Set())
      for (const value of Object.values(prompt[id]?.inputs ?? {})) {
        if (!isLink(value) || !prompt[String(value[0])]) continue
        stack.push(String(value[0]))
        links.push([String(value[0]), id])
      }
    }
    for (const [from, to] of links) {
      const set = blocking.get(from) ?? new Set()
      blocking.set(from, set)
      if (!set.has(to)) {
        set.add(to)
        blockCount.set(to, (blockCount.get(to) ?? 0) + 1)
      }
    }
  }
  const isOutput = (id: string) => objectInfo[prompt[id]?.class_type ?? '']?.output_node === true
  const order: string[] = []
  while (pending.size > 0) {
    const available = [...pending.keys()].filter((id) => blockCount.get(id) === 0)
    if (available.length === 0) break // a cycle: ComfyUI reports it as an error; the fake stops.
    const blocked = (id: string) => [...(blocking.get(id) ?? [])]
    const pick =
      available.find(isOutput) ??
      available.find((id) => blocked(id).some(isOutput)) ??
      available.find((id) => blocked(id).some((b) => blocked(b).some(isOutput))) ??
      available[0]!
    order.push(pick)
    pending.delete(pick)
    for (const next of blocking.get(pick) ?? []) blockCount.set(next, (blockCount.get(next) ?? 1) - 1)
  }
  return order
}

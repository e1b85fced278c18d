import { NODE_IDS } from './slots.js'

/** What the glue reads from each Remote Input/Output node on the graph. */
export interface KeyedNode {
  id: number | string
  type: string
  key: string
  /** Muted (mode 2) and bypassed (mode 4) nodes do not reach the worker. */
  mode?: number
}

export interface DuplicateKey {
  kind: 'input' | 'output'
  key: string
  nodeIds: (number | string)[]
}

const ACTIVE = (n: KeyedNode) => n.mode !== 2 && n.mode !== 4

/** Remote Inputs (or Outputs) that share a `key`: the worker could not tell their values apart. */
export function findDuplicateKeys(nodes: readonly KeyedNode[]): DuplicateKey[] {
  const groups = new Map<string, DuplicateKey>()
  for (const node of nodes) {
    const kind = node.type === NODE_IDS.input ? 'input' : node.type === NODE_IDS.output ? 'output' : null
    if (!kind || !ACTIVE(node)) continue
    const key = node.key.trim()
    const id = `${kind}\u0000${key}`
    const group = groups.get(id) ?? { kind, key, nodeIds: [] }
    group.nodeIds.push(node.id)
    groups.set(id, group)
  }
  return [...groups.values()].filter((g) => g.nodeIds.length > 1 || g.key === '')
}

/** The warning shown on one node, or null when its key is fine. */
export function duplicateWarningFor(node: KeyedNode, duplicates: readonly DuplicateKey[]): string | null {
  for (const d of duplicates) {
    if (!d.nodeIds.some((id) => String(id) === String(node.id))) continue
    const what = d.kind === 'input' ? 'Remote Input' : 'Remote Output'
    if (d.key === '') return `${what} key is empty: give it a name the endpoint can use.`
    const others = d.nodeIds.filter((id) => String(id) !== String(node.id)).map((id) => `#${id}`)
    return `${what} key "${d.key}" is also used by ${others.join(', ')}: rename one of them.`
  }
  return null
}

import { describe, expect, it } from 'vitest'
import { flattenGraph, type GraphLike, type NodeLike } from './node-types.js'

const n = (id: number, extra: Partial<NodeLike> = {}): NodeLike => ({ id, size: [1, 1], ...extra })
const g = (...nodes: NodeLike[]): GraphLike => ({ nodes })

describe('flattenGraph', () => {
  it('gives nodes inside subgraphs graphToPrompt ids and inherits muted/bypassed from the subgraph node', () => {
    const inner = n(2)
    const root = g(
      n(1),
      n(5, { subgraph: g(n(1), inner) }),
      n(6, { mode: 4, subgraph: g(inner) }),
      n(7, { mode: 2 }),
    )
    expect(flattenGraph(root).map((p) => [p.id, p.active])).toEqual([
      ['1', true],
      ['5:1', true],
      ['5:2', true],
      ['6:2', false],
      ['7', false],
    ])
    expect(flattenGraph(root).filter((p) => p.node === inner)).toHaveLength(2)
  })

  it('reads LiteGraph _nodes when nodes is missing, and stops at a self-containing subgraph', () => {
    const loop: GraphLike = { _nodes: [] }
    loop._nodes?.push(n(3, { subgraph: loop }))
    expect(flattenGraph(null)).toEqual([])
    expect(flattenGraph(loop)).toEqual([])
  })
})

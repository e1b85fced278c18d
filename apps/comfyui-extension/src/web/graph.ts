import { app } from './comfy.js'
import type { GraphLike, NodeLike } from './node-types.js'

interface AppGraphs {
  rootGraph?: GraphLike | null
  graph?: GraphLike | null
  isGraphReady?: boolean
}

/**
 * The root graph. Current frontends have `app.rootGraph` (and deprecate `app.graph`; `rootGraph` logs an
 * error when read before the graph exists, hence `isGraphReady`); older ones only have `app.graph`.
 */
export function rootGraph(): GraphLike | null {
  const a = app as unknown as AppGraphs | undefined
  if (!a || a.isGraphReady === false) return null
  if ('rootGraph' in a) return a.rootGraph ?? null
  return a.graph ?? null
}

/**
 * The node an execution id names. ComfyUI reports nodes inside subgraphs by their flattened
 * `graphToPrompt` id (`"12:5"`: node 5 inside the subgraph of node 12); plain ids are root nodes.
 */
export function nodeByExecutionId(id: unknown): NodeLike | null {
  if (typeof id !== 'string' && typeof id !== 'number') return null
  const parts = String(id).split(':')
  let graph = rootGraph()
  let node: NodeLike | null = null
  for (const part of parts) {
    if (!graph?.getNodeById) return null
    node = graph.getNodeById(/^\d+$/.test(part) ? Number(part) : part) ?? null
    if (!node) return null
    graph = node.subgraph ?? null
  }
  return node
}

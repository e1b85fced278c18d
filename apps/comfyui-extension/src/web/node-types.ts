/** The few LiteGraph node members the glue touches (structural, so it works across frontend versions). */
export interface SlotLike {
  name: string
  type: string | number
  link?: number | null
  label?: string
}

export interface WidgetLike {
  name: string
  value: unknown
  callback?: (...args: unknown[]) => unknown
}

export interface NodeLike {
  id: number | string
  type?: string
  comfyClass?: string
  mode?: number
  size: [number, number] | Float32Array | number[]
  inputs?: SlotLike[]
  widgets?: WidgetLike[]
  properties?: Record<string, unknown>
  addInput?(name: string, type: string): unknown
  setDirtyCanvas?(fg: boolean, bg?: boolean): void
  /** Set on subgraph nodes (frontends with subgraphs): the graph inside. */
  subgraph?: GraphLike
}

export interface GraphLike {
  nodes?: NodeLike[]
  _nodes?: NodeLike[]
  getNodeById?(id: number | string): NodeLike | null | undefined
}

export function classOf(node: NodeLike): string {
  return node.comfyClass ?? node.type ?? ''
}

export function widget(node: NodeLike, name: string): WidgetLike | undefined {
  return node.widgets?.find((w) => w.name === name)
}

export function graphNodes(graph: GraphLike | undefined | null): NodeLike[] {
  return graph?.nodes ?? graph?._nodes ?? []
}

/** A node as `graphToPrompt` places it: its execution id and whether it (and every enclosing subgraph) runs. */
export interface PlacedNode {
  node: NodeLike
  id: string
  active: boolean
}

const MAX_DEPTH = 16

/** Every node reachable from `graph`, subgraphs flattened (`"12:5"`); muted (2) and bypassed (4) mark inactive. */
export function flattenGraph(graph: GraphLike | null, prefix = '', active = true, depth = 0): PlacedNode[] {
  const out: PlacedNode[] = []
  for (const node of graphNodes(graph)) {
    const id = `${prefix}${node.id}`
    const on = active && node.mode !== 2 && node.mode !== 4
    // A subgraph node is not itself in the prompt; its contents are (bounded, in case of a cycle).
    if (node.subgraph) {
      if (depth < MAX_DEPTH) out.push(...flattenGraph(node.subgraph, `${id}:`, on, depth + 1))
    } else out.push({ node, id, active: on })
  }
  return out
}

/** Draws one line of text under a node's body (canvas renderer). */
export function drawNote(
  ctx: CanvasRenderingContext2D,
  node: NodeLike,
  text: string,
  color: string,
  row = 0,
) {
  ctx.save()
  ctx.font = '12px sans-serif'
  ctx.fillStyle = color
  ctx.textAlign = 'left'
  ctx.fillText(text, 6, (node.size[1] ?? 0) + 16 + row * 15)
  ctx.restore()
}

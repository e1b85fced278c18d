import { beforeAll, describe, expect, it } from 'vitest'
import type { NodeLike } from '../src/web/node-types.js'

/**
 * The old-frontend slot handling (src/web/legacy-autogrow.ts) on the REAL LiteGraph classes
 * (@comfyorg/litegraph, the graph library the 1.2x ComfyUI frontends are built from): a node as ComfyUI
 * 0.3.64 describes Remote API (eight `input_k_$remote_inputs_ag$` inputs, then a widget input), tidied
 * from its constructor (as nodeCreated runs), on connect/disconnect and after loading a saved workflow.
 * Every link's target_slot must stay equal to its input's index, and the saved names must not change.
 */
type LG = typeof import('@comfyorg/litegraph')
let LiteGraph: LG['LiteGraph']
let LGraph: LG['LGraph']
let tidy: typeof import('../src/web/legacy-autogrow.js')
const AG = (k: number) => `input_${k}_$remote_inputs_ag$`

interface Slot {
  name: string
  label?: string
  link: number | null
}
interface GraphNode {
  id: number
  inputs: Slot[]
  connect(slot: number, target: GraphNode, targetSlot: number): unknown
  disconnectInput(slot: number): unknown
}
interface Graph {
  add(node: unknown): unknown
  getNodeById(id: number): GraphNode
  serialize(): unknown
  configure(data: unknown): unknown
  _links: Map<number, { target_slot: number }>
}

const view = (n: GraphNode) => n.inputs.map((i) => `${i.label ?? i.name}${i.link != null ? '*' : ''}`)
function linksMatchIndexes(graph: Graph, node: GraphNode) {
  for (const [index, input] of node.inputs.entries())
    if (input.link != null) expect(graph._links.get(input.link)?.target_slot, input.name).toBe(index)
}

beforeAll(async () => {
  // LiteGraph's module reads window/document at import; the canvas is not used here.
  const g = globalThis as Record<string, unknown>
  g.window ??= globalThis
  g.document ??= { createElement: () => ({ getContext: () => null }) }
  const lg = await import('@comfyorg/litegraph')
  LiteGraph = lg.LiteGraph
  LGraph = lg.LGraph
  tidy = await import('../src/web/legacy-autogrow.js')
  const LGraphNode = lg.LGraphNode as unknown as new (
    title: string,
  ) => { addInput(name: string, type: string): unknown; addOutput(name: string, type: string): unknown }
  class Source extends LGraphNode {
    constructor() {
      super('Source')
      this.addOutput('X', '*')
    }
  }
  // ComfyUI 0.3.64 + frontend 1.2x: the raw node, as the original pack's workflows were saved
  class Raw extends LGraphNode {
    constructor() {
      super('Remote API')
      for (let k = 1; k <= 8; k++) this.addInput(AG(k), '*')
      this.addInput('url', '*')
    }
  }
  // the same with the pack's extension: nodeCreated runs in the constructor, hooks on the prototype
  class Api extends Raw {
    constructor() {
      super()
      tidy.tidyLegacyAutogrow(this as unknown as NodeLike)
    }
  }
  tidy.patchLegacyAutogrow(Api)
  LiteGraph.registerNodeType('test/Source', Source)
  LiteGraph.registerNodeType('test/Raw', Raw)
  LiteGraph.registerNodeType('test/Api', Api)
})

const tick = () => new Promise((r) => setTimeout(r, 5))

describe('legacy autogrow slots on the real LiteGraph classes', () => {
  it('a new node shows one readable slot and grows by one free slot per connection', async () => {
    const graph = new LGraph() as unknown as Graph
    const source = LiteGraph.createNode('test/Source') as unknown as GraphNode
    const api = LiteGraph.createNode('test/Api') as unknown as GraphNode
    graph.add(source)
    graph.add(api)
    expect(view(api)).toEqual(['input 1', 'url'])
    source.connect(0, api, 0)
    await tick()
    expect(view(api)).toEqual(['input 1*', 'input 2', 'url'])
    source.connect(0, api, 1)
    await tick()
    expect(view(api)).toEqual(['input 1*', 'input 2*', 'input 3', 'url'])
    linksMatchIndexes(graph, api)
  })

  it('an old workflow (all eight slots saved) loads with its links, names and prompt keys intact', async () => {
    const old = new LGraph() as unknown as Graph
    const source = LiteGraph.createNode('test/Source') as unknown as GraphNode
    const raw = LiteGraph.createNode('test/Raw') as unknown as GraphNode
    old.add(source)
    old.add(raw)
    source.connect(0, raw, 0)
    source.connect(0, raw, 2)
    source.connect(0, raw, 8) // url as a socket, after the slots that go away
    const saved = JSON.parse(JSON.stringify(old.serialize())) as { nodes: { type: string }[] }
    for (const n of saved.nodes) if (n.type === 'test/Raw') n.type = 'test/Api'

    const graph = new LGraph() as unknown as Graph
    graph.configure(saved)
    const api = graph.getNodeById(raw.id)
    expect(view(api)).toEqual(['input 1*', 'input 2', 'input 3*', 'url*'])
    expect(api.inputs.filter((i) => i.link != null).map((i) => i.name)).toEqual([AG(1), AG(3), 'url'])
    linksMatchIndexes(graph, api)

    api.disconnectInput(0)
    await tick()
    expect(view(api)).toEqual(['input 1', 'input 3*', 'url*'])
    linksMatchIndexes(graph, api)

    const again = new LGraph() as unknown as Graph
    again.configure(JSON.parse(JSON.stringify(graph.serialize())))
    expect(view(again.getNodeById(raw.id))).toEqual(['input 1', 'input 3*', 'url*'])
    linksMatchIndexes(again, again.getNodeById(raw.id))
  })
})

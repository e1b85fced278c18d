import { WorkflowConversionError } from './errors.js'
import type { ObjectInfo } from './types.js'
import { isRecord } from './types.js'

export interface UiInput {
  name: string
  type?: string
  link?: number | null
  widget?: { name: string }
}

export interface UiNode {
  id: number | string
  type: string
  mode?: number
  title?: string
  inputs?: UiInput[]
  outputs?: Array<{ name?: string; type?: string; links?: number[] | null }>
  widgets_values?: unknown[] | Record<string, unknown>
}

export interface UiLink {
  id: number
  originId: string
  originSlot: number
  targetId: string
  targetSlot: number
  type: string
}

/** A subgraph definition (`definitions.subgraphs[]`): its own nodes and links; -10/-20 are its input/output. */
export interface UiSubgraph {
  id: string
  name?: string
  nodes: UiNode[]
  links?: unknown[]
}

/** A UI-format workflow as the editor saves it (only the fields the conversion reads). */
export interface UiWorkflow {
  nodes: UiNode[]
  links?: unknown[]
  definitions?: { subgraphs?: UiSubgraph[] }
  extra?: Record<string, unknown>
  [key: string]: unknown
}

/** A node placed in the flattened graph: `path` is its execution id ("12", or "12:5" inside subgraph 12). */
export interface PlacedNode {
  path: string
  /** Path of the graph it lives in ("" for the root graph). */
  scope: string
  node: UiNode
  subgraph?: UiSubgraph
}

export const MODE_MUTED = 2
export const MODE_BYPASSED = 4
export const SUBGRAPH_INPUT_ID = '-10'
export const SUBGRAPH_OUTPUT_ID = '-20'
/** Frontend-only nodes: never sent to the server. */
export const VIRTUAL_NODE_TYPES = new Set(['Reroute', 'Note', 'MarkdownNote', 'PrimitiveNode'])
const MAX_DEPTH = 16

export function exportHint(): string {
  return 'open it in the ComfyUI editor and save it with "Export (API)", then use that file'
}

const isScalar = (value: unknown): value is number | string =>
  typeof value === 'number' || typeof value === 'string'

function parseLink(raw: unknown, where: string): UiLink {
  if (Array.isArray(raw) && raw.length >= 5 && raw.slice(0, 5).every(isScalar)) {
    const [id, originId, originSlot, targetId, targetSlot, type] = raw
    return {
      id: Number(id),
      originId: String(originId),
      originSlot: Number(originSlot),
      targetId: String(targetId),
      targetSlot: Number(targetSlot),
      type: typeof type === 'string' ? type : '*',
    }
  }
  if (
    isRecord(raw) &&
    [raw.id, raw.origin_id, raw.origin_slot, raw.target_id, raw.target_slot].every(isScalar)
  ) {
    return {
      id: Number(raw.id),
      originId: String(raw.origin_id),
      originSlot: Number(raw.origin_slot),
      targetId: String(raw.target_id),
      targetSlot: Number(raw.target_slot),
      type: typeof raw.type === 'string' ? raw.type : '*',
    }
  }
  throw new WorkflowConversionError(
    'INVALID_WORKFLOW',
    `${where}: expected [id, origin, slot, target, slot, type]; ${exportHint()}`,
  )
}

/** Every index holds an element: `every`/`forEach` skip holes (`delete list[0]`), the converter must not. */
function isDense(list: unknown[]): boolean {
  for (let i = 0; i < list.length; i++) if (!(i in list)) return false
  return true
}

const isActive = (node: UiNode) => node.mode !== MODE_MUTED && node.mode !== MODE_BYPASSED

/** The workflow flattened: subgraph instances expanded into scoped nodes and links. */
export class UiGraph {
  readonly nodes = new Map<string, PlacedNode>()
  private readonly links = new Map<string, UiLink>()
  private readonly subgraphOutputs = new Map<string, Map<number, number>>()
  /** Subgraph definitions by id (`definitions.subgraphs[].id`). */
  readonly subgraphs = new Map<string, UiSubgraph>()

  constructor(workflow: UiWorkflow) {
    if (!isRecord(workflow) || !Array.isArray(workflow.nodes)) {
      throw new WorkflowConversionError(
        'INVALID_WORKFLOW',
        `Not a UI-format workflow (no "nodes" list); ${exportHint()}`,
      )
    }
    for (const def of workflow.definitions?.subgraphs ?? []) {
      if (isRecord(def) && typeof def.id === 'string' && Array.isArray(def.nodes))
        this.subgraphs.set(def.id, def)
    }
    this.addScope('', workflow.nodes, workflow.links, 0)
  }

  private addScope(scope: string, nodes: unknown[], links: unknown, depth: number): void {
    const where = scope ? `subgraph ${scope} ` : ''
    if (links !== undefined && (!Array.isArray(links) || !isDense(links))) {
      throw new WorkflowConversionError('INVALID_WORKFLOW', `${where}links: expected a list; ${exportHint()}`)
    }
    if (!isDense(nodes)) {
      throw new WorkflowConversionError('INVALID_WORKFLOW', `${where}nodes: expected a list; ${exportHint()}`)
    }
    if (depth > MAX_DEPTH) {
      throw new WorkflowConversionError(
        'INVALID_WORKFLOW',
        `Subgraphs nest deeper than ${MAX_DEPTH} levels at ${scope}`,
        {
          nodeIds: [scope],
        },
      )
    }
    const outputs = new Map<number, number>()
    ;(links ?? []).forEach((raw: unknown, i: number) => {
      const link = parseLink(raw, `${where}links[${i}]`)
      this.links.set(`${scope}#${link.id}`, link)
      if (link.targetId === SUBGRAPH_OUTPUT_ID) outputs.set(link.targetSlot, link.id)
    })
    this.subgraphOutputs.set(scope, outputs)
    nodes.forEach((node, i) => {
      if (
        !isRecord(node) ||
        (typeof node.id !== 'number' && typeof node.id !== 'string') ||
        typeof node.type !== 'string'
      ) {
        throw new WorkflowConversionError(
          'INVALID_WORKFLOW',
          `${where}nodes[${i}]: expected {id, type, ...}; ${exportHint()}`,
        )
      }
      for (const key of ['inputs', 'outputs'] as const) {
        const slots = node[key]
        if (slots !== undefined && (!Array.isArray(slots) || !isDense(slots) || !slots.every(isRecord))) {
          throw new WorkflowConversionError(
            'INVALID_WORKFLOW',
            `${where}nodes[${i}] (node ${String(node.id)}): "${key}" must be a list of slot objects; ${exportHint()}`,
            { nodeIds: [String(node.id)] },
          )
        }
      }
      const ui = node as unknown as UiNode
      const path = scope ? `${scope}:${ui.id}` : String(ui.id)
      const subgraph = this.subgraphs.get(ui.type)
      this.nodes.set(path, { path, scope, node: ui, subgraph })
      if (subgraph && isActive(ui)) this.addScope(path, subgraph.nodes, subgraph.links, depth + 1)
    })
  }

  link(scope: string, id: number): UiLink | undefined {
    return this.links.get(`${scope}#${id}`)
  }

  /** Links of graph `scope` leaving output `originSlot` of node `originId` (e.g. "-10", a subgraph input). */
  linksFrom(scope: string, originId: string, originSlot: number): UiLink[] {
    const prefix = `${scope}#`
    return [...this.links]
      .filter(([key, l]) => key.startsWith(prefix) && l.originId === originId && l.originSlot === originSlot)
      .map(([, l]) => l)
  }

  /** The link feeding output `slot` of the subgraph instance at `path`, inside it. */
  subgraphOutputLink(path: string, slot: number): number | undefined {
    return this.subgraphOutputs.get(path)?.get(slot)
  }

  node(scope: string, id: string): PlacedNode {
    const path = scope ? `${scope}:${id}` : id
    const placed = this.nodes.get(path)
    if (!placed) {
      throw new WorkflowConversionError(
        'INVALID_WORKFLOW',
        `A link points at node ${path}, which is not in the workflow; ${exportHint()}`,
        {
          nodeIds: [path],
        },
      )
    }
    return placed
  }

  /** The placed nodes that become API nodes: active, not virtual, not subgraph instances. */
  executable(): PlacedNode[] {
    return [...this.nodes.values()].filter(
      (p) => isActive(p.node) && !p.subgraph && !VIRTUAL_NODE_TYPES.has(p.node.type),
    )
  }

  /** Reject nodes the conversion cannot handle: unknown classes and group nodes. */
  checkSupported(objectInfo: ObjectInfo): void {
    for (const { path, node } of this.executable()) {
      if (objectInfo[node.type]) continue
      const what =
        node.type.startsWith('workflow>') || node.type.startsWith('workflow/')
          ? 'is a group node'
          : `has class "${node.type}", which this server's object_info does not know (missing custom node or subgraph definition?)`
      throw new WorkflowConversionError(
        'UNSUPPORTED_UI_NODE',
        `Cannot convert node ${path} (${node.type}): it ${what}; ${exportHint()}`,
        {
          nodeIds: [path],
        },
      )
    }
  }
}

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

/** A UI-format workflow as the editor saves it (only the fields the conversion reads). */
export interface UiWorkflow {
  nodes: UiNode[]
  links?: unknown[]
  definitions?: { subgraphs?: Array<{ id: string; name?: string }> }
  extra?: Record<string, unknown>
  [key: string]: unknown
}

export const MODE_MUTED = 2
export const MODE_BYPASSED = 4
/** Frontend-only nodes: never sent to the server. */
export const VIRTUAL_NODE_TYPES = new Set(['Reroute', 'Note', 'MarkdownNote', 'PrimitiveNode'])

export function exportHint(): string {
  return 'open it in the ComfyUI editor and save it with "Export (API)", then use that file'
}

function parseLink(raw: unknown, index: number): UiLink {
  if (Array.isArray(raw) && raw.length >= 5) {
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
  if (isRecord(raw) && 'origin_id' in raw && 'target_id' in raw) {
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
    `links[${index}]: expected [id, origin, slot, target, slot, type]; ${exportHint()}`,
  )
}

/** Index of a UI workflow: nodes by id and links by id. Throws on malformed structure. */
export class UiGraph {
  readonly nodes = new Map<string, UiNode>()
  readonly links = new Map<number, UiLink>()
  readonly subgraphIds: Set<string>

  constructor(workflow: UiWorkflow) {
    if (!isRecord(workflow) || !Array.isArray(workflow.nodes)) {
      throw new WorkflowConversionError(
        'INVALID_WORKFLOW',
        `Not a UI-format workflow (no "nodes" list); ${exportHint()}`,
      )
    }
    workflow.nodes.forEach((node, i) => {
      if (
        !isRecord(node) ||
        (typeof node.id !== 'number' && typeof node.id !== 'string') ||
        typeof node.type !== 'string'
      ) {
        throw new WorkflowConversionError(
          'INVALID_WORKFLOW',
          `nodes[${i}]: expected {id, type, ...}; ${exportHint()}`,
        )
      }
      this.nodes.set(String(node.id), node)
    })
    ;(workflow.links ?? []).forEach((raw, i) => {
      const link = parseLink(raw, i)
      this.links.set(link.id, link)
    })
    this.subgraphIds = new Set((workflow.definitions?.subgraphs ?? []).map((s) => String(s.id)))
  }

  node(id: string): UiNode {
    const node = this.nodes.get(id)
    if (!node) {
      throw new WorkflowConversionError(
        'INVALID_WORKFLOW',
        `A link points at node ${id}, which is not in the workflow; ${exportHint()}`,
        {
          nodeIds: [id],
        },
      )
    }
    return node
  }

  /** Reject nodes the conversion cannot handle: unknown classes, subgraphs, group nodes. */
  checkSupported(objectInfo: ObjectInfo): void {
    for (const [id, node] of this.nodes) {
      if (node.mode === MODE_MUTED || node.mode === MODE_BYPASSED || VIRTUAL_NODE_TYPES.has(node.type))
        continue
      if (objectInfo[node.type]) continue
      const what = this.subgraphIds.has(node.type)
        ? 'is a subgraph'
        : node.type.startsWith('workflow>') || node.type.startsWith('workflow/')
          ? 'is a group node'
          : `has class "${node.type}", which this server's object_info does not know (missing custom node?)`
      throw new WorkflowConversionError(
        'UNSUPPORTED_UI_NODE',
        `Cannot convert node ${id} (${node.type}): it ${what}; ${exportHint()}`,
        {
          nodeIds: [id],
        },
      )
    }
  }
}

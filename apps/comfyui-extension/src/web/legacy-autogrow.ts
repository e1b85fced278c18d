import type { NodeLike, SlotLike } from './node-types.js'
import { MAX_REMOTE_INPUTS } from './slots.js'

/**
 * Remote API inputs on frontends without native autogrow (ComfyUI 0.3.6x with frontend 1.2x): the server
 * reports `AutogrowDynamic` as eight plain inputs `input_1_$remote_inputs_ag$ ... input_8_...`, which such a
 * frontend shows all at once under their raw names. Here they get readable labels (`input 1..N`, or the
 * endpoint's names after "Load inputs from endpoint") and only the connected slots, the named ones and one
 * free slot stay on the node. Slot NAMES never change, so the saved prompt keys (and old workflows) stay as
 * they are; an unconnected slot contributes nothing to a prompt, so hiding it changes no run.
 * Frontends with native autogrow (`remote_inputs.input0` ...) have no such names and are left alone.
 */
const AG_SLOT = /^input_(\d+)_\$([A-Za-z0-9_]+)_ag\$$/
const DEFAULT_LABEL = /^input \d+$/
const NATIVE_SLOT = /^remote_inputs\.input\d+$/

export interface AgSlot {
  position: number
  linked: boolean
}

/** 1-based position of an `AutogrowDynamic` slot name, else null. */
export function agPosition(name: string): number | null {
  const m = AG_SLOT.exec(name)
  return m ? Number(m[1]) : null
}

/**
 * Which positions stay on the node: every connected one, the first `named` ones (declared by the endpoint),
 * and, when none of those is free, the lowest free position (up to `max`).
 */
export function visiblePositions(slots: AgSlot[], named: number, max = MAX_REMOTE_INPUTS): number[] {
  const linked = new Set(slots.filter((s) => s.linked).map((s) => s.position))
  const keep = new Set(linked)
  for (let k = 1; k <= Math.min(named, max); k++) keep.add(k)
  const hasFree = [...keep].some((k) => !linked.has(k))
  if (!hasFree) {
    for (let k = 1; k <= max; k++)
      if (!keep.has(k)) {
        keep.add(k)
        break
      }
  }
  return [...keep].sort((a, b) => a - b)
}

/** The label a slot shows: a name set by "Load inputs from endpoint" stays, else `input k`. */
export function slotLabel(slot: SlotLike, position: number): string {
  const label = slot.label?.trim()
  if (label && label !== slot.name && !DEFAULT_LABEL.test(label)) return label
  return `input ${position}`
}

interface LinkLike {
  target_slot: number
}
interface GraphWithLinks {
  _links?: Map<number, LinkLike>
  links?: Map<number, LinkLike> | Record<number, LinkLike>
}
type TidyNode = NodeLike & {
  graph?: GraphWithLinks | null
  removeInput?(slot: number): void
}

function linkById(graph: GraphWithLinks | null | undefined, id: number): LinkLike | undefined {
  if (!graph) return undefined
  if (graph._links instanceof Map) return graph._links.get(id)
  const links = graph.links
  if (links instanceof Map) return links.get(id)
  return links?.[id]
}

/** Moves input `from` to index `to`, keeping every link's target_slot in step (as removeInput does). */
function moveInput(node: TidyNode, from: number, to: number) {
  const inputs = node.inputs ?? []
  const [slot] = inputs.splice(from, 1)
  if (!slot) return
  inputs.splice(to, 0, slot)
  for (let i = Math.min(from, to); i <= Math.max(from, to); i++) {
    const id = inputs[i]?.link
    if (id == null) continue
    const link = linkById(node.graph, id)
    if (link) link.target_slot = i
  }
}

/** How many inputs the endpoint declared ("Load inputs from endpoint" stores their names). */
function namedCount(node: NodeLike): number {
  const names = node.properties?.['comfyRemote.inputNames']
  return Array.isArray(names) ? names.length : 0
}

/**
 * Shows the `AutogrowDynamic` slots of one Remote API node as described above. Returns false (and does
 * nothing) on frontends with native autogrow or when the node cannot add/remove inputs.
 */
export function tidyLegacyAutogrow(node: TidyNode): boolean {
  const inputs = node.inputs ?? []
  const found = inputs
    .map((slot, index) => ({ slot, index, position: agPosition(slot.name) }))
    .filter((s): s is { slot: SlotLike; index: number; position: number } => s.position !== null)
  if (found.length === 0 || !node.removeInput || !node.addInput) return false
  if (inputs.some((s) => NATIVE_SLOT.test(s.name))) {
    // a workflow saved on 0.3.6x opened with native autogrow (0.4+): the frontend owns the slots; only
    // make the old ones readable (they still run: ComfyUI passes linked undeclared inputs through)
    for (const s of found) s.slot.label = slotLabel(s.slot, s.position)
    node.setDirtyCanvas?.(true, true)
    return true
  }
  const first = found[0] as { slot: SlotLike }
  const suffix = AG_SLOT.exec(first.slot.name)?.[2] ?? 'remote_inputs'
  const type = String(first.slot.type ?? '*')
  const keep = new Set(
    visiblePositions(
      found.map((s) => ({ position: s.position, linked: s.slot.link != null })),
      namedCount(node),
    ),
  )
  // remove unconnected slots that are not kept (from the end, so indexes stay valid). A node still being
  // built (nodeCreated runs in its constructor) has no graph, and LiteGraph's removeInput throws then
  // (NullGraphError from disconnectInput); without a graph there are no links, so a splice is the same.
  for (const s of [...found].reverse())
    if (!keep.has(s.position) && s.slot.link == null) {
      if (node.graph) node.removeInput(s.index)
      else inputs.splice(s.index, 1)
    }
  // add kept positions that are missing, each right after the last slot of a lower position
  for (const k of keep) {
    if ((node.inputs ?? []).some((s) => agPosition(s.name) === k)) continue
    node.addInput(`input_${k}_$${suffix}_ag$`, type)
    const added = node.inputs ?? []
    const after = added.reduce((at, s, i) => {
      const p = agPosition(s.name)
      return p !== null && p < k ? i : at
    }, -1)
    const before = added.findIndex((s) => {
      const p = agPosition(s.name)
      return p !== null && p > k
    })
    const last = added.length - 1
    const to = after >= 0 ? after + 1 : before >= 0 ? before : last
    if (to !== last) moveInput(node, last, to)
  }
  for (const slot of node.inputs ?? []) {
    const k = agPosition(slot.name)
    if (k !== null) slot.label = slotLabel(slot, k)
  }
  node.setDirtyCanvas?.(true, true)
  return true
}

type Proto = {
  onConfigure?: (this: TidyNode, ...args: unknown[]) => unknown
  onConnectionsChange?: (this: TidyNode, type: unknown, ...rest: unknown[]) => unknown
}

/** Re-tidies after a workflow loads into the node and after each (dis)connection of an input. */
export function patchLegacyAutogrow(nodeType: { prototype: unknown }) {
  const proto = nodeType.prototype as Proto
  const configure = proto.onConfigure
  proto.onConfigure = function (...args) {
    const r = configure?.apply(this, args)
    tidyLegacyAutogrow(this)
    return r
  }
  const changed = proto.onConnectionsChange
  proto.onConnectionsChange = function (type, ...rest) {
    const r = changed?.call(this, type, ...rest)
    // 1 = LiteGraph.INPUT. Later, not inside litegraph's connect/disconnect that is still running.
    if (type === 1) setTimeout(() => tidyLegacyAutogrow(this), 0)
    return r
  }
}

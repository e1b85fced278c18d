import { app } from './comfy.js'
import { type DuplicateKey, duplicateWarningFor, findDuplicateKeys } from './duplicates.js'
import { rootGraph } from './graph.js'
import { classOf, drawNote, flattenGraph, type NodeLike, widget } from './node-types.js'
import { NODE_IDS } from './slots.js'
import { toast } from './toast.js'

let duplicates: DuplicateKey[] = []
let lastWarned = ''
/** Execution ids of each Remote Input/Output (a node inside a subgraph used twice has two). */
let idsByNode = new Map<NodeLike, string[]>()

/**
 * Recomputes duplicate Remote Input/Output keys over the graph as graphToPrompt flattens it (subgraph
 * contents included, muted/bypassed ones and those inside muted/bypassed subgraphs left out); toasts once
 * per new problem.
 */
export function refreshDuplicates() {
  const placed = flattenGraph(rootGraph()).filter(
    (p) => classOf(p.node) === NODE_IDS.input || classOf(p.node) === NODE_IDS.output,
  )
  idsByNode = new Map()
  for (const p of placed) idsByNode.set(p.node, [...(idsByNode.get(p.node) ?? []), p.id])
  duplicates = findDuplicateKeys(
    placed.map((p) => ({
      id: p.id,
      type: classOf(p.node),
      key: String(widget(p.node, 'key')?.value ?? ''),
      mode: p.active ? 0 : 2,
    })),
  )
  const signature = duplicates.map((d) => `${d.kind}:${d.key}:${d.nodeIds.join(',')}`).join('|')
  if (signature && signature !== lastWarned) {
    const text = duplicates.map(
      (d) => `${d.kind} "${d.key}": nodes ${d.nodeIds.map((id) => `#${id}`).join(', ')}`,
    )
    toast('warn', 'Duplicate Remote Input/Output names', text.join('\n'))
  }
  lastWarned = signature
  ;(app as unknown as { canvas?: { setDirty?(a: boolean, b: boolean): void } }).canvas?.setDirty?.(
    true,
    false,
  )
}

type Proto = {
  onDrawForeground?: (this: NodeLike, ctx: CanvasRenderingContext2D, ...rest: unknown[]) => unknown
  onRemoved?: (this: NodeLike, ...rest: unknown[]) => unknown
}

/** Patches Remote Input/Output classes: a red warning line under nodes whose key is duplicated. */
export function patchRemoteIoNode(nodeType: { prototype: unknown }) {
  const proto = nodeType.prototype as Proto
  const draw = proto.onDrawForeground
  proto.onDrawForeground = function (ctx, ...rest) {
    const r = draw?.call(this, ctx, ...rest)
    const key = String(widget(this, 'key')?.value ?? '')
    for (const id of idsByNode.get(this) ?? [String(this.id)]) {
      const warning = duplicateWarningFor({ id, type: classOf(this), key }, duplicates)
      if (!warning) continue
      drawNote(ctx, this, warning, '#f66')
      break
    }
    return r
  }
  const removed = proto.onRemoved
  proto.onRemoved = function (...rest) {
    const r = removed?.apply(this, rest)
    queueMicrotask(refreshDuplicates)
    return r
  }
}

/** Called for every new node instance: re-check whenever its key widget changes. */
export function watchKeyWidget(node: NodeLike) {
  const key = widget(node, 'key')
  if (!key) return
  const callback = key.callback
  key.callback = function (this: unknown, ...args: unknown[]) {
    const r = callback?.apply(this, args)
    refreshDuplicates()
    return r
  }
  queueMicrotask(refreshDuplicates)
}

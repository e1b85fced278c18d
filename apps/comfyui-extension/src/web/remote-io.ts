import { app } from './comfy.js'
import { type DuplicateKey, duplicateWarningFor, findDuplicateKeys } from './duplicates.js'
import { rootGraph } from './graph.js'
import { classOf, drawNote, graphNodes, type NodeLike, widget } from './node-types.js'
import { NODE_IDS } from './slots.js'
import { toast } from './toast.js'

let duplicates: DuplicateKey[] = []
let lastWarned = ''

/** Recomputes duplicate Remote Input/Output keys over the whole graph; toasts once per new problem. */
export function refreshDuplicates() {
  const nodes = graphNodes(rootGraph())
    .filter((n) => classOf(n) === NODE_IDS.input || classOf(n) === NODE_IDS.output)
    .map((n) => ({
      id: n.id,
      type: classOf(n),
      key: String(widget(n, 'key')?.value ?? ''),
      mode: n.mode ?? 0,
    }))
  duplicates = findDuplicateKeys(nodes)
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
    const warning = duplicateWarningFor(
      { id: this.id, type: classOf(this), key: String(widget(this, 'key')?.value ?? '') },
      duplicates,
    )
    if (warning) drawNote(ctx, this, warning, '#f66')
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

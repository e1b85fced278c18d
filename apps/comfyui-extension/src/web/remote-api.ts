import { api, app } from './comfy.js'
import { clipLine, formatProgress, routeFailure } from './format.js'
import { nodeByExecutionId } from './graph.js'
import { tidyLegacyAutogrow } from './legacy-autogrow.js'
import { classOf, drawNote, type NodeLike, type SlotLike, widget } from './node-types.js'
import { inputNamesText, parseEndpointSchema, planRemoteInputs } from './schema-plan.js'
import { NODE_IDS } from './slots.js'
import { toast } from './toast.js'

/**
 * Latest status text per Remote API node (from progress_text / progress websocket messages). Keyed by the
 * node object: a node inside a subgraph can have the same local id as a root node.
 */
const statusByNode = new Map<NodeLike, string>()
/** The last progress_text per node: the frontend shows it itself (a text-preview widget), so it is not drawn twice. */
const progressTextByNode = new Map<NodeLike, string>()
/** "failed: <reason>" for nodes whose run failed (execution_error), drawn until the next run starts. */
const failureByNode = new Map<NodeLike, string>()

/** The Remote API node an execution id names (`"7"`, or `"12:7"` inside a subgraph), else null. */
function remoteApiNode(nodeId: unknown): NodeLike | null {
  const node = nodeByExecutionId(nodeId)
  return node && classOf(node) === NODE_IDS.api ? node : null
}

function setStatus(node: NodeLike, text: string) {
  statusByNode.set(node, clipLine(text, 80))
  node.setDirtyCanvas?.(true, false)
}

/** New progress numbers, keeping the last progress_text message after them. */
function setProgress(node: NodeLike, value: number, max: number) {
  const message = (statusByNode.get(node) ?? '').replace(/^\d+%( \(\d+\/\d+\))?( - )?/, '')
  setStatus(node, formatProgress(value, max, message))
}

/** Subscribes to ComfyUI's progress messages once (called from the extension's setup). */
export function listenForRemoteStatus() {
  const target = api as unknown as EventTarget
  // progress_text: {nodeId, text} decoded from the binary frame (type 3) by api.ts.
  target.addEventListener('progress_text', (e) => {
    const d = (e as CustomEvent).detail as { nodeId?: unknown; text?: unknown } | null | undefined
    const node = remoteApiNode(d?.nodeId)
    if (node && typeof d?.text === 'string') {
      progressTextByNode.set(node, d.text)
      setStatus(node, d.text)
    }
  })
  // execution_error: {prompt_id, node_id, node_type, exception_message, ...} for the node that raised.
  target.addEventListener('execution_error', (e) => {
    const d = (e as CustomEvent).detail as { node_id?: unknown; exception_message?: unknown } | null
    const node = remoteApiNode(d?.node_id)
    if (!node) return
    failureByNode.set(node, clipLine(failureText(d?.exception_message), 80))
    node.setDirtyCanvas?.(true, false)
  })
  // progress: the server's {value, max, prompt_id, node} as it came over the websocket.
  target.addEventListener('progress', (e) => {
    const d = (e as CustomEvent).detail as
      | { node?: unknown; value?: unknown; max?: unknown }
      | null
      | undefined
    if (!d || typeof d.value !== 'number' || typeof d.max !== 'number') return
    const node = remoteApiNode(d.node)
    if (!node) return
    setProgress(node, d.value, d.max)
  })
  // progress_state: {prompt_id, nodes: {id: {value, max, state, node_id, display_node_id, ...}}}. Newer
  // ComfyUI sends only this for execution.set_progress (no legacy `progress`); running entries count.
  target.addEventListener('progress_state', (e) => {
    const nodes = ((e as CustomEvent).detail as { nodes?: unknown } | null | undefined)?.nodes
    if (typeof nodes !== 'object' || nodes === null) return
    for (const entry of Object.values(nodes as Record<string, Record<string, unknown>>)) {
      if (entry?.state !== 'running' || typeof entry.value !== 'number' || typeof entry.max !== 'number')
        continue
      const node = remoteApiNode(entry.display_node_id) ?? remoteApiNode(entry.node_id)
      if (!node) continue
      setProgress(node, entry.value, entry.max)
    }
  })
  target.addEventListener('execution_start', () => {
    statusByNode.clear()
    progressTextByNode.clear()
    failureByNode.clear()
  })
}

/** `failed: <first line of the error>` (the node's exception message starts with its [CODE]). */
export function failureText(message: unknown): string {
  const line = typeof message === 'string' ? (message.split('\n').find((l) => l.trim()) ?? '') : ''
  return `failed: ${line.trim() || 'see the ComfyUI console'}`
}

/**
 * Whether the frontend already shows this node's progress text (current and 1.2x frontends put each
 * progress_text into a text-preview widget on the node); then the pack draws no second copy.
 */
function frontendShowsText(node: NodeLike): boolean {
  const text = progressTextByNode.get(node)
  return text !== undefined && (node.widgets ?? []).some((w) => w.value === text)
}

/** What the pack draws under a Remote API node: a failure, else the live status the frontend does not show. */
export function statusLine(node: NodeLike): { text: string; color: string } | null {
  const failure = failureByNode.get(node)
  if (failure) return { text: failure, color: '#f66' }
  const text = statusByNode.get(node)
  if (!text || frontendShowsText(node)) return null
  return { text, color: '#9ad' }
}

/** Applies an endpoint's /schema to the node: typed, named inputs (k-th slot = k-th declared input). */
export async function loadInputsFromEndpoint(node: NodeLike): Promise<void> {
  const url = String(widget(node, 'url')?.value ?? '').trim()
  if (!url) {
    toast('warn', 'Remote API', 'Set "Remote URL" first, then load its inputs.')
    return
  }
  const token = String(widget(node, 'token')?.value ?? '').trim()
  const query = new URLSearchParams({ url })
  if (token) query.set('token', token)
  let body: unknown
  try {
    const res = await api.fetchApi(`/comfy-remote/schema?${query}`)
    body = await res.json().catch(() => ({
      error: {
        code: `HTTP_${res.status}`,
        message: routeFailure('/comfy-remote/schema', res.status, res.statusText),
      },
    }))
  } catch (error) {
    toast('error', 'Remote API', `Could not reach the ComfyUI server: ${String(error)}`)
    return
  }
  let plan: ReturnType<typeof planRemoteInputs>
  try {
    const schema = parseEndpointSchema(body)
    const slots = (node.inputs ?? []).map((s: SlotLike) => ({
      name: s.name,
      type: String(s.type),
      linked: s.link != null,
    }))
    plan = planRemoteInputs(schema, slots)
  } catch (error) {
    toast('error', 'Remote API: /schema failed', (error as Error).message)
    return
  }
  for (const change of plan.changes) {
    let slot = node.inputs?.find((s) => s.name === change.slotName)
    if (!slot && node.addInput) {
      node.addInput(change.slotName, change.type)
      slot = node.inputs?.find((s) => s.name === change.slotName)
    }
    if (!slot) continue
    slot.label = change.label
    slot.type = change.type
  }
  node.properties = { ...(node.properties ?? {}), 'comfyRemote.inputNames': plan.inputNames }
  const namesWidget = widget(node, 'input_names')
  if (namesWidget) {
    namesWidget.value = inputNamesText(plan.inputNames)
    namesWidget.callback?.(namesWidget.value)
  }
  tidyLegacyAutogrow(node) // old frontends: order and show the named slots (no-op elsewhere)
  node.setDirtyCanvas?.(true, true)
  const summary = plan.inputNames.length ? `Inputs: ${plan.inputNames.join(', ')}` : 'No inputs declared.'
  toast(
    plan.warnings.length ? 'warn' : 'success',
    'Remote API inputs loaded',
    [summary, ...plan.warnings].join('\n'),
  )
}

type Proto = {
  onDrawForeground?: (this: NodeLike, ctx: CanvasRenderingContext2D, ...rest: unknown[]) => unknown
  getExtraMenuOptions?: (this: NodeLike, canvas: unknown, options: unknown[]) => unknown
}

/** Patches the Remote API node class: status line under the node, "Load inputs from endpoint" menu item. */
export function patchRemoteApiNode(nodeType: { prototype: unknown }) {
  const proto = nodeType.prototype as Proto
  const draw = proto.onDrawForeground
  proto.onDrawForeground = function (ctx, ...rest) {
    const r = draw?.call(this, ctx, ...rest)
    const line = statusLine(this)
    if (line) drawNote(ctx, this, line.text, line.color)
    return r
  }
  const menu = proto.getExtraMenuOptions
  proto.getExtraMenuOptions = function (canvas, options) {
    const r = menu?.call(this, canvas, options)
    options.push({ content: 'Load inputs from endpoint', callback: () => void loadInputsFromEndpoint(this) })
    return r
  }
}

/** The Remote API nodes selected on the canvas (`selectedItems` on current frontends, `selected_nodes` before). */
export function selectedRemoteApiNodes(): NodeLike[] {
  const canvas = (app as unknown as { canvas?: { selectedItems?: Set<unknown>; selected_nodes?: object } })
    .canvas
  const items = canvas?.selectedItems
    ? [...canvas.selectedItems]
    : Object.values((canvas?.selected_nodes ?? {}) as Record<string, unknown>)
  return items.filter(
    (n): n is NodeLike => typeof n === 'object' && n !== null && classOf(n as NodeLike) === NODE_IDS.api,
  )
}

/**
 * Command "Load inputs from endpoint" for the selected Remote API node(s): the same action as the node
 * menu item, reachable from the command palette and the selection toolbox (where node menus differ).
 */
export async function loadInputsForSelection(): Promise<void> {
  const nodes = selectedRemoteApiNodes()
  if (nodes.length === 0) {
    toast('warn', 'Remote API', 'Select a Remote API node first, then load its inputs.')
    return
  }
  for (const node of nodes) await loadInputsFromEndpoint(node)
}

import { annotateAppMode } from './app-mode-read.js'
import { withRemoteNodes } from './remote-nodes.js'
import type { ApiNode, ApiPrompt, ObjectInfo, ObjectInfoEntry } from './types.js'
import { compareNodeIds, isRecord } from './types.js'
import type { UiNode, UiWorkflow } from './ui-graph.js'
import { MODE_BYPASSED, MODE_MUTED, SUBGRAPH_INPUT_ID, UiGraph } from './ui-graph.js'

const WIDGET_TYPES = new Set(['INT', 'FLOAT', 'STRING', 'BOOLEAN', 'COMBO'])
/** Values of the hidden "control after generate" widget the editor stores after seed-like widgets. */
export const CONTROL_VALUES = new Set(['fixed', 'increment', 'decrement', 'randomize', 'increment-wrap'])

interface WidgetSlot {
  name: string
  control: boolean
}

/** The widgets a node class shows, in the order the editor stores their values. */
export function widgetSlots(info: ObjectInfoEntry): WidgetSlot[] {
  const required = info.input.required ?? {}
  const optional = info.input.optional ?? {}
  const order = [
    ...(info.input_order?.required ?? Object.keys(required)),
    ...(info.input_order?.optional ?? Object.keys(optional)),
  ]
  const slots: WidgetSlot[] = []
  for (const name of order) {
    const spec = required[name] ?? optional[name]
    if (!Array.isArray(spec)) continue
    const [type, rawOptions] = spec
    const options = isRecord(rawOptions) ? rawOptions : {}
    if (options.forceInput === true) continue
    const combo = Array.isArray(type) || type === 'COMBO'
    if (!combo && !(typeof type === 'string' && WIDGET_TYPES.has(type))) continue
    const seedLike = type === 'INT' && (name === 'seed' || name === 'noise_seed')
    slots.push({ name, control: options.control_after_generate === true || seedLike })
  }
  return slots
}

function widgetInputs(node: UiNode, info: ObjectInfoEntry): Record<string, unknown> {
  const values = node.widgets_values
  const inputs: Record<string, unknown> = {}
  if (isRecord(values)) {
    for (const slot of widgetSlots(info)) if (slot.name in values) inputs[slot.name] = values[slot.name]
    return inputs
  }
  if (!Array.isArray(values)) return inputs
  let i = 0
  for (const slot of widgetSlots(info)) {
    if (i >= values.length) break
    inputs[slot.name] = values[i++]
    const next = values[i]
    if (
      typeof next === 'string' &&
      CONTROL_VALUES.has(next) &&
      (slot.control || typeof values[i - 1] === 'number')
    )
      i++
  }
  return inputs
}

type Source = { link: [string, number] } | { value: unknown } | undefined

function typesCompatible(a: string | undefined, b: string | undefined): boolean {
  return a === undefined || b === undefined || a === '*' || b === '*' || a === b
}

/** A subgraph input with no outer link: the value of the instance's promoted widget, if any. */
function promotedWidget(instance: UiNode, slot: number): Source {
  const input = instance.inputs?.[slot]
  const values = instance.widgets_values
  if (!input?.widget || !Array.isArray(values)) return undefined
  const index = (instance.inputs ?? []).slice(0, slot).filter((i) => i.widget).length
  return index < values.length ? { value: values[index] } : undefined
}

function resolve(graph: UiGraph, scope: string, linkId: number, seen: Set<string> = new Set()): Source {
  const link = graph.link(scope, linkId)
  const key = `${scope}#${linkId}`
  if (!link || seen.has(key)) return undefined
  seen.add(key)
  if (link.originId === SUBGRAPH_INPUT_ID) {
    const instance = scope ? graph.nodes.get(scope) : undefined
    if (!instance) return undefined
    const outer = instance.node.inputs?.[link.originSlot]?.link
    return outer == null
      ? promotedWidget(instance.node, link.originSlot)
      : resolve(graph, instance.scope, outer, seen)
  }
  const placed = graph.node(scope, link.originId)
  const origin = placed.node
  if (origin.mode === MODE_MUTED) return undefined
  if (origin.type === 'Reroute') {
    const upstream = origin.inputs?.[0]?.link
    return upstream == null ? undefined : resolve(graph, scope, upstream, seen)
  }
  if (origin.type === 'PrimitiveNode') {
    const values = origin.widgets_values
    return Array.isArray(values) && values.length > 0 ? { value: values[0] } : undefined
  }
  if (origin.mode === MODE_BYPASSED) {
    const type = origin.outputs?.[link.originSlot]?.type ?? link.type
    const inputs = origin.inputs ?? []
    const same = inputs[link.originSlot]
    const pick =
      same && same.link != null && typesCompatible(same.type, type)
        ? same
        : inputs.find((input) => input.link != null && input.type === type)
    return pick?.link == null ? undefined : resolve(graph, scope, pick.link, seen)
  }
  if (placed.subgraph) {
    const inner = graph.subgraphOutputLink(placed.path, link.originSlot)
    return inner === undefined ? undefined : resolve(graph, placed.path, inner, seen)
  }
  return { link: [placed.path, link.originSlot] }
}

export interface ToApiPromptOptions {
  /** Told about App Mode entries (`extra.linearData`) that no longer resolve; default console.warn. */
  onWarning?: (message: string) => void
}

/**
 * Convert a UI-format workflow (what the editor saves) to an API prompt, as the editor's "Export (API)"
 * does, using a server's `/object_info` (the comfy-remote nodes are merged in). Muted and bypassed nodes
 * are dropped (a bypassed node's consumers get its input of the same type), links pass through reroutes,
 * primitive nodes' values go into the inputs they feed, subgraphs are flattened with the editor's ids
 * ("<instance id>:<inner id>"). Unsupported content is a WorkflowConversionError naming the node.
 * App Mode marks (`extra.linearData`) are kept in the nodes' `_meta.comfy_remote_app` (name -> node
 * input), which describeWorkflow / injectInputs / collectOutputs read; ComfyUI ignores `_meta`.
 */
export function toApiPrompt(
  uiWorkflow: UiWorkflow,
  objectInfo: ObjectInfo,
  options: ToApiPromptOptions = {},
): ApiPrompt {
  const info = withRemoteNodes(objectInfo)
  const graph = new UiGraph(uiWorkflow)
  graph.checkSupported(info)
  const prompt: ApiPrompt = {}
  const placed = graph.executable().sort((a, b) => compareNodeIds(a.path, b.path))
  for (const { path: id, scope, node } of placed) {
    const entry = info[node.type]!
    const inputs = widgetInputs(node, entry)
    for (const input of node.inputs ?? []) {
      if (input.link == null) continue
      const source = resolve(graph, scope, input.link)
      const name = input.widget?.name ?? input.name
      if (source && 'link' in source) inputs[name] = source.link
      else if (source) inputs[name] = source.value
    }
    const apiNode: ApiNode = {
      inputs,
      class_type: node.type,
      _meta: { title: node.title ?? entry.display_name ?? node.type },
    }
    prompt[id] = apiNode
  }
  annotateAppMode(uiWorkflow, graph, prompt, info, options.onWarning ?? ((m) => console.warn(m)))
  return prompt
}

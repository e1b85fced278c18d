import { inputType } from './prompt.js'
import type { ApiPrompt, ObjectInfo } from './types.js'
import { isRecord } from './types.js'
import type { PlacedNode, UiGraph, UiWorkflow } from './ui-graph.js'
import { SUBGRAPH_INPUT_ID } from './ui-graph.js'

/** Key under an API node's `_meta` that carries its App Mode marks (ComfyUI ignores `_meta`). */
export const APP_META_KEY = 'comfy_remote_app'

/** What a ComfyUI upload widget (LoadImage `image`, LoadAudio `audio`, LoadVideo `file`) takes. */
export type UploadKind = 'image' | 'audio' | 'video'

/** One App Mode input mark on one API node input (a promoted widget can feed several). */
export interface AppInputMeta {
  name: string
  /** The API node input the value goes into (the widget's name). */
  input: string
  /** Position in `linearData.inputs` (the order the user sees). */
  order: number
  /** ComfyUI type of the widget (IMAGE/AUDIO/VIDEO for upload widgets), from the object_info used. */
  type?: string
  description?: string
  upload?: UploadKind
}

export interface AppOutputMeta {
  name: string
  order: number
  /** ComfyUI type the output node saves (IMAGE for SaveImage), from the object_info used. */
  type?: string
}

export interface AppNodeMeta {
  inputs?: AppInputMeta[]
  output?: AppOutputMeta
}

interface Target {
  path: string
  input: string
}

export const UPLOAD_TYPES: Record<UploadKind, string> = { image: 'IMAGE', audio: 'AUDIO', video: 'VIDEO' }
const WIDGET_ID = /^[^:]+:[^:]+:[^:]+$/
const MAX_DEPTH = 16

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment)
  } catch {
    return segment
  }
}

/** A schema name from a widget or input name: letters, digits and `_` only. */
export function appModeName(raw: string): string {
  const cleaned = raw
    .replace(/#\d+$/, '')
    .replace(/[^A-Za-z0-9_]+/g, '_')
    .replace(/^_+|_+$/g, '')
  return cleaned === '' ? 'input' : /^\d/.test(cleaned) ? `_${cleaned}` : cleaned
}

function proxyWidgets(node: PlacedNode): Array<[string, string]> {
  const props = (node.node as { properties?: unknown }).properties
  const list = isRecord(props) ? props.proxyWidgets : undefined
  if (!Array.isArray(list)) return []
  return list
    .filter((e): e is [unknown, unknown] => Array.isArray(e) && e.length >= 2)
    .map(([id, name]) => [String(id), String(name)] as [string, string])
}

/** Resolves linearData entries against the flattened workflow and the API prompt made from it. */
class Resolver {
  constructor(
    private readonly graph: UiGraph,
    private readonly prompt: ApiPrompt,
    private readonly info: ObjectInfo,
  ) {}

  private rootInstances(): PlacedNode[] {
    return [...this.graph.nodes.values()].filter((p) => p.scope === '' && p.subgraph)
  }

  /** Inner (path, input) pairs a subgraph instance's input `name` feeds, through nested subgraphs. */
  promoted(instancePath: string, name: string, depth = 0): Target[] {
    const placed = this.graph.nodes.get(instancePath)
    if (!placed?.subgraph || depth > MAX_DEPTH) return []
    const slots = placed.node.inputs ?? []
    let slot = slots.findIndex((i) => i.name === name)
    if (slot < 0) slot = slots.findIndex((i) => i.widget?.name === name)
    const found: Target[] = []
    if (slot >= 0) {
      for (const link of this.graph.linksFrom(instancePath, SUBGRAPH_INPUT_ID, slot)) {
        const inner = this.graph.nodes.get(`${instancePath}:${link.targetId}`)
        const input = inner?.node.inputs?.[link.targetSlot]
        if (!inner || !input) continue
        if (inner.subgraph) found.push(...this.promoted(inner.path, input.name, depth + 1))
        else found.push({ path: inner.path, input: input.widget?.name ?? input.name })
      }
    }
    for (const [id, widget] of proxyWidgets(placed)) {
      if (widget === name) found.push({ path: `${instancePath}:${id}`, input: widget })
    }
    return found
  }

  private onRootNode(nodeId: string, name: string): Target[] | string {
    const placed = this.graph.nodes.get(nodeId)
    if (!placed) return `node ${nodeId} is not in the workflow (deleted?)`
    if (placed.subgraph) {
      const targets = this.promoted(nodeId, name)
      return targets.length > 0 ? targets : `subgraph node ${nodeId} has no promoted widget "${name}"`
    }
    if (placed.node.type === 'PrimitiveNode') {
      const targets = this.graph.linksFrom('', nodeId, 0).flatMap((link) => {
        const input = this.graph.nodes.get(link.targetId)?.node.inputs?.[link.targetSlot]
        return input ? [{ path: link.targetId, input: input.widget?.name ?? input.name }] : []
      })
      return targets.length > 0 ? targets : `primitive node ${nodeId} is not connected`
    }
    return [{ path: nodeId, input: name }]
  }

  private inSubgraph(uuid: string | undefined, localId: string, name: string): Target[] | string {
    const instances = this.rootInstances().filter((p) => uuid === undefined || p.node.type === uuid)
    const promoted = instances.flatMap((inst) =>
      (inst.node.inputs ?? [])
        .filter((i) => i.widget)
        .map((i) => this.promoted(inst.path, i.name))
        .filter((ts) => ts.some((t) => t.path.endsWith(`:${localId}`) && t.input === name)),
    )
    if (promoted.length === 1) return promoted[0]!
    const direct = instances
      .map((inst) => `${inst.path}:${localId}`)
      .filter((path) => this.graph.nodes.has(path) && (!this.prompt[path] || this.nodeHas(path, name)))
    if (promoted.length > 1 || direct.length > 1)
      return `node ${localId} is inside a subgraph used ${Math.max(promoted.length, direct.length)} times; mark the widget on the subgraph node instead`
    if (direct.length === 1) return [{ path: direct[0]!, input: name }]
    return `node ${localId} is not in the workflow (deleted?)`
  }

  private locate(id: unknown, name: string): Target[] | string {
    if (typeof id === 'string' && WIDGET_ID.test(id)) {
      const [, node, widget] = id.split(':')
      return this.onRootNode(decode(node!), decode(widget!))
    }
    if (typeof id === 'string' && id.includes(':')) {
      const colon = id.indexOf(':')
      const uuid = id.slice(0, colon)
      const local = id.slice(colon + 1)
      const host = this.graph.nodes.get(local)
      if (host?.subgraph) {
        const targets = this.promoted(local, name)
        if (targets.length > 0) return targets
      }
      return this.inSubgraph(uuid, local, name)
    }
    if (typeof id === 'number' || (typeof id === 'string' && /^-?\d+$/.test(id))) {
      const nodeId = String(id)
      const root = this.graph.nodes.get(nodeId)
      if (root && (root.subgraph || root.node.type === 'PrimitiveNode' || this.nodeHas(nodeId, name)))
        return this.onRootNode(nodeId, name)
      // widgets promoted out of a subgraph store the inner node's local id
      const inner = this.inSubgraph(undefined, nodeId, name)
      return typeof inner === 'string' && root ? this.onRootNode(nodeId, name) : inner
    }
    return `id ${JSON.stringify(id)} is neither a node id, a widget id nor a node locator`
  }

  /** Targets that became API nodes having that input; else why not. */
  input(id: unknown, name: string): Target[] | string {
    const located = this.locate(id, name)
    if (typeof located === 'string') return located
    const problems: string[] = []
    const ok = located.filter((t) => {
      const node = this.prompt[t.path]
      if (!node) {
        problems.push(`node ${t.path} is muted, bypassed or not executable`)
        return false
      }
      if (!this.nodeHas(t.path, t.input)) {
        problems.push(`node ${t.path} (${node.class_type}) has no widget "${t.input}"`)
        return false
      }
      return true
    })
    return ok.length > 0 ? ok : problems.join('; ')
  }

  private nodeHas(path: string, name: string): boolean {
    const node = this.prompt[path]
    return Boolean(node && (name in (node.inputs ?? {}) || this.hasInput(node.class_type, name)))
  }

  private hasInput(cls: string, name: string): boolean {
    const spec = this.info[cls]?.input
    return Boolean(spec?.required?.[name] ?? spec?.optional?.[name])
  }

  output(id: unknown): string[] | string {
    if (typeof id !== 'number' && typeof id !== 'string') return `id ${JSON.stringify(id)} is not a node id`
    const nodeId = String(id)
    const placed = this.graph.nodes.get(nodeId)
    let paths: string[]
    if (placed?.subgraph) {
      paths = Object.keys(this.prompt).filter(
        (p) => p.startsWith(`${nodeId}:`) && this.info[this.prompt[p]!.class_type]?.output_node === true,
      )
    } else if (placed) paths = [nodeId]
    else
      paths = this.rootInstances()
        .map((inst) => `${inst.path}:${nodeId}`)
        .filter((p) => this.graph.nodes.has(p))
    if (paths.length === 0) return `node ${nodeId} is not in the workflow (deleted?)`
    const live = paths.filter((p) => this.prompt[p])
    if (live.length === 0) return `node ${paths.join(', ')} is muted or bypassed`
    const outputs = live.filter((p) => this.info[this.prompt[p]!.class_type]?.output_node !== false)
    if (outputs.length === 0)
      return `node ${live.join(', ')} (${this.prompt[live[0]!]!.class_type}) is not an output node`
    return outputs
  }
}

function uploadKind(info: ObjectInfo, cls: string, input: string): UploadKind | undefined {
  const spec = info[cls]?.input.required?.[input] ?? info[cls]?.input.optional?.[input]
  const options = Array.isArray(spec) && isRecord(spec[1]) ? spec[1] : {}
  if (options.image_upload === true) return 'image'
  if (options.audio_upload === true) return 'audio'
  if (options.video_upload === true) return 'video'
  return undefined
}

/** Name of an output node's result: its first linked (non-widget) input, e.g. `images`, `video`, `audio`. */
export function outputBaseName(info: ObjectInfo, cls: string): string {
  const required = info[cls]?.input.required ?? {}
  const order = info[cls]?.input_order?.required ?? Object.keys(required)
  for (const name of order) {
    const type = required[name]?.[0]
    if (typeof type === 'string' && !['INT', 'FLOAT', 'STRING', 'BOOLEAN', 'COMBO'].includes(type))
      return name
  }
  return 'output'
}

function uniqueNames<T extends { base: string; id: string }>(items: T[]): Array<T & { name: string }> {
  const counts = new Map<string, number>()
  for (const item of items) counts.set(item.base, (counts.get(item.base) ?? 0) + 1)
  const used = new Set<string>()
  return items.map((item) => {
    let name =
      (counts.get(item.base) ?? 0) > 1 ? `${item.base}_${item.id.replace(/[^A-Za-z0-9]+/g, '_')}` : item.base
    for (let i = 2; used.has(name); i++) name = `${item.base}_${i}`
    used.add(name)
    return { ...item, name }
  })
}

function metaOf(prompt: ApiPrompt, path: string): AppNodeMeta {
  const node = prompt[path]!
  node._meta = { ...(node._meta ?? {}) }
  const meta = (isRecord(node._meta[APP_META_KEY]) ? node._meta[APP_META_KEY] : {}) as AppNodeMeta
  node._meta[APP_META_KEY] = meta
  return meta
}

/** `extra.linearData` of a UI workflow, when it has App Mode marks. */
export function linearDataOf(workflow: UiWorkflow): { inputs: unknown[]; outputs: unknown[] } | undefined {
  const data = isRecord(workflow.extra) ? workflow.extra.linearData : undefined
  if (!isRecord(data)) return undefined
  return {
    inputs: Array.isArray(data.inputs) ? data.inputs : [],
    outputs: Array.isArray(data.outputs) ? data.outputs : [],
  }
}

/**
 * Write a UI workflow's App Mode marks (`extra.linearData`) into the `_meta` of the API prompt's
 * nodes, with unique stable names. Entries that no longer resolve are skipped and reported through
 * `warn` (the editor prunes them the same way). Mutates `prompt` (freshly made by toApiPrompt).
 */
export function annotateAppMode(
  workflow: UiWorkflow,
  graph: UiGraph,
  prompt: ApiPrompt,
  info: ObjectInfo,
  warn: (message: string) => void,
): void {
  const data = linearDataOf(workflow)
  if (!data) return
  const resolver = new Resolver(graph, prompt, info)
  const inputs: Array<{ base: string; id: string; order: number; targets: Target[]; description?: string }> =
    []
  const seen = new Set<string>()
  data.inputs.forEach((entry, order) => {
    if (!Array.isArray(entry) || typeof entry[1] !== 'string') {
      warn(
        `App Mode input ${order}: expected [id, widgetName, config?], got ${JSON.stringify(entry)}; skipped`,
      )
      return
    }
    const [id, widget, config] = entry as [unknown, string, unknown]
    const targets = resolver.input(id, widget)
    if (typeof targets === 'string') {
      warn(`App Mode input ${order} (${JSON.stringify(id)}, "${widget}"): ${targets}; skipped`)
      return
    }
    const key = targets.map((t) => `${t.path}/${t.input}`).join(',')
    if (seen.has(key)) {
      warn(`App Mode input ${order} (${JSON.stringify(id)}, "${widget}") repeats an earlier input; skipped`)
      return
    }
    seen.add(key)
    const description =
      isRecord(config) && typeof config.description === 'string' ? config.description : undefined
    const label = WIDGET_ID.test(String(id)) ? decode(String(id).split(':')[2]!) : widget
    inputs.push({ base: appModeName(label), id: targets[0]!.path, order, targets, description })
  })
  for (const input of uniqueNames(inputs)) {
    for (const t of input.targets) {
      const meta = metaOf(prompt, t.path)
      const mark: AppInputMeta = { name: input.name, input: t.input, order: input.order }
      if (input.description !== undefined) mark.description = input.description
      const cls = prompt[t.path]!.class_type
      const upload = uploadKind(info, cls, t.input)
      mark.type = upload ? UPLOAD_TYPES[upload] : inputType(info, cls, t.input)
      if (upload) mark.upload = upload
      meta.inputs = [...(meta.inputs ?? []), mark]
    }
  }
  const outputs: Array<{ base: string; id: string; order: number }> = []
  const seenOutputs = new Set<string>()
  data.outputs.forEach((id, order) => {
    const paths = resolver.output(id)
    if (typeof paths === 'string') {
      warn(`App Mode output ${order} (${JSON.stringify(id)}): ${paths}; skipped`)
      return
    }
    for (const path of paths) {
      if (seenOutputs.has(path)) continue
      seenOutputs.add(path)
      outputs.push({ base: appModeName(outputBaseName(info, prompt[path]!.class_type)), id: path, order })
    }
  })
  for (const output of uniqueNames(outputs)) {
    const cls = prompt[output.id]!.class_type
    const type = inputType(info, cls, outputBaseName(info, cls))
    metaOf(prompt, output.id).output = { name: output.name, order: output.order, type }
  }
}

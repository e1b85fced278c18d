import { describeAppMode, rejectAppModeClashes } from './app-mode-describe.js'
import { WorkflowContractError } from './errors.js'
import {
  consumersOf,
  inputType,
  literalOf,
  nodeInputs,
  outputType,
  parseApiPrompt,
  remoteKey,
  sortedNodeIds,
} from './prompt.js'
import {
  DEFAULT_INPUT_KEY,
  DEFAULT_OUTPUT_KEY,
  REMOTE_INPUT_CLASS,
  REMOTE_OUTPUT_CLASS,
  withRemoteNodes,
} from './remote-nodes.js'
import type { ApiPrompt, ObjectInfo } from './types.js'
import { isLink } from './types.js'

export interface WorkflowInput {
  /** The Remote Input's `key`. */
  name: string
  nodeId: string
  /** ComfyUI type it feeds, `*` when unknown. */
  type: string
  /** False when a fallback is connected (or typed in). */
  required: boolean
  /** The fallback's value when it is a literal (or a primitive node's literal); App Mode: the widget's value. */
  default?: unknown
  /** `app` for an App Mode input (a widget marked in the editor); absent for a Remote Input. */
  source?: 'app'
  /** App Mode: the widget (API input name) the value goes into. */
  input?: string
  /** App Mode: the choices of a combo widget. */
  choices?: unknown[]
  /** App Mode: the description the workflow's author gave the input. */
  description?: string
}

export interface WorkflowOutput {
  name: string
  nodeId: string
  type: string
  /** `app` for an App Mode output node; absent for a Remote Output. */
  source?: 'app'
}

/** The contract of a workflow: what `GET /schema` of a worker reports. */
export interface WorkflowDescription {
  inputs: WorkflowInput[]
  outputs: WorkflowOutput[]
}

function remoteInputType(prompt: ApiPrompt, info: ObjectInfo, id: string, seen: Set<string>): string {
  if (seen.has(id)) return '*'
  seen.add(id)
  for (const [consumer, name] of consumersOf(prompt, id, 0)) {
    const node = prompt[consumer]!
    if (node.class_type === REMOTE_OUTPUT_CLASS || node.class_type === REMOTE_INPUT_CLASS) continue
    const type = inputType(info, node.class_type, name)
    if (type !== '*') return type
  }
  const fallback = nodeInputs(prompt[id]!).fallback
  if (isLink(fallback)) {
    const src = String(fallback[0])
    if (prompt[src]?.class_type === REMOTE_INPUT_CLASS) return remoteInputType(prompt, info, src, seen)
    return outputType(prompt, info, src, fallback[1])
  }
  return '*'
}

function remoteOutputType(prompt: ApiPrompt, info: ObjectInfo, id: string): string {
  const value = nodeInputs(prompt[id]!).value
  if (!isLink(value)) return '*'
  const src = String(value[0])
  const cls = prompt[src]?.class_type
  if (cls === REMOTE_INPUT_CLASS) return remoteInputType(prompt, info, src, new Set())
  if (cls === REMOTE_OUTPUT_CLASS) return remoteOutputType(prompt, info, src)
  return outputType(prompt, info, src, value[1])
}

function fallbackDefault(prompt: ApiPrompt, id: string): { has: boolean; value?: unknown } {
  const inputs = nodeInputs(prompt[id]!)
  if (!('fallback' in inputs) || inputs.fallback === null) return { has: false }
  const literal = literalOf(prompt, inputs.fallback)
  return literal === undefined ? { has: true } : { has: true, value: literal }
}

function rejectDuplicates(kind: string, items: Array<{ name: string; nodeId: string }>): void {
  const byName = new Map<string, string[]>()
  for (const item of items) byName.set(item.name, [...(byName.get(item.name) ?? []), item.nodeId])
  const dups = [...byName].filter(([, ids]) => ids.length > 1)
  if (dups.length === 0) return
  const problems = dups.map(([name, ids]) => `${kind} name "${name}" is used by nodes ${ids.join(', ')}`)
  throw new WorkflowContractError(
    'DUPLICATE_NAME',
    `${problems.join('; ')}: give each ${kind} a unique key`,
    {
      nodeIds: dups.flatMap(([, ids]) => ids),
      problems,
    },
  )
}

/**
 * Read a workflow's contract from its Remote Input / Remote Output nodes, in ascending node-id order,
 * then its App Mode inputs/outputs (kept in `_meta` by toApiPrompt), in the order the editor shows them.
 * With `objectInfo`, types are the ComfyUI types the nodes connect to; without it, `*`.
 */
export function describeWorkflow(prompt: ApiPrompt, objectInfo?: ObjectInfo): WorkflowDescription {
  const checked = parseApiPrompt(prompt)
  const info = objectInfo ? withRemoteNodes(objectInfo) : undefined
  const inputs: WorkflowInput[] = []
  const outputs: WorkflowOutput[] = []
  const unlinked: string[] = []
  for (const id of sortedNodeIds(checked)) {
    const cls = checked[id]!.class_type
    if (cls === REMOTE_INPUT_CLASS) {
      const fallback = fallbackDefault(checked, id)
      const input: WorkflowInput = {
        name: remoteKey(checked, id, DEFAULT_INPUT_KEY),
        nodeId: id,
        type: info ? remoteInputType(checked, info, id, new Set()) : '*',
        required: !fallback.has,
      }
      if (fallback.value !== undefined) input.default = fallback.value
      inputs.push(input)
    } else if (cls === REMOTE_OUTPUT_CLASS) {
      if (!isLink(nodeInputs(checked[id]!).value)) unlinked.push(id)
      outputs.push({
        name: remoteKey(checked, id, DEFAULT_OUTPUT_KEY),
        nodeId: id,
        type: info ? remoteOutputType(checked, info, id) : '*',
      })
    }
  }
  if (unlinked.length > 0) {
    throw new WorkflowContractError(
      'UNLINKED_OUTPUT',
      `Remote Output node(s) ${unlinked.join(', ')} have no linked "value": connect the value to return, or delete the node`,
      { nodeIds: unlinked, problems: unlinked.map((id) => `Remote Output ${id} has no linked value`) },
    )
  }
  rejectDuplicates('Remote Input', inputs)
  rejectDuplicates('Remote Output', outputs)
  const app = describeAppMode(checked, info)
  rejectAppModeClashes('input', inputs, app.inputs)
  rejectAppModeClashes('output', outputs, app.outputs)
  return { inputs: [...inputs, ...app.inputs], outputs: [...outputs, ...app.outputs] }
}

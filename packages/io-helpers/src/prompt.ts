import { InvalidPromptError } from './errors.js'
import type { ApiNode, ApiPrompt, ObjectInfo } from './types.js'
import { compareNodeIds, isLink, isRecord } from './types.js'

/** True when `value` looks like a UI-format workflow (what the editor saves), not an API prompt. */
export function isUiWorkflow(value: unknown): boolean {
  return (
    isRecord(value) && Array.isArray(value.nodes) && (Array.isArray(value.links) || value.links === undefined)
  )
}

/**
 * Check that `value` is an API-format prompt (`{id: {class_type, inputs}}`) and return it typed.
 * Also accepts a `/prompt` request body (`{prompt: {...}}`). Throws InvalidPromptError naming the node.
 */
export function parseApiPrompt(value: unknown): ApiPrompt {
  if (isUiWorkflow(value)) {
    throw new InvalidPromptError(
      'This is a UI-format workflow (it has "nodes" and "links"); convert it with toApiPrompt(workflow, objectInfo) or save it with "Export (API)"',
    )
  }
  let prompt = value
  if (isRecord(prompt) && isRecord(prompt.prompt) && !('class_type' in prompt.prompt)) prompt = prompt.prompt
  if (!isRecord(prompt)) {
    throw new InvalidPromptError('prompt: expected an object of nodes `{"<id>": {class_type, inputs}}`')
  }
  for (const [id, node] of Object.entries(prompt)) {
    if (!isRecord(node))
      throw new InvalidPromptError(`prompt["${id}"]: expected a node object`, { nodeIds: [id] })
    if (typeof node.class_type !== 'string' || node.class_type === '') {
      throw new InvalidPromptError(`prompt["${id}"].class_type: expected a non-empty string`, {
        nodeIds: [id],
      })
    }
    if (node.inputs !== undefined && !isRecord(node.inputs)) {
      throw new InvalidPromptError(`prompt["${id}"].inputs: expected an object`, { nodeIds: [id] })
    }
  }
  return prompt as ApiPrompt
}

/** Node ids of `prompt` in ascending order (numeric ids compared as numbers). */
export function sortedNodeIds(prompt: ApiPrompt): string[] {
  return Object.keys(prompt).sort(compareNodeIds)
}

export function nodeInputs(node: ApiNode): Record<string, unknown> {
  return isRecord(node.inputs) ? node.inputs : {}
}

/** The ComfyUI type produced by output `slot` of node `id`, or `*` when unknown. */
export function outputType(
  prompt: ApiPrompt,
  objectInfo: ObjectInfo | undefined,
  id: string,
  slot: number,
): string {
  const node = prompt[id]
  if (!node || !objectInfo) return '*'
  const info = objectInfo[node.class_type]
  const type = info?.output?.[slot]
  return typeof type === 'string' ? type : Array.isArray(type) ? 'COMBO' : '*'
}

/** The ComfyUI type an input of a class accepts, or `*` when unknown. */
export function inputType(objectInfo: ObjectInfo | undefined, classType: string, name: string): string {
  const info = objectInfo?.[classType]?.input
  const spec = info?.required?.[name] ?? info?.optional?.[name]
  const type = Array.isArray(spec) ? spec[0] : undefined
  return typeof type === 'string' ? type : Array.isArray(type) ? 'COMBO' : '*'
}

/** Every `[consumer id, input name]` whose input links to output `slot` of node `id`. */
export function consumersOf(prompt: ApiPrompt, id: string, slot: number): Array<[string, string]> {
  const found: Array<[string, string]> = []
  for (const consumer of sortedNodeIds(prompt)) {
    const node = prompt[consumer]
    if (!node) continue
    for (const [name, value] of Object.entries(nodeInputs(node))) {
      if (isLink(value) && String(value[0]) === id && value[1] === slot) found.push([consumer, name])
    }
  }
  return found
}

/** Core primitive nodes whose `value` input is their output (PrimitiveString, PrimitiveInt, ...). */
export const PRIMITIVE_CLASSES = new Set([
  'PrimitiveString',
  'PrimitiveStringMultiline',
  'PrimitiveInt',
  'PrimitiveFloat',
  'PrimitiveBoolean',
])

/** The literal an input holds: itself, or the `value` of a primitive node it links to; else undefined. */
export function literalOf(prompt: ApiPrompt, value: unknown): unknown {
  if (!isLink(value)) return value
  const src = prompt[String(value[0])]
  if (!src || !PRIMITIVE_CLASSES.has(src.class_type)) return undefined
  const literal = nodeInputs(src).value
  return isLink(literal) ? undefined : literal
}

/** The `key` of a Remote Input/Output (typed in, or from a primitive node), else the default. */
export function remoteKey(prompt: ApiPrompt, id: string, fallback: string): string {
  const node = prompt[id]
  const key = node ? literalOf(prompt, nodeInputs(node).key) : undefined
  return typeof key === 'string' && key !== '' ? key : fallback
}

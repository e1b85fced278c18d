import type { EncodedValue } from '@comfy-remote/protocol'
import { MockWorkerError } from './errors.js'
import type { WorkflowContract } from './workflow.js'

const ORIGINAL_NAME = /^input_([1-9][0-9]*)$/

/**
 * Map request inputs to Remote Input node ids (App Mode inputs: `app:<name>`): by name, else (original
 * callers) `input_k` to the k-th Remote Input in node-id order. Unknown
 * names and missing required inputs are one BAD_REQUEST listing every problem.
 */
export function resolveInputs(
  contract: WorkflowContract,
  inputs: Record<string, EncodedValue>,
): Map<string, EncodedValue> {
  const byName = new Map(contract.inputs.map((input) => [input.name, input]))
  const resolved = new Map<string, EncodedValue>()
  const sender = new Map<string, string>()
  const problems: string[] = []
  for (const [name, value] of Object.entries(inputs)) {
    let target = byName.get(name)
    if (target === undefined) {
      const match = ORIGINAL_NAME.exec(name)
      if (match !== null) target = contract.inputs[Number(match[1]) - 1]
    }
    if (target === undefined) {
      const known = contract.inputs.map((i) => i.name).join(', ') || '(none)'
      problems.push(`inputs.${name}: unknown input; this workflow accepts: ${known}`)
      continue
    }
    // App Mode inputs can share a node (seed and steps of one KSampler): they are keyed by name
    const key = target.source === 'app' ? `app:${target.name}` : target.nodeId
    const previous = sender.get(key)
    if (previous !== undefined) {
      const what = target.source === 'app' ? 'App Mode input' : 'Remote Input'
      problems.push(
        `inputs.${name}: ${what} "${target.name}" already receives inputs.${previous}; send it once`,
      )
      continue
    }
    sender.set(key, name)
    resolved.set(key, value)
  }
  for (const input of contract.inputs) {
    if (input.required && !resolved.has(input.nodeId)) {
      problems.push(
        `inputs.${input.name}: required input is missing (type ${input.type}); send it in "inputs"`,
      )
    }
  }
  if (problems.length > 0) {
    throw new MockWorkerError('BAD_REQUEST', problems.join('; '), { details: { problems } })
  }
  return resolved
}

import { appModeLiterals, placeAppModeLiterals } from './app-mode-inject.js'
import type { WorkflowInput } from './describe.js'
import { describeWorkflow } from './describe.js'
import { InputMismatchError } from './errors.js'
import type { HandoffOptions, PlannedFile } from './file-handoff.js'
import { planFileHandoff } from './file-handoff.js'
import { parseApiPrompt } from './prompt.js'
import type { ApiPrompt, EncodedValue, ObjectInfo } from './types.js'
import { encodedValueProblem, encodedValueToJson } from './value-json.js'

export interface InjectOptions {
  /** With a server's object_info, a value whose `type` differs from the Remote Input's type is rejected. */
  objectInfo?: ObjectInfo
  /**
   * App Mode upload widgets (LoadImage `image`, ...): the ComfyUI file name each input was uploaded as,
   * by request name (what uploadAppModeInputs returns).
   */
  uploaded?: Record<string, string>
}

function typesMatch(expected: string, actual: string): boolean {
  if (expected === '*' || actual === '*') return true
  const accepted = expected.split(',').map((t) => t.trim())
  return actual.split(',').some((t) => accepted.includes(t.trim()))
}

/** Map request names to inputs: by name, else `input_k` -> the k-th input (Remote Inputs, then App Mode). */
function resolveTargets(
  declared: WorkflowInput[],
  names: string[],
  problems: string[],
): Map<string, WorkflowInput> {
  const byKey = new Map(declared.map((input) => [input.name, input]))
  const targets = new Map<string, WorkflowInput>()
  for (const name of names) {
    let target = byKey.get(name)
    const positional = /^input_([1-9]\d*)$/.exec(name)
    if (!target && positional) target = declared[Number(positional[1]) - 1]
    if (!target) {
      const known = declared.map((i) => `"${i.name}"`).join(', ') || 'none'
      problems.push(`inputs.${name}: no Remote Input or App Mode input has this name (known: ${known})`)
      continue
    }
    const previous = [...targets].find(([, t]) => t === target)
    if (previous) {
      const what = target.source === 'app' ? 'App Mode input' : 'Remote Input'
      problems.push(
        `inputs.${name}: ${what} "${target.name}" already receives inputs.${previous[0]}; send it once`,
      )
      continue
    }
    targets.set(name, target)
  }
  return targets
}

/**
 * Return a NEW prompt with each value placed in its Remote Input's `payload` input (JSON text of the
 * encoded value), or, for an App Mode input, into the widget(s) it marks (upload widgets: see
 * `options.uploaded`). The argument is never mutated. Every problem (unknown name, missing required input,
 * malformed value, type mismatch) is reported at once in one InputMismatchError.
 */
export function injectInputs(
  prompt: ApiPrompt,
  inputs: Record<string, EncodedValue>,
  options: InjectOptions = {},
): ApiPrompt {
  const declared = describeWorkflow(parseApiPrompt(prompt), options.objectInfo).inputs
  const problems: string[] = []
  const targets = resolveTargets(declared, Object.keys(inputs), problems)
  for (const [name, target] of targets) {
    const value = inputs[name]
    const problem = encodedValueProblem(value)
    if (problem) problems.push(`inputs.${name}: ${problem}`)
    else if (target.source === 'app') continue
    else if (!typesMatch(target.type, (value as EncodedValue).type)) {
      problems.push(
        `inputs.${name}: Remote Input "${target.name}" (node ${target.nodeId}) expects ${target.type}, got ${(value as EncodedValue).type}`,
      )
    }
  }
  const valid = new Map([...targets].filter(([name]) => !encodedValueProblem(inputs[name])))
  const literals = appModeLiterals(
    prompt,
    valid,
    inputs,
    options.objectInfo,
    options.uploaded ?? {},
    problems,
  )
  const fed = new Set([...targets.values()].map((t) => t.nodeId))
  for (const input of declared) {
    if (input.required && !fed.has(input.nodeId)) {
      problems.push(`inputs.${input.name}: required (Remote Input node ${input.nodeId} has no fallback)`)
    }
  }
  if (problems.length > 0) {
    throw new InputMismatchError(`Inputs do not match the workflow: ${problems.join('; ')}`, { problems })
  }
  const next = structuredClone(prompt)
  for (const input of declared) {
    if (input.source === 'app') continue
    const node = next[input.nodeId]!
    node.inputs = { ...(node.inputs ?? {}) }
    delete node.inputs.payload
  }
  for (const [name, target] of targets) {
    if (target.source === 'app') continue
    next[target.nodeId]!.inputs.payload = encodedValueToJson(inputs[name] as EncodedValue)
  }
  placeAppModeLiterals(next, targets, literals)
  return next
}

/**
 * `injectInputs`, with every binary leaf of at least `files.minBytes` (64 KiB) moved out of the prompt:
 * the prompt names files (`{"file": {filename, subfolder: "comfy_remote", type}}`) and `files` lists
 * what to upload through ComfyUI's `POST /upload/image` (or write into its folder) before queueing it.
 */
export function injectInputsWithFiles(
  prompt: ApiPrompt,
  inputs: Record<string, EncodedValue>,
  options: InjectOptions & { files: HandoffOptions },
): { prompt: ApiPrompt; files: PlannedFile[] } {
  const counter = { n: 0 }
  const files: PlannedFile[] = []
  const planned: Record<string, EncodedValue> = {}
  for (const [name, value] of Object.entries(inputs)) {
    if (encodedValueProblem(value)) {
      planned[name] = value // injectInputs reports it
      continue
    }
    const plan = planFileHandoff(value, options.files, counter)
    planned[name] = plan.value
    files.push(...plan.files)
  }
  return { prompt: injectInputs(prompt, planned, options), files }
}

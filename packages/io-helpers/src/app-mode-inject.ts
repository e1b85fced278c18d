import type { AppModeInput } from './app-mode.js'
import { appModeOf, comboChoices, widgetLiteral } from './app-mode.js'
import type { WorkflowInput } from './describe.js'
import type { ApiPrompt, EncodedValue, ObjectInfo } from './types.js'
import { isRecord } from './types.js'

/** An App Mode value that needs uploading: a file the upload widget (LoadImage ...) is to load. */
export function needsUpload(input: Pick<AppModeInput, 'upload'>, value: EncodedValue): boolean {
  if (!input.upload) return false
  return !(value.encoding === 'json' && typeof value.data === 'string')
}

/**
 * The literal each App Mode input gets, by request name. Upload widgets take the ComfyUI file name
 * from `uploaded[name]` (see uploadAppModeInputs), or a json string naming a file ComfyUI already has.
 * Problems are pushed as `inputs.<name>: ...`.
 */
export function appModeLiterals(
  prompt: ApiPrompt,
  targets: Map<string, WorkflowInput>,
  inputs: Record<string, EncodedValue>,
  info: ObjectInfo | undefined,
  uploaded: Record<string, string>,
  problems: string[],
): Map<string, unknown> {
  const app = new Map(appModeOf(prompt).inputs.map((i) => [i.name, i]))
  const literals = new Map<string, unknown>()
  for (const [name, target] of targets) {
    if (target.source !== 'app') continue
    const input = app.get(target.name)!
    const value = inputs[name] as EncodedValue
    if (input.upload && needsUpload(input, value)) {
      const file = uploaded[name]
      if (typeof file === 'string') literals.set(name, file)
      else
        problems.push(
          `inputs.${name}: the ${target.type} for node ${target.nodeId} (${prompt[target.nodeId]!.class_type}) must be uploaded to ComfyUI first (uploadAppModeInputs)`,
        )
      continue
    }
    const type = input.upload ? 'STRING' : target.type
    const choices = comboChoices(info, prompt[target.nodeId]!.class_type, target.input ?? '')
    const result = widgetLiteral(value, type, input.upload ? undefined : choices)
    if ('problem' in result)
      problems.push(
        `inputs.${name}: App Mode input "${target.name}" (node ${target.nodeId}) ${result.problem}`,
      )
    else literals.set(name, result.literal)
  }
  return literals
}

/** Put each literal into every (node, input) its App Mode input sets. Mutates `next`. */
export function placeAppModeLiterals(
  next: ApiPrompt,
  targets: Map<string, WorkflowInput>,
  literals: Map<string, unknown>,
): void {
  const app = new Map(appModeOf(next).inputs.map((i) => [i.name, i]))
  for (const [name, literal] of literals) {
    for (const t of app.get(targets.get(name)!.name)!.targets) {
      const node = next[t.nodeId]!
      node.inputs = { ...(isRecord(node.inputs) ? node.inputs : {}), [t.input]: literal }
    }
  }
}

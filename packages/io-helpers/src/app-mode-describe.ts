import { appInputDefault, appInputType, appModeOf, appOutputType, comboChoices } from './app-mode.js'
import type { WorkflowInput, WorkflowOutput } from './describe.js'
import { WorkflowContractError } from './errors.js'
import type { ApiPrompt, ObjectInfo } from './types.js'

/** The App Mode part of a workflow's contract (every input optional: the widget keeps its saved value). */
export function describeAppMode(
  prompt: ApiPrompt,
  info?: ObjectInfo,
): { inputs: WorkflowInput[]; outputs: WorkflowOutput[] } {
  const app = appModeOf(prompt)
  const inputs = app.inputs.map((input) => {
    const first = input.targets[0]!
    const described: WorkflowInput = {
      name: input.name,
      nodeId: first.nodeId,
      type: appInputType(prompt, input, info),
      required: false,
      source: 'app',
      input: first.input,
    }
    const value = appInputDefault(prompt, input)
    if (value !== undefined) described.default = value
    const choices = input.upload
      ? undefined
      : comboChoices(info, prompt[first.nodeId]!.class_type, first.input)
    if (choices) described.choices = choices
    if (input.description !== undefined) described.description = input.description
    return described
  })
  const outputs = app.outputs.map(
    (output): WorkflowOutput => ({
      name: output.name,
      nodeId: output.nodeId,
      type: appOutputType(prompt, output, info),
      source: 'app',
    }),
  )
  return { inputs, outputs }
}

/** A Remote node key that equals an App Mode name: clear error (the Remote node keeps its name). */
export function rejectAppModeClashes(
  kind: 'input' | 'output',
  remote: Array<{ name: string; nodeId: string }>,
  app: Array<{ name: string; nodeId: string }>,
): void {
  const keys = new Map(remote.map((r) => [r.name, r.nodeId]))
  const clashes = app.filter((a) => keys.has(a.name))
  if (clashes.length === 0) return
  const node = kind === 'input' ? 'Remote Input' : 'Remote Output'
  const problems = clashes.map(
    (a) =>
      `App Mode ${kind} "${a.name}" (node ${a.nodeId}) has the name of the ${node} key of node ${keys.get(a.name)}`,
  )
  throw new WorkflowContractError(
    'DUPLICATE_NAME',
    `${problems.join('; ')}: rename the ${node} key, or remove the App Mode mark`,
    { nodeIds: clashes.flatMap((a) => [a.nodeId, keys.get(a.name)!]), problems },
  )
}
